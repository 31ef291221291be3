#include "router/tempo_api.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <chrono>
#include <optional>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "router/http_util.h"
#include "tempopb/tempo.pb.h"
#include "traceql/lexer.h"
#include "traceql/parser.h"
#include "traceql/validate.h"
#include <re2/re2.h>

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
  constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000LL;
  if (start < 0 || start > kMaxSeconds || end < 0 || end > kMaxSeconds) {
    return absl::InvalidArgumentError(StrCat("invalid start or end: ", start, " ", end, " (unix seconds)"));
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
                                                                   querier::Querier* querier,
                                                                   const TenantContext& ctx) {
  auto id = ParseTempoTraceId(req.matches[1]);
  if (!id.ok()) return id.status();
  auto range = ParseTraceByIdParams(req);
  if (!range.ok()) return range.status();
  return querier->FindTrace(ctx, *id, *range);
}

// Errors as Tempo sends them: plain text, the status the error calls for
// (unsupported query forms are the client's to change: 400).
void ReplyError(httplib::Response& res, const absl::Status& st) {
  const int code = st.code() == absl::StatusCode::kFailedPrecondition ? 400 : HttpStatusFor(st);
  if (code == 429) res.set_header("Retry-After", "1");
  ReplyText(res, code, std::string(st.message()));
}

// A TraceQL string literal holding `text` exactly: the one place text is
// quoted into TraceQL (for the legacy tags parameter).
std::string TraceqlString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// Legacy tag search (`tags=k=v k2="v 2"`, logfmt): every tag must match as
// a case-insensitive substring of the span's or resource's attribute (the
// span name for `name`).
absl::StatusOr<std::string> TagsToTraceql(const std::string& tags) {
  std::vector<std::string> conditions;
  std::set<std::string> keys;
  size_t i = 0;
  auto read = [&](bool value) {
    std::string out;
    if (i < tags.size() && tags[i] == '"') {
      ++i;
      while (i < tags.size() && tags[i] != '"') {
        if (tags[i] == '\\' && i + 1 < tags.size()) ++i;
        out += tags[i++];
      }
      ++i;
      return out;
    }
    while (i < tags.size() && tags[i] != ' ' && (value || tags[i] != '=')) out += tags[i++];
    return out;
  };
  while (i < tags.size()) {
    if (tags[i] == ' ') {
      ++i;
      continue;
    }
    std::string key = read(false);
    if (i >= tags.size() || tags[i] != '=') return absl::InvalidArgumentError(StrCat("invalid tags: tag ", key, " has no value"));
    ++i;
    std::string value = read(true);
    if (!keys.insert(key).second) return absl::InvalidArgumentError(StrCat("invalid tags: tag ", key, " has been set twice"));
    const std::string pattern = TraceqlString(StrCat("(?i).*", RE2::QuoteMeta(value), ".*"));
    if (key == "name") conditions.push_back(StrCat("name =~ ", pattern));
    else conditions.push_back(StrCat(".", TraceqlString(key), " =~ ", pattern));
  }
  return StrCat("{ ", Join(conditions, " && "), " }");
}

absl::StatusOr<uint32_t> UintParam(const httplib::Request& req, const char* name, uint32_t fallback) {
  if (!req.has_param(name)) return fallback;
  int64_t v = 0;
  const std::string text = req.get_param_value(name);
  if (!ParseInt(std::string_view(text), &v) || v < 0 || v > UINT32_MAX) {
    return absl::InvalidArgumentError(StrCat("invalid ", name, ": ", text));
  }
  return static_cast<uint32_t>(v);
}

absl::StatusOr<std::optional<int64_t>> DurationParam(const httplib::Request& req, const char* name) {
  if (!req.has_param(name) || req.get_param_value(name).empty()) return std::optional<int64_t>();
  int64_t ns = 0;
  if (!traceql::ParseDuration(req.get_param_value(name), &ns)) {
    return absl::InvalidArgumentError(StrCat("invalid ", name, ": ", req.get_param_value(name)));
  }
  return std::optional<int64_t>(ns);
}

// GET /api/search: parameters as Tempo reads them, errors as Tempo words them.
absl::StatusOr<tempopb::SearchResponse> Search(const httplib::Request& req, querier::Querier* querier,
                                                const QueryScope& ctx) {
  constexpr uint32_t kMaxLimit = 262144;
  querier::SearchRequest sr;
  ASSIGN_OR_RETURN(sr.limit, UintParam(req, "limit", 20));
  if (sr.limit == 0) return absl::InvalidArgumentError("invalid limit: must be a positive number");
  if (sr.limit > kMaxLimit) return absl::InvalidArgumentError(StrCat("limit ", sr.limit, " exceeds max limit ", kMaxLimit));
  ASSIGN_OR_RETURN(sr.spans_per_spanset, UintParam(req, "spss", 3));
  if (sr.spans_per_spanset == 0) return absl::InvalidArgumentError("invalid spss: must be a positive number");
  ASSIGN_OR_RETURN(uint32_t start, UintParam(req, "start", 0));
  ASSIGN_OR_RETURN(uint32_t end, UintParam(req, "end", 0));
  if ((start != 0 || end != 0) && end <= start) {
    return absl::InvalidArgumentError(
        StrCat("http parameter start must be before end. received start=", start, " end=", end));
  }
  if (start != 0) sr.start_unix_nano = int64_t{start} * 1000000000;
  if (end != 0) sr.end_unix_nano = int64_t{end} * 1000000000;
  int64_t from = sr.start_unix_nano.value_or(0), to = sr.end_unix_nano.value_or(0);
  RETURN_IF_ERROR(LimitRange(ctx.limits, &from, &to));
  if (from != 0) sr.start_unix_nano = from;
  if (to != 0) sr.end_unix_nano = to;
  ASSIGN_OR_RETURN(sr.min_duration_nanos, DurationParam(req, "minDuration"));
  ASSIGN_OR_RETURN(sr.max_duration_nanos, DurationParam(req, "maxDuration"));
  if (sr.min_duration_nanos && sr.max_duration_nanos && *sr.max_duration_nanos <= *sr.min_duration_nanos) {
    return absl::InvalidArgumentError("invalid maxDuration: must be greater than minDuration");
  }
  const bool has_q = req.has_param("q") && !req.get_param_value("q").empty();
  const bool has_tags = req.has_param("tags") && !req.get_param_value("tags").empty();
  if (has_q && has_tags) return absl::InvalidArgumentError("invalid request: can't specify tags and q in the same query");
  std::string text = "{ }";
  if (has_q) {
    text = req.get_param_value("q");
  } else if (has_tags) {
    ASSIGN_OR_RETURN(text, TagsToTraceql(req.get_param_value("tags")));
  }
  auto query = traceql::Parse(text);
  if (!query.ok()) return absl::InvalidArgumentError(StrCat("invalid TraceQL query: ", query.status().message()));
  if (absl::Status st = traceql::Validate(*query); !st.ok()) {
    return absl::InvalidArgumentError(StrCat("invalid TraceQL query: ", st.message()));
  }
  auto found = querier->Search(ctx, *query, sr);
  if (!found.ok() && found.status().code() == absl::StatusCode::kFailedPrecondition) {
    return absl::InvalidArgumentError(std::string(found.status().message()));
  }
  return found;
}

// start/end (unix seconds) of the tag endpoints.
absl::Status TagTimes(const httplib::Request& req, querier::TagsRequest* out) {
  ASSIGN_OR_RETURN(uint32_t start, UintParam(req, "start", 0));
  ASSIGN_OR_RETURN(uint32_t end, UintParam(req, "end", 0));
  if ((start != 0 || end != 0) && end <= start) {
    return absl::InvalidArgumentError(
        StrCat("http parameter start must be before end. received start=", start, " end=", end));
  }
  if (start != 0) out->start_unix_nano = int64_t{start} * 1000000000;
  if (end != 0) out->end_unix_nano = int64_t{end} * 1000000000;
  ASSIGN_OR_RETURN(out->limit, UintParam(req, "limit", 0));
  return absl::OkStatus();
}

// The single spanset filter of a tags `q`, or null when there is none.
// With `lenient`, a query that does not parse (Grafana sends half-typed
// ones) counts as none.
absl::StatusOr<const traceql::Field*> TagsFilter(const httplib::Request& req, bool lenient,
                                                 std::optional<traceql::Query>* holder) {
  if (!req.has_param("q") || req.get_param_value("q").empty()) return nullptr;
  auto q = traceql::Parse(req.get_param_value("q"));
  absl::Status st = q.ok() ? traceql::Validate(*q) : q.status();
  if (st.ok() && (!q->pipeline || q->pipeline->stages.size() != 1 ||
                  q->pipeline->stages[0].kind != traceql::Stage::Kind::kSpanset ||
                  q->pipeline->stages[0].spanset->kind != traceql::Spanset::Kind::kFilter || q->metrics)) {
    st = absl::InvalidArgumentError("q must be one spanset filter { ... }");
  }
  if (!st.ok()) {
    if (lenient) return nullptr;
    return absl::InvalidArgumentError(StrCat("invalid TraceQL query: ", st.message()));
  }
  *holder = std::move(*q);
  return (*holder)->pipeline->stages[0].spanset->filter.get();
}

template <typename Message>
void ReplyMessage(const httplib::Request& req, httplib::Response& res, const Message& msg) {
  if (WantsProtobuf(req)) {
    res.set_content(msg.SerializeAsString(), "application/protobuf");
    return;
  }
  auto json = ToJson(msg);
  if (!json.ok()) return ReplyText(res, 500, std::string(json.status().message()));
  res.set_content(*json, "application/json");
}

// A metrics start/end: unix seconds (up to 10 digits), nanoseconds (more
// digits) or fractional seconds.
absl::StatusOr<int64_t> MetricsTime(const std::string& name, const std::string& text) {
  auto bad = [&] { return absl::InvalidArgumentError(StrCat("could not parse '", name, "' parameter: ", text)); };
  if (text.empty()) return bad();
  if (text.find('.') != std::string::npos) {
    char* end = nullptr;
    const double secs = std::strtod(text.c_str(), &end);
    if (end == nullptr || *end != '\0' || !(secs >= 0 && secs < 9.2e9)) return bad();
    return static_cast<int64_t>(secs * 1e9);
  }
  int64_t v = 0;
  if (!ParseInt(std::string_view(text), &v) || v < 0) return bad();
  if (text.size() > 10) return v;  // nanoseconds
  if (v > INT64_MAX / 1000000000) return bad();
  return v * 1000000000;
}

std::string GoDuration(int64_t ns) {
  if (ns % 1000000000 == 0) return StrCat(ns / 1000000000, "s");
  if (ns % 1000000 == 0) return StrCat(ns / 1000000, "ms");
  return StrCat(ns, "ns");
}

struct MetricsParams {
  traceql::Query query;
  querier::MetricsRequest range;
};

// q/query, start/end/since and step as Tempo reads them; the range aligned
// to the step with one leading bucket (`instant`: one bucket, unaligned).
absl::StatusOr<MetricsParams> ParseMetricsParams(const httplib::Request& req, bool instant,
                                                 const TenantLimits& limits) {
  constexpr int64_t kSecond = 1000000000;
  const std::string text = req.has_param("q") ? req.get_param_value("q") : req.get_param_value("query");
  auto query = traceql::Parse(text);
  if (!query.ok()) return absl::InvalidArgumentError(StrCat("compiling query: ", query.status().message()));
  if (absl::Status st = traceql::Validate(*query); !st.ok()) {
    return absl::InvalidArgumentError(StrCat("compiling query: ", st.message()));
  }
  if (!query->metrics && !query->math) return absl::InvalidArgumentError("compiling query: not a metrics query");
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  int64_t since = 3600 * kSecond;
  if (req.has_param("since") && !traceql::ParseDuration(req.get_param_value("since"), &since)) {
    return absl::InvalidArgumentError(StrCat("invalid since: ", req.get_param_value("since")));
  }
  int64_t end = now, start = 0;
  if (req.has_param("end")) {
    ASSIGN_OR_RETURN(end, MetricsTime("end", req.get_param_value("end")));
  }
  if (req.has_param("start")) {
    ASSIGN_OR_RETURN(start, MetricsTime("start", req.get_param_value("start")));
  } else {
    // Neither start nor since: the last hour, or less when the tenant's
    // max_query_range is shorter.
    const int64_t max_range = std::chrono::duration_cast<std::chrono::nanoseconds>(limits.max_query_range).count();
    if (max_range > 0 && !req.has_param("since")) since = std::min(since, max_range);
    start = std::min(end, now) - since;
  }
  if (end <= start) return absl::InvalidArgumentError("end must be greater than start");
  RETURN_IF_ERROR(LimitRange(limits, &start, &end));
  if (end - start > 24 * 3600 * kSecond) {
    return absl::InvalidArgumentError("metrics query time range exceeds the maximum allowed duration of 24h0m0s");
  }
  // Exemplars (instant answers carry none, as Tempo's).
  ASSIGN_OR_RETURN(uint32_t exemplars, UintParam(req, "exemplars", 0));
  exemplars = instant ? 0 : querier::ExemplarLimit(*query, exemplars);
  MetricsParams out{std::move(*query), {}};
  if (instant) {
    out.range = {start, end, end - start, 0};
    return out;
  }
  const int64_t range = end - start;
  int64_t step = 0;
  if (req.has_param("step") && !req.get_param_value("step").empty()) {
    const std::string st = req.get_param_value("step");
    char* e = nullptr;
    const double secs = std::strtod(st.c_str(), &e);
    if (e != nullptr && *e == '\0') {
      if (!(secs > 0 && secs < 9.2e9)) return absl::InvalidArgumentError(StrCat("invalid step: ", st));
      step = static_cast<int64_t>(secs * 1e9);
    } else if (!traceql::ParseDuration(st, &step)) {
      return absl::InvalidArgumentError(StrCat("invalid step: ", st));
    }
    if (step <= 0) return absl::InvalidArgumentError(StrCat("invalid step: ", st, " (must be positive)"));
  } else if (range < 60 * kSecond) {
    constexpr int64_t k50ms = 50000000;
    step = std::max(k50ms, range / 240 / k50ms * k50ms);
  } else {
    step = kSecond;
    for (int64_t c : {3600 * kSecond, 300 * kSecond, 60 * kSecond, 15 * kSecond, 5 * kSecond, kSecond}) {
      if (range / 240 >= c) {
        step = c;
        break;
      }
    }
  }
  if (range / step > 10000) {
    return absl::InvalidArgumentError(StrCat("step of ", GoDuration(step), " is too small, minimum step for given range is ",
                                             GoDuration((range + 9999) / 10000)));
  }
  start = start / step * step - step;  // aligned, with one leading bucket
  end = (end + step - 1) / step * step;
  out.range = {start, end, step, exemplars};
  return out;
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

void RegisterTempoApi(httplib::Server& server, const std::string& prefix, querier::Querier* querier,
                      const QueryAccess* access) {
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

  server.Get(prefix + R"(/api/traces/([^/]+))", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyError(res, ctx.status());
    auto trace = Lookup(req, querier, *ctx);
    if (!trace.ok()) return ReplyError(res, trace.status());
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

  server.Get(prefix + "/api/search", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyError(res, ctx.status());
    auto found = Search(req, querier, *ctx);
    if (!found.ok()) return ReplyError(res, found.status());
    if (WantsProtobuf(req)) {
      res.set_content(found->SerializeAsString(), "application/protobuf");
      return;
    }
    auto json = ToJson(*found);
    if (!json.ok()) return ReplyText(res, 500, std::string(json.status().message()));
    res.set_content(*json, "application/json");
  });

  // Tag names: v1 lists span and resource names (intrinsics only when asked).
  server.Get(prefix + "/api/search/tags", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyError(res, ctx.status());
    querier::TagsRequest tr;
    tr.scope = req.get_param_value("scope");
    if (absl::Status st = TagTimes(req, &tr); !st.ok()) return ReplyError(res, st);
    auto names = querier->TagNames(*ctx, tr);
    if (!names.ok()) return ReplyError(res, names.status());
    std::set<std::string> merged;
    for (const auto& [scope, list] : *names) {
      if (scope == "intrinsic" && tr.scope != "intrinsic") continue;
      merged.insert(list.begin(), list.end());
    }
    tempopb::SearchTagsResponse out;
    for (const auto& n : merged) out.add_tagnames(n);
    out.mutable_metrics();
    ReplyMessage(req, res, out);
  });

  server.Get(prefix + "/api/v2/search/tags", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyError(res, ctx.status());
    querier::TagsRequest tr;
    tr.scope = req.get_param_value("scope");
    if (absl::Status st = TagTimes(req, &tr); !st.ok()) return ReplyError(res, st);
    std::optional<traceql::Query> holder;
    auto filter = TagsFilter(req, /*lenient=*/false, &holder);
    if (!filter.ok()) return ReplyError(res, filter.status());
    tr.filter = *filter;
    auto names = querier->TagNames(*ctx, tr);
    if (!names.ok()) return ReplyError(res, names.status());
    tempopb::SearchTagsV2Response out;
    for (const auto& [scope, list] : *names) {
      auto* s = out.add_scopes();
      s->set_name(scope);
      for (const auto& n : list) s->add_tags(n);
    }
    out.mutable_metrics();
    ReplyMessage(req, res, out);
  });

  // Tag values: v1 takes a bare attribute name (span or resource), answers strings.
  server.Get(prefix + R"(/api/search/tag/(.+)/values)", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyError(res, ctx.status());
    const std::string tag = req.matches[1];
    tempopb::SearchTagValuesResponse out;
    out.mutable_metrics();
    if (tag == "status.code") {
      for (const char* v : {"unset", "ok", "error"}) out.add_tagvalues(v);
      return ReplyMessage(req, res, out);
    }
    if (tag == "error") {
      out.add_tagvalues("true");
      return ReplyMessage(req, res, out);
    }
    querier::TagsRequest tr;
    if (absl::Status st = TagTimes(req, &tr); !st.ok()) return ReplyError(res, st);
    traceql::Field field;
    field.kind = traceql::Field::Kind::kAttribute;
    field.name = tag;
    auto values = querier->TagValues(*ctx, field, tr);
    if (!values.ok()) return ReplyError(res, values.status());
    std::set<std::string> distinct;
    for (const auto& v : *values) distinct.insert(v.value);
    for (const auto& v : distinct) out.add_tagvalues(v);
    ReplyMessage(req, res, out);
  });

  // v2 takes a TraceQL attribute or intrinsic and answers typed values.
  server.Get(prefix + R"(/api/v2/search/tag/(.+)/values)", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyError(res, ctx.status());
    const std::string tag = req.matches[1];
    auto parsed = traceql::Parse(StrCat("{ ", tag, " }"));
    const traceql::Field* field = nullptr;
    if (parsed.ok() && parsed->pipeline && parsed->pipeline->stages.size() == 1 &&
        parsed->pipeline->stages[0].kind == traceql::Stage::Kind::kSpanset &&
        parsed->pipeline->stages[0].spanset->kind == traceql::Spanset::Kind::kFilter) {
      field = parsed->pipeline->stages[0].spanset->filter.get();
    }
    if (field == nullptr || (field->kind != traceql::Field::Kind::kAttribute &&
                             field->kind != traceql::Field::Kind::kIntrinsic)) {
      return ReplyText(res, 400, StrCat("please provide a valid tagName: failed to parse identifier ", tag));
    }
    querier::TagsRequest tr;
    if (absl::Status st = TagTimes(req, &tr); !st.ok()) return ReplyError(res, st);
    std::optional<traceql::Query> holder;
    auto filter = TagsFilter(req, /*lenient=*/true, &holder);
    if (filter.ok()) tr.filter = *filter;
    auto values = querier->TagValues(*ctx, *field, tr);
    if (!values.ok()) return ReplyError(res, values.status());
    tempopb::SearchTagValuesV2Response out;
    for (const auto& v : *values) {
      auto* tv = out.add_tagvalues();
      tv->set_type(v.type);
      tv->set_value(v.value);
    }
    out.mutable_metrics();
    ReplyMessage(req, res, out);
  });

  server.Get(prefix + "/api/metrics/query_range", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyError(res, ctx.status());
    auto params = ParseMetricsParams(req, /*instant=*/false, ctx->limits);
    if (!params.ok()) return ReplyError(res, params.status());
    auto out = querier->MetricsRange(*ctx, params->query, params->range);
    if (!out.ok()) return ReplyError(res, out.status());
    ReplyMessage(req, res, *out);
  });

  server.Get(prefix + "/api/metrics/query", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyError(res, ctx.status());
    auto params = ParseMetricsParams(req, /*instant=*/true, ctx->limits);
    if (!params.ok()) return ReplyError(res, params.status());
    auto range = querier->MetricsRange(*ctx, params->query, params->range);
    if (!range.ok()) return ReplyError(res, range.status());
    tempopb::QueryInstantResponse out;
    for (const auto& ts : range->series()) {
      auto* s = out.add_series();
      *s->mutable_labels() = ts.labels();
      s->set_value(ts.samples_size() > 0 ? ts.samples(0).value() : 0);
    }
    *out.mutable_metrics() = range->metrics();
    ReplyMessage(req, res, out);
  });

  server.Get(prefix + R"(/api/v2/traces/([^/]+))", [querier, access](const httplib::Request& req, httplib::Response& res) {
    auto ctx = RequestTenant(req, access);
    if (!ctx.ok()) return ReplyError(res, ctx.status());
    auto trace = Lookup(req, querier, *ctx);
    if (!trace.ok()) return ReplyError(res, trace.status());
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
