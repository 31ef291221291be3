#include "router/tempo_api.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "tempopb/tempo.pb.h"

namespace signaldb::router {
namespace {

constexpr const char* kTempoVersion = "2.10.0";

bool WantsProtobuf(const httplib::Request& req) {
  return req.get_header_value("Accept").find("application/protobuf") != std::string::npos;
}

void ReplyText(httplib::Response& res, int code, const std::string& text) {
  res.status = code;
  res.set_content(text, "text/plain; charset=utf-8");
  res.set_header("X-Content-Type-Options", "nosniff");
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& msg) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;  // jsonpb defaults: camelCase, no defaults
  auto st = google::protobuf::util::MessageToJsonString(msg, &out, opts);
  if (!st.ok()) return absl::InternalError(std::string(st.message()));
  return out;
}

// Parses the optional start/end (unix seconds) and mode parameters.
absl::StatusOr<querier::TimeRange> ParseTraceByIdParams(const httplib::Request& req) {
  querier::TimeRange range;
  int64_t start = 0, end = 0;
  if (req.has_param("start")) {
    if (!ParseInt(std::string_view(req.get_param_value("start")), &start)) {
      return absl::InvalidArgumentError(StrCat("invalid start: ", req.get_param_value("start")));
    }
  }
  if (req.has_param("end")) {
    if (!ParseInt(std::string_view(req.get_param_value("end")), &end)) {
      return absl::InvalidArgumentError(StrCat("invalid end: ", req.get_param_value("end")));
    }
  }
  if (start != 0 && end != 0 && end <= start) {
    return absl::InvalidArgumentError(
        StrCat("http parameter start must be before end. received start=", start, " end=", end));
  }
  if (start != 0) range.start_unix_nano = start * 1000000000LL;
  if (end != 0) range.end_unix_nano = end * 1000000000LL;
  if (req.has_param("mode")) {
    std::string mode = req.get_param_value("mode");
    if (mode != "all" && mode != "ingesters" && mode != "blocks" && mode != "external") {
      return absl::InvalidArgumentError(StrCat("invalid value for mode ", mode));
    }
  }
  return range;
}

absl::StatusOr<opentelemetry::proto::trace::v1::TracesData> Lookup(const httplib::Request& req,
                                                                   querier::Querier* querier) {
  auto id = ParseTempoTraceId(req.matches[1]);
  if (!id.ok()) return id.status();
  auto range = ParseTraceByIdParams(req);
  if (!range.ok()) return range.status();
  return querier->FindTrace(TenantContext{}, *id, *range);
}

void ReplyLookupError(httplib::Response& res, const absl::Status& st) {
  ReplyText(res, st.code() == absl::StatusCode::kInvalidArgument ? 400 : 500, std::string(st.message()));
}

}  // namespace

absl::StatusOr<std::string> ParseTempoTraceId(const std::string& text) {
  std::string hex = text;
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!ok) {
      return absl::InvalidArgumentError(StrCat("trace IDs can only contain hex characters: invalid character '",
                                               c, "' at position ", i + 1));
    }
  }
  if (hex.size() % 2 == 1) hex = "0" + hex;
  if (hex.size() > 32) return absl::InvalidArgumentError("trace IDs can't be larger than 128 bits");
  if (hex.empty()) return absl::InvalidArgumentError("trace ID is empty");
  std::string raw(16 - hex.size() / 2, '\0');
  for (size_t i = 0; i < hex.size(); i += 2) {
    raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return raw;
}

void RegisterTempoApi(httplib::Server& server, const std::string& prefix, querier::Querier* querier) {
  server.Get(prefix + "/api/echo", [](const httplib::Request&, httplib::Response& res) {
    ReplyText(res, 200, "echo\n");
  });

  server.Get(prefix + "/ready", [](const httplib::Request&, httplib::Response& res) {
    ReplyText(res, 200, "ready\n");
  });

  server.Get(prefix + "/api/status/buildinfo", [](const httplib::Request&, httplib::Response& res) {
    nlohmann::ordered_json info = {
        {"version", kTempoVersion},  {"revision", SIGNALDB_GIT_REVISION}, {"branch", "main"},
        {"buildUser", "signaldb"},   {"buildDate", SIGNALDB_BUILD_DATE},  {"goVersion", "signaldb " SIGNALDB_VERSION}};
    res.set_content(info.dump() + "\n", "application/json");
  });

  server.Get(prefix + R"(/api/traces/([^/]+))", [querier](const httplib::Request& req, httplib::Response& res) {
    auto trace = Lookup(req, querier);
    if (!trace.ok()) return ReplyLookupError(res, trace.status());
    if (trace->resource_spans_size() == 0) {
      res.status = 404;
      return;
    }
    tempopb::Trace out;
    out.mutable_resourcespans()->Swap(trace->mutable_resource_spans());
    if (WantsProtobuf(req)) {
      res.set_content(out.SerializeAsString(), "application/protobuf");
      return;
    }
    auto json = ToJson(out);
    if (!json.ok()) return ReplyText(res, 500, std::string(json.status().message()));
    // Tempo's v1 JSON names the top-level list "batches".
    static const std::string kKey = "{\"resourceSpans\":";
    if (StartsWith(*json, kKey)) json->replace(0, kKey.size(), "{\"batches\":");
    res.set_content(*json, "application/json");
  });

  server.Get(prefix + R"(/api/v2/traces/([^/]+))", [querier](const httplib::Request& req, httplib::Response& res) {
    auto trace = Lookup(req, querier);
    if (!trace.ok()) return ReplyLookupError(res, trace.status());
    tempopb::TraceByIDResponse out;
    // Field 1 is always present, even for an unknown trace (Grafana needs it).
    out.mutable_trace()->mutable_resourcespans()->Swap(trace->mutable_resource_spans());
    out.mutable_metrics();
    if (WantsProtobuf(req)) {
      res.set_content(out.SerializeAsString(), "application/protobuf");
      return;
    }
    auto json = ToJson(out);
    if (!json.ok()) return ReplyText(res, 500, std::string(json.status().message()));
    res.set_content(*json, "application/json");
  });
}

}  // namespace signaldb::router
