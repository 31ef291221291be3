#include "querier/querier.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "common/hex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "otlp/otlp_json.h"
#include "schema/tables.h"
#include "writer/data_files.h"

namespace signaldb::querier {
namespace {

namespace tpb = opentelemetry::proto::trace::v1;
using engine::Value;

std::string Str(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}
int64_t Int(const Value& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  return 0;
}

absl::StatusOr<std::string> Id(const Value& v) {
  std::string hex = Str(v);
  if (hex.empty()) return std::string();
  auto raw = HexDecode(hex);
  if (!raw) return absl::DataLossError(StrCat("stored id '", hex, "' is not hex"));
  return *raw;
}

// Columns the trace query selects, in this order. The typed attribute maps
// come as one JSON object of key and value lists (ParseAttributeMaps), with
// integers as decimal text and doubles printed with 17 significant digits so
// both read back exactly.
constexpr const char* kTraceColumns =
    "span_id, parent_span_id, span_name, start_time_unix_nano, end_time_unix_nano, span_kind_number, "
    "status_code_number, status_message, trace_state, flags, span_attributes_other, dropped_attributes_count, "
    "events, dropped_events_count, links, dropped_links_count, resource_attributes, "
    "resource_dropped_attributes_count, resource_schema_url, scope_name, scope_version, scope_attributes, "
    "scope_dropped_attributes_count, scope_schema_url, "
    "to_json(struct_pack("
    "sk := map_keys(span_attributes_string), sv := map_values(span_attributes_string), "
    "ik := map_keys(span_attributes_int), "
    "iv := list_transform(map_values(span_attributes_int), lambda v: v::VARCHAR), "
    "dk := map_keys(span_attributes_double), "
    "dv := list_transform(map_values(span_attributes_double), lambda v: printf('%.17g', v)), "
    "bk := map_keys(span_attributes_bool), bv := map_values(span_attributes_bool)))::VARCHAR";

enum Col {
  cSpanId, cParent, cName, cStart, cEnd, cKind, cStatus, cStatusMsg, cTraceState, cFlags, cAttrs, cDroppedAttrs,
  cEvents, cDroppedEvents, cLinks, cDroppedLinks, cResAttrs, cResDropped, cResSchema, cScopeName, cScopeVersion,
  cScopeAttrs, cScopeDropped, cScopeSchema, cAttrMaps,
};

// Appends the attributes of the typed maps (string, int, double, bool) to
// `out`. Rows written before the maps existed have none (all lists null).
absl::Status ParseAttributeMaps(const std::string& json, otlp::pb::KeyValues* out) {
  using Json = nlohmann::json;
  const auto corrupt = [](std::string_view why) {
    return absl::DataLossError(StrCat("stored span attribute maps are not readable: ", why));
  };
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt("not a JSON object");
  // Calls add(key, value) for each entry of one map; a map absent from the
  // row (files written before the maps existed) has null lists.
  auto each = [&](const char* k, const char* v, auto add) -> absl::Status {
    const Json& keys = j.value(k, Json());
    const Json& values = j.value(v, Json());
    if (keys.is_null() && values.is_null()) return absl::OkStatus();
    if (!keys.is_array() || !values.is_array() || keys.size() != values.size()) {
      return corrupt(StrCat(k, "/", v, " are not two lists of one length"));
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!keys[i].is_string()) return corrupt("a key is not a string");
      auto* kv = out->Add();
      kv->set_key(keys[i].get<std::string>());
      if (!add(values[i], kv->mutable_value())) return corrupt(StrCat("bad value for key ", kv->key()));
    }
    return absl::OkStatus();
  };
  // Numbers travel as text; from_chars reads them exactly, locale-free
  // (doubles include "nan", "inf" and "-inf").
  auto text = [](const Json& v, std::string& s) {
    if (!v.is_string()) return false;
    s = v.get<std::string>();
    return true;
  };
  std::string s;
  RETURN_IF_ERROR(each("sk", "sv", [&](const Json& v, otlp::pb::AnyValue* a) {
    if (!text(v, s)) return false;
    a->set_string_value(s);
    return true;
  }));
  auto number = [&](const Json& v, auto& n) {
    if (!text(v, s)) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    return ec == std::errc() && end == s.data() + s.size();
  };
  RETURN_IF_ERROR(each("ik", "iv", [&](const Json& v, otlp::pb::AnyValue* a) {
    int64_t n = 0;
    const bool ok = number(v, n);
    a->set_int_value(n);
    return ok;
  }));
  RETURN_IF_ERROR(each("dk", "dv", [&](const Json& v, otlp::pb::AnyValue* a) {
    double d = 0;
    const bool ok = number(v, d);
    a->set_double_value(d);
    return ok;
  }));
  RETURN_IF_ERROR(each("bk", "bv", [&](const Json& v, otlp::pb::AnyValue* a) {
    if (!v.is_boolean()) return false;
    a->set_bool_value(v.get<bool>());
    return true;
  }));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<tpb::TracesData> Querier::FindTrace(const TenantContext& ctx, const std::string& trace_id,
                                                   const TimeRange& range) {
  ASSIGN_OR_RETURN(writer::Dataset * ds, writer_->GetDataset(ctx));
  ASSIGN_OR_RETURN(auto conn, ds->db().Connect());
  const std::string hex = HexEncode(trace_id);
  // Only files whose trace_id bounds can hold the trace, plus the buffer.
  using Predicate = writer::SignalStore::Predicate;
  std::vector<Predicate> predicates{{Predicate::kStringEquals, "trace_id", hex}};
  if (range.start_unix_nano) predicates.push_back({Predicate::kIntAtLeast, "end_time_unix_nano", "", *range.start_unix_nano});
  if (range.end_unix_nano) predicates.push_back({Predicate::kIntAtMost, "start_time_unix_nano", "", *range.end_unix_nano});
  ASSIGN_OR_RETURN(auto plan, ds->store(Signal::kTraces).PlanScan("traces", predicates));
  std::string buffer = StrCat(writer::kViewFunction, "('traces', ", plan.generation, ")");
  std::string from = buffer;
  if (!plan.files.empty()) {
    // Files are read by field id, as the view reads them.
    from = StrCat("(SELECT * FROM ", writer::ReadParquetById(schema::Traces(), plan.files),
                  " UNION ALL BY NAME SELECT * FROM ", buffer, ")");
  }
  std::string sql = StrCat("SELECT ", kTraceColumns, " FROM ", from, " WHERE trace_id = $1");
  std::vector<engine::Param> params{hex};
  if (range.start_unix_nano) {
    params.emplace_back(*range.start_unix_nano);
    sql += StrCat(" AND end_time_unix_nano >= $", params.size());
  }
  if (range.end_unix_nano) {
    params.emplace_back(*range.end_unix_nano);
    sql += StrCat(" AND start_time_unix_nano <= $", params.size());
  }
  sql += " ORDER BY start_time_unix_nano, span_id";
  ASSIGN_OR_RETURN(engine::Table rows, conn->Query(sql, params));

  tpb::TracesData out;
  // Group spans by resource, then by scope, keeping first-seen order.
  using ResourceKey = std::tuple<std::string, int64_t, std::string>;
  using ScopeKey = std::tuple<std::string, std::string, std::string, int64_t, std::string>;
  std::map<ResourceKey, int> resource_index;
  std::map<std::pair<int, ScopeKey>, int> scope_index;
  std::set<std::string> seen_spans;
  for (const auto& row : rows.rows) {
    ASSIGN_OR_RETURN(std::string span_id, Id(row[cSpanId]));
    if (!seen_spans.insert(span_id).second) continue;  // the same span sent twice
    ResourceKey rkey{Str(row[cResAttrs]), Int(row[cResDropped]), Str(row[cResSchema])};
    auto [rit, rnew] = resource_index.emplace(rkey, out.resource_spans_size());
    if (rnew) {
      auto* rs = out.add_resource_spans();
      RETURN_IF_ERROR(otlp::ParseKeyValuesJson(std::get<0>(rkey), rs->mutable_resource()->mutable_attributes()));
      rs->mutable_resource()->set_dropped_attributes_count(static_cast<uint32_t>(std::get<1>(rkey)));
      rs->set_schema_url(std::get<2>(rkey));
    }
    auto* rs = out.mutable_resource_spans(rit->second);
    ScopeKey skey{Str(row[cScopeName]), Str(row[cScopeVersion]), Str(row[cScopeAttrs]), Int(row[cScopeDropped]),
                  Str(row[cScopeSchema])};
    auto [sit, snew] = scope_index.emplace(std::make_pair(rit->second, skey), rs->scope_spans_size());
    if (snew) {
      auto* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name(std::get<0>(skey));
      ss->mutable_scope()->set_version(std::get<1>(skey));
      RETURN_IF_ERROR(otlp::ParseKeyValuesJson(std::get<2>(skey), ss->mutable_scope()->mutable_attributes()));
      ss->mutable_scope()->set_dropped_attributes_count(static_cast<uint32_t>(std::get<3>(skey)));
      ss->set_schema_url(std::get<4>(skey));
    }
    auto* span = rs->mutable_scope_spans(sit->second)->add_spans();
    span->set_trace_id(trace_id);
    span->set_span_id(span_id);
    ASSIGN_OR_RETURN(std::string parent, Id(row[cParent]));
    span->set_parent_span_id(parent);
    span->set_trace_state(Str(row[cTraceState]));
    span->set_flags(static_cast<uint32_t>(Int(row[cFlags])));
    span->set_name(Str(row[cName]));
    span->set_kind(static_cast<tpb::Span::SpanKind>(Int(row[cKind])));
    span->set_start_time_unix_nano(static_cast<uint64_t>(Int(row[cStart])));
    span->set_end_time_unix_nano(static_cast<uint64_t>(Int(row[cEnd])));
    RETURN_IF_ERROR(ParseAttributeMaps(Str(row[cAttrMaps]), span->mutable_attributes()));
    RETURN_IF_ERROR(otlp::ParseKeyValuesJson(Str(row[cAttrs]), span->mutable_attributes()));
    // Stored by value kind; answered in key order (keys are unique).
    std::stable_sort(span->mutable_attributes()->pointer_begin(), span->mutable_attributes()->pointer_end(),
              [](const auto* a, const auto* b) { return a->key() < b->key(); });
    span->set_dropped_attributes_count(static_cast<uint32_t>(Int(row[cDroppedAttrs])));
    RETURN_IF_ERROR(otlp::ParseEventsJson(Str(row[cEvents]), span->mutable_events()));
    span->set_dropped_events_count(static_cast<uint32_t>(Int(row[cDroppedEvents])));
    RETURN_IF_ERROR(otlp::ParseLinksJson(Str(row[cLinks]), span->mutable_links()));
    span->set_dropped_links_count(static_cast<uint32_t>(Int(row[cDroppedLinks])));
    auto* status = span->mutable_status();
    status->set_code(static_cast<tpb::Status::StatusCode>(Int(row[cStatus])));
    status->set_message(Str(row[cStatusMsg]));
  }
  return out;
}

absl::StatusOr<engine::Table> Querier::Sql(const TenantContext& ctx, const std::string& sql, const SqlPage& page) {
  ASSIGN_OR_RETURN(writer::Dataset * ds, writer_->GetDataset(ctx));
  ASSIGN_OR_RETURN(auto conn, ds->db().Connect());
  const std::string named = ToLower(sql);
  if (options_.sql_max_scanned_bytes > 0) {
    uint64_t bytes = 0;
    std::vector<std::string> tables;
    for (Signal s : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
      for (const columnar::Schema* schema : writer::TablesOf(s)) {
        if (named.find(schema->table) == std::string::npos) continue;
        const uint64_t b = ds->store(s).StoredBytes(schema->table);
        if (b > 0) tables.push_back(StrCat(schema->table, " ", b));
        bytes += b;
      }
    }
    if (bytes > options_.sql_max_scanned_bytes) {
      return absl::FailedPreconditionError(
          StrCat("the tables this query names hold ", bytes, " bytes of data files (", Join(tables, ", "),
                 "), more than query.max_scanned_bytes = ", options_.sql_max_scanned_bytes));
    }
  }
  // On remote storage the long-lived views hold only unflushed rows: this
  // query gets views of its own over the data files, fetched into the
  // dataset's disk cache and pinned until it ends. (Temporary views shadow
  // the shared ones for this connection only.)
  // Only tables the text names are fetched (a longer name containing a
  // shorter one, like metrics_summary and metrics_sum, costs one extra plan).
  std::vector<writer::SignalStore::ScanPlan> plans;
  const std::string& lowered = named;
  for (Signal s : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
    writer::SignalStore& store = ds->store(s);
    if (!store.remote()) continue;
    for (const columnar::Schema* schema : writer::TablesOf(s)) {
      if (lowered.find(schema->table) == std::string::npos) continue;
      ASSIGN_OR_RETURN(auto plan, store.PlanScan(schema->table));
      RETURN_IF_ERROR(conn->Execute(StrCat("CREATE OR REPLACE TEMP VIEW ", engine::QuoteIdentifier(schema->table),
                                           " AS ", store.PlannedViewSql(schema->table, plan))));
      plans.push_back(std::move(plan));
    }
  }
  const uint64_t limit = page.limit == 0 ? options_.sql_max_rows : std::min(page.limit, options_.sql_max_rows);
  return conn->QueryUntrusted(sql, options_.sql_timeout, limit, page.offset);
}

absl::Status Querier::Ping(const TenantContext& ctx) {
  ASSIGN_OR_RETURN(writer::Dataset * ds, writer_->GetDataset(ctx));
  ASSIGN_OR_RETURN(auto conn, ds->db().Connect());
  return conn->Query("SELECT 1").status();
}

}  // namespace signaldb::querier
