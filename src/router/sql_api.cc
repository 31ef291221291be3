#include "router/sql_api.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "router/http_util.h"

namespace signaldb::router {

std::string SqlResultJson(const engine::Table& table) {
  nlohmann::json out;
  out["columns"] = nlohmann::json::array();
  for (const auto& c : table.columns) out["columns"].push_back({{"name", c.name}, {"type", c.type}});
  out["rows"] = nlohmann::json::array();
  // 64-bit integers travel as strings (JSON numbers lose precision past 2^53).
  std::vector<bool> as_string;
  for (const auto& c : table.columns) as_string.push_back(c.type == "BIGINT" || c.type == "UBIGINT");
  for (const auto& row : table.rows) {
    nlohmann::json r = nlohmann::json::array();
    for (size_t col = 0; col < row.size(); ++col) {
      const auto& v = row[col];
      if (std::holds_alternative<std::monostate>(v)) r.push_back(nullptr);
      else if (auto* b = std::get_if<bool>(&v)) r.push_back(*b);
      else if (auto* i = std::get_if<int64_t>(&v)) {
        if (as_string[col]) r.push_back(std::to_string(*i));
        else r.push_back(*i);
      }
      else if (auto* u = std::get_if<uint64_t>(&v)) r.push_back(std::to_string(*u));
      else if (auto* d = std::get_if<double>(&v)) {
        if (std::isnan(*d)) r.push_back("NaN");
        else if (std::isinf(*d)) r.push_back(*d > 0 ? "Infinity" : "-Infinity");
        else r.push_back(*d);
      } else if (auto* s = std::get_if<std::string>(&v)) r.push_back(*s);
      else if (auto* j = std::get_if<engine::Json>(&v)) {
        auto parsed = nlohmann::json::parse(j->text, nullptr, false);
        if (parsed.is_discarded()) r.push_back(j->text);
        else r.push_back(std::move(parsed));
      }
    }
    out["rows"].push_back(std::move(r));
  }
  if (table.truncated) out["truncated"] = true;
  // Invalid UTF-8 in stored text is replaced rather than failing the response.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void RegisterSqlApi(httplib::Server& server, querier::Querier* querier) {
  server.Post("/api/v1/sql", [querier](const httplib::Request& req, httplib::Response& res) {
    std::string sql = req.body;
    if (req.get_header_value("Content-Type").find("application/json") != std::string::npos) {
      auto j = nlohmann::json::parse(req.body, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("query") || !j["query"].is_string()) {
        return ReplyJsonError(res, absl::InvalidArgumentError("expected a JSON body {\"query\": \"SELECT ...\"}"));
      }
      sql = j["query"].get<std::string>();
    }
    auto table = querier->Sql(TenantContext{}, sql);
    if (!table.ok()) return ReplyJsonError(res, table.status());
    res.set_content(SqlResultJson(*table), "application/json");
  });
}

}  // namespace signaldb::router
