// Querier::TagNames and Querier::TagValues: the attribute names and values
// Grafana's query builder offers, read from the stored spans (see querier.h).
#include <algorithm>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/querier.h"
#include "querier/source.h"
#include "schema/tables.h"
#include "traceql/compile.h"
#include "writer/data_files.h"

namespace signaldb::querier {
namespace {

// Keys of an OTLP JSON attribute list column.
std::string JsonKeys(const std::string& column) {
  return StrCat("unnest(list_transform(CAST(", column, " AS JSON[]), lambda kv: kv->>'key'))");
}

std::string Text(const engine::Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}

// Intrinsic names Tempo lists for scope "intrinsic" (pkg/search/util.go).
const std::vector<std::string>& IntrinsicNames() {
  static const auto* names = new std::vector<std::string>{
      "duration", "name", "status", "statusMessage", "kind", "rootServiceName", "rootName", "traceDuration",
      "event:name", "event:timeSinceStart", "link:spanID", "link:traceID", "instrumentation:name",
      "instrumentation:version", "trace:id", "span:id", "span:parentID", "span:status", "span:statusMessage",
      "span:duration", "span:name", "span:kind", "trace:rootName", "trace:rootService", "trace:duration"};
  return *names;
}

// The attribute names of the spans of `rows` (a relation of the traces
// table; `sql` holds its parameters), by scope: `scope` alone, or every
// scope when empty or "none"; at most `limit` per scope (0: all), the
// first by name.
absl::StatusOr<TagCache::Names> ScanNames(engine::Connection* conn, const std::string& rows,
                                          const traceql::SqlBuilder& sql, uint64_t limit, const std::string& scope) {
  const bool all = scope.empty() || scope == "none";
  // One statement per scope: the distinct keys of its attribute columns.
  std::map<std::string, std::string> queries;
  if (all || scope == "span") {
    std::vector<std::string> parts;
    for (const char* m : {"span_attributes_string", "span_attributes_int", "span_attributes_double",
                          "span_attributes_bool"}) {
      parts.push_back(StrCat("SELECT unnest(map_keys(", m, ")) AS k FROM ", rows));
    }
    parts.push_back(StrCat("SELECT ", JsonKeys("span_attributes_other"), " AS k FROM ", rows));
    queries["span"] = Join(parts, " UNION ");
  }
  // Resource and scope attributes repeat on every span: keys of the distinct values only.
  if (all || scope == "resource") {
    queries["resource"] = StrCat("SELECT ", JsonKeys("r"), " AS k FROM (SELECT DISTINCT resource_attributes AS r FROM ",
                                 rows, ")");
  }
  if (all || scope == "instrumentation") {
    queries["instrumentation"] =
        StrCat("SELECT ", JsonKeys("s"), " AS k FROM (SELECT DISTINCT scope_attributes AS s FROM ", rows, ")");
  }
  for (const char* name : {"event", "link"}) {
    if (!all && scope != name) continue;
    const std::string column = std::string(name) == "event" ? "events" : "links";
    queries[name] = StrCat("SELECT ", JsonKeys("CAST(e->'attributes' AS VARCHAR)"),
                           " AS k FROM (SELECT unnest(CAST(", column, " AS JSON[])) AS e FROM ", rows, " WHERE ", column,
                           " <> '[]')");
  }
  TagCache::Names out;
  for (const auto& [name, body] : queries) {
    std::string q = StrCat("SELECT DISTINCT k FROM (", body, ") WHERE k IS NOT NULL ORDER BY k");
    if (limit > 0) q += StrCat(" LIMIT ", limit);
    ASSIGN_OR_RETURN(engine::Table t, conn->Query(q, sql.params()));
    for (const auto& row : t.rows) out[name].insert(Text(row[0]));
  }
  return out;
}

// The distinct typed values of `tag` in `rows` (a relation of the traces
// table whose parameters `sql` holds; the tag's name is bound after them),
// the first `limit` by type then value. `column`: an intrinsic's column.
absl::StatusOr<std::vector<TagValue>> ScanValues(engine::Connection* conn, const traceql::Field& tag,
                                                 const std::string& column, const std::string& rows,
                                                 traceql::SqlBuilder* builder, uint64_t limit) {
  traceql::SqlBuilder& sql = *builder;
  std::vector<std::string> parts;  // each: SELECT type, value
  if (tag.kind == traceql::Field::Kind::kIntrinsic) {
    parts.push_back(StrCat("SELECT 'string' AS t, ", column, " AS v FROM ", rows));
  } else {
    const std::string key = sql.Bind(tag.name);
    if (tag.scope == traceql::Scope::kSpan || tag.scope == traceql::Scope::kNone) {
      parts.push_back(StrCat("SELECT 'string' AS t, span_attributes_string[", key, "] AS v FROM ", rows));
      parts.push_back(StrCat("SELECT 'int' AS t, CAST(span_attributes_int[", key, "] AS VARCHAR) AS v FROM ", rows));
      parts.push_back(StrCat("SELECT 'float' AS t, CAST(span_attributes_double[", key, "] AS VARCHAR) AS v FROM ", rows));
      parts.push_back(StrCat("SELECT 'bool' AS t, CAST(span_attributes_bool[", key, "] AS VARCHAR) AS v FROM ", rows));
    }
    auto json_values = [&](const std::string& column, const std::string& where) {
      // Typed values of one key across the distinct attribute lists.
      const std::string v = StrCat("(list_filter(CAST(a AS JSON[]), lambda kv: (kv->>'key') = ", key, ")[1]->'value')");
      const std::string distinct = StrCat("(SELECT DISTINCT ", column, " AS a FROM ", rows, " WHERE ", where, ")");
      parts.push_back(StrCat("SELECT 'string' AS t, ", v, "->>'stringValue' AS v FROM ", distinct));
      parts.push_back(StrCat("SELECT 'int' AS t, ", v, "->>'intValue' AS v FROM ", distinct));
      parts.push_back(
          StrCat("SELECT 'float' AS t, CAST(TRY_CAST(", v, "->>'doubleValue' AS DOUBLE) AS VARCHAR) AS v FROM ", distinct));
      parts.push_back(StrCat("SELECT 'bool' AS t, ", v, "->>'boolValue' AS v FROM ", distinct));
    };
    if (tag.scope == traceql::Scope::kSpan || tag.scope == traceql::Scope::kNone) {
      // Spans written before schema v3 keep every attribute as JSON.
      json_values("span_attributes_other", "span_attributes_string IS NULL");
    }
    if (tag.scope == traceql::Scope::kResource && tag.name == "service.name") {
      // Its own column (the OpenTelemetry default when absent, as stored).
      parts.push_back(StrCat("SELECT 'string' AS t, service_name AS v FROM ", rows, " WHERE ", key, " IS NOT NULL"));
    } else if (tag.scope == traceql::Scope::kResource || tag.scope == traceql::Scope::kNone) {
      json_values("resource_attributes", "true");
    }
    if (tag.scope == traceql::Scope::kInstrumentation) json_values("scope_attributes", "true");
    for (const auto& [scope, column] : {std::pair{traceql::Scope::kEvent, "events"}, {traceql::Scope::kLink, "links"}}) {
      // The attribute lists of every event (link) of the spans.
      if (tag.scope != scope) continue;
      json_values(StrCat("unnest(list_transform(CAST(", column,
                         " AS JSON[]), lambda sdb_e: CAST(sdb_e->'attributes' AS VARCHAR)))"),
                  StrCat(column, " <> '[]'"));
    }
  }
  std::vector<TagValue> out;
  if (parts.empty()) return out;
  std::string q = StrCat("SELECT DISTINCT t, v FROM (", Join(parts, " UNION ALL "), ") WHERE v IS NOT NULL ORDER BY t, v");
  q += StrCat(" LIMIT ", limit);
  ASSIGN_OR_RETURN(engine::Table t, conn->Query(q, sql.params()));
  for (const auto& row : t.rows) out.push_back({Text(row[0]), Text(row[1])});
  return out;
}

}  // namespace

absl::StatusOr<std::map<std::string, std::vector<std::string>>> Querier::TagNames(const TenantContext& ctx,
                                                                                   const TagsRequest& req) {
  static const std::set<std::string> kScopes = {"", "none", "span", "resource", "event", "link",
                                                "instrumentation", "intrinsic", "trace"};
  if (!kScopes.count(req.scope)) return absl::InvalidArgumentError(StrCat("invalid scope: ", req.scope));
  std::map<std::string, std::vector<std::string>> out;
  const bool all = req.scope.empty() || req.scope == "none";
  if (all || req.scope == "intrinsic") out["intrinsic"] = IntrinsicNames();
  if (req.scope == "intrinsic" || req.scope == "trace") return out;
  auto wanted = [&](const std::string& scope) { return all || req.scope == scope; };

  ASSIGN_OR_RETURN(writer::Dataset * ds, writer_->GetDataset(ctx));
  ASSIGN_OR_RETURN(auto conn, ds->db().Connect());
  ASSIGN_OR_RETURN(TracesSource source, PlanTraces(ds, req.start_unix_nano, req.end_unix_nano));
  TagCache::Names found;
  auto merge = [&](const TagCache::Names& names) {
    for (const auto& [scope, set] : names) {
      if (wanted(scope)) found[scope].insert(set.begin(), set.end());
    }
  };
  // Each file's names come from the cache (whole file, every scope, kept
  // in name order up to TagCache::kPerFile per scope: enough for any limit
  // up to that); a filter, or a larger limit when a file has more names,
  // reads the files instead.
  bool per_file = req.filter == nullptr;
  bool truncated = false;
  std::vector<std::shared_ptr<const TagCache::Names>> cached;
  for (size_t i = 0; per_file && i < source.plan.files.size(); ++i) {
    const std::string& name = source.plan.stats[i].file_path;
    auto names = tag_cache_->names(name);
    if (names == nullptr) {
      traceql::SqlBuilder none;
      const std::string rows =
          StrCat("(SELECT * FROM ", writer::ReadParquetById(schema::Traces(), {source.plan.files[i]}), ")");
      ASSIGN_OR_RETURN(TagCache::Names read, ScanNames(conn.get(), rows, none, TagCache::kPerFile + 1, {}));
      names = tag_cache_->put_names(name, std::move(read));
    }
    for (const auto& [scope, set] : *names) truncated = truncated || set.size() > TagCache::kPerFile;
    cached.push_back(std::move(names));
  }
  if (truncated && (req.limit == 0 || req.limit > TagCache::kPerFile)) per_file = false;
  traceql::SqlBuilder sql;
  if (per_file) {
    for (const auto& names : cached) merge(*names);
    // The writer's unflushed rows.
    const std::string rows = StrCat("(SELECT * FROM ", writer::kViewFunction, "('traces', ", source.plan.generation, "))");
    ASSIGN_OR_RETURN(TagCache::Names read, ScanNames(conn.get(), rows, sql, req.limit, req.scope));
    merge(read);
  } else {
    traceql::TraceColumns needs;
    std::string where = "true";
    if (req.filter != nullptr) {
      ASSIGN_OR_RETURN(where, traceql::CompileCondition(req.filter, &sql, &needs));
    }
    const std::string rows =
        StrCat("(SELECT * FROM ", traceql::WithTraceColumns(source.sql, needs), " WHERE ", where, ")");
    ASSIGN_OR_RETURN(TagCache::Names read, ScanNames(conn.get(), rows, sql, req.limit, req.scope));
    merge(read);
  }
  for (auto& [scope, set] : found) {
    std::vector<std::string> names(set.begin(), set.end());
    if (req.limit > 0 && names.size() > req.limit) names.resize(req.limit);
    if (!names.empty()) out[scope] = std::move(names);
  }
  return out;
}

absl::StatusOr<std::vector<TagValue>> Querier::TagValues(const TenantContext& ctx, const traceql::Field& tag,
                                                         const TagsRequest& req) {
  using traceql::Intrinsic;
  std::vector<TagValue> out;
  if (tag.kind == traceql::Field::Kind::kIntrinsic) {
    // Enumerations Tempo answers without reading data.
    switch (tag.intrinsic) {
      case Intrinsic::kStatus:
        for (const char* v : {"ok", "error", "unset"}) out.push_back({"keyword", v});
        return out;
      case Intrinsic::kKind:
        for (const char* v : {"client", "server", "producer", "consumer", "internal", "unspecified"}) {
          out.push_back({"keyword", v});
        }
        return out;
      case Intrinsic::kDuration:
      case Intrinsic::kTraceDuration:
        return out;
      default:
        break;
    }
  }
  // What is listed, decided before any data is read.
  std::string column;  // an intrinsic's column
  if (tag.kind == traceql::Field::Kind::kIntrinsic) {
    switch (tag.intrinsic) {
      case Intrinsic::kName: column = "span_name"; break;
      case Intrinsic::kStatusMessage: column = "status_message"; break;
      case Intrinsic::kRootName: column = "CASE WHEN is_root THEN span_name END"; break;
      case Intrinsic::kRootServiceName: column = "CASE WHEN is_root THEN service_name END"; break;
      case Intrinsic::kInstrumentationName: column = "scope_name"; break;
      case Intrinsic::kInstrumentationVersion: column = "scope_version"; break;
      case Intrinsic::kEventName:
        column = "unnest(list_transform(CAST(events AS JSON[]), lambda sdb_e: sdb_e->>'name'))";
        break;
      default: return out;  // ids and other per-span values are not listed
    }
  } else if (tag.kind != traceql::Field::Kind::kAttribute || tag.parent) {
    return out;  // values of parent.<attribute> are not listed
  }
  ASSIGN_OR_RETURN(writer::Dataset * ds, writer_->GetDataset(ctx));
  ASSIGN_OR_RETURN(auto conn, ds->db().Connect());
  ASSIGN_OR_RETURN(TracesSource source, PlanTraces(ds, req.start_unix_nano, req.end_unix_nano));
  const uint64_t limit = req.limit > 0 ? req.limit : kDefaultTagValues;
  std::set<std::pair<std::string, std::string>> found;
  // Each file's values come from the cache (whole file, the first
  // TagCache::kPerFile by type and value: enough for any limit up to that);
  // a filter, or a larger limit when a file has more values, reads the
  // files instead.
  bool per_file = req.filter == nullptr;
  bool truncated = false;
  const std::string tag_text = traceql::FieldText(tag);
  std::vector<std::shared_ptr<const TagCache::Values>> cached;
  for (size_t i = 0; per_file && i < source.plan.files.size(); ++i) {
    const std::string& name = source.plan.stats[i].file_path;
    auto values = tag_cache_->values(name, tag_text);
    if (values == nullptr) {
      traceql::SqlBuilder sql;
      const std::string rows =
          StrCat("(SELECT * FROM ", writer::ReadParquetById(schema::Traces(), {source.plan.files[i]}), ")");
      ASSIGN_OR_RETURN(std::vector<TagValue> read,
                       ScanValues(conn.get(), tag, column, rows, &sql, TagCache::kPerFile + 1));
      TagCache::Values entry;
      entry.truncated = read.size() > TagCache::kPerFile;
      if (entry.truncated) read.resize(TagCache::kPerFile);
      for (auto& v : read) entry.values.emplace_back(std::move(v.type), std::move(v.value));
      values = tag_cache_->put_values(name, tag_text, std::move(entry));
    }
    truncated = truncated || values->truncated;
    cached.push_back(std::move(values));
  }
  if (truncated && limit > TagCache::kPerFile) per_file = false;
  traceql::SqlBuilder sql;
  std::string rows;
  if (per_file) {
    for (const auto& values : cached) found.insert(values->values.begin(), values->values.end());
    // The writer's unflushed rows.
    rows = StrCat("(SELECT * FROM ", writer::kViewFunction, "('traces', ", source.plan.generation, "))");
  } else {
    traceql::TraceColumns needs;
    std::string where = "true";
    if (req.filter != nullptr) {
      ASSIGN_OR_RETURN(where, traceql::CompileCondition(req.filter, &sql, &needs));
    }
    rows = StrCat("(SELECT * FROM ", traceql::WithTraceColumns(source.sql, needs), " WHERE ", where, ")");
  }
  ASSIGN_OR_RETURN(std::vector<TagValue> read, ScanValues(conn.get(), tag, column, rows, &sql, limit));
  for (auto& v : read) found.emplace(std::move(v.type), std::move(v.value));
  for (const auto& [type, value] : found) {
    if (out.size() >= limit) break;
    out.push_back({type, value});
  }
  return out;
}

}  // namespace signaldb::querier
