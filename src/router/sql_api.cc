#include "router/sql_api.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/strings.h"
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

namespace {

// One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF,
// or starts or ends with a space; quotes doubled.
void AppendCsvField(std::string& out, std::string_view v) {
  const bool quote = v.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!v.empty() && (v.front() == ' ' || v.back() == ' '));
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string CsvValue(const engine::Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "";
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* u = std::get_if<uint64_t>(&v)) return std::to_string(*u);
  if (auto* d = std::get_if<double>(&v)) {
    if (std::isnan(*d)) return "NaN";
    if (std::isinf(*d)) return *d > 0 ? "Infinity" : "-Infinity";
    return nlohmann::json(*d).dump();  // shortest text that reads back exactly
  }
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* j = std::get_if<engine::Json>(&v)) return j->text;
  return "";
}

}  // namespace

std::string SqlResultCsv(const engine::Table& table) {
  std::string out;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    if (c) out += ',';
    AppendCsvField(out, table.columns[c].name);
  }
  out += "\r\n";
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out += ',';
      AppendCsvField(out, CsvValue(row[c]));
    }
    out += "\r\n";
  }
  return out;
}

void RegisterSqlApi(httplib::Server& server, querier::Querier* querier, const QueryAccess* access) {
  server.Post("/api/v1/sql", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyJsonError(res, ctx.status());
    std::string sql = req.body;
    if (req.get_header_value("Content-Type").find("application/json") != std::string::npos) {
      auto j = nlohmann::json::parse(req.body, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("query") || !j["query"].is_string()) {
        return ReplyJsonError(res, absl::InvalidArgumentError("expected a JSON body {\"query\": \"SELECT ...\"}"));
      }
      sql = j["query"].get<std::string>();
    }
    // Paging and format, from the query string.
    querier::SqlPage page;
    for (auto [name, out] : {std::pair{"limit", &page.limit}, std::pair{"offset", &page.offset}}) {
      if (!req.has_param(name)) continue;
      int64_t v = 0;
      if (!ParseInt(std::string_view(req.get_param_value(name)), &v) || v < 0) {
        return ReplyJsonError(res, absl::InvalidArgumentError(StrCat("invalid ", name, ": ", req.get_param_value(name),
                                                                     " (a non-negative integer)")));
      }
      *out = static_cast<uint64_t>(v);
    }
    std::string format = req.get_param_value("format");
    if (format.empty()) {
      format = req.get_header_value("Accept").find("text/csv") != std::string::npos ? "csv" : "json";
    }
    if (format != "json" && format != "csv") {
      return ReplyJsonError(res, absl::InvalidArgumentError(StrCat("invalid format: ", format, " (json or csv)")));
    }
    auto table = querier->Sql(*ctx, sql, page);
    if (!table.ok()) return ReplyJsonError(res, table.status());
    if (format == "csv") {
      // More rows than returned: the header says where the next page starts.
      if (table->truncated) res.set_header("X-SignalDB-Next-Offset", std::to_string(page.offset + table->rows.size()));
      res.set_content(SqlResultCsv(*table), "text/csv; charset=utf-8");
      return;
    }
    std::string body = SqlResultJson(*table);
    if (table->truncated) {
      // {"columns":…,"rows":…,"truncated":true} + where the next page starts.
      body.pop_back();
      body += StrCat(",\"next_offset\":", page.offset + table->rows.size(), "}");
    }
    res.set_content(body, "application/json");
  });
}

}  // namespace signaldb::router
