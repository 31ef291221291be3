// compare({filter}[, topN[, start, end]]): the spans of the first stage are
// split into a selection (those matching the filter, and starting between
// start and end when both are given) and a baseline (the rest), and every
// attribute value of them counted per step, as Tempo's MetricsCompare does
// (pkg/traceql/engine_metrics_compare.go):
//
//   {__meta_type="baseline",        <attribute>=<value>}   spans of the baseline with that value
//   {__meta_type="selection",       <attribute>=<value>}   ... of the selection
//   {__meta_type="baseline_total",  <attribute>="nil"}     spans of the baseline with the attribute
//   {__meta_type="selection_total", <attribute>="nil"}
//   {__meta_error="__too_many_values__", <attribute>="nil"}  more than topN values on a side
//
// Only the topN values with the most spans over the range are kept per
// attribute and side. Attributes are the span's (span.x), its resource's
// (resource.x) and scope's (instrumentation.x), and the intrinsics Tempo
// reads for compare(): name, status, statusMessage, kind, rootName,
// rootServiceName, instrumentation:name and instrumentation:version
// (durations, ids and times are not grouped on). Exemplars go to the
// totals of the attributes their span has, as Tempo attaches them.
#include <algorithm>
#include <cmath>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/metrics_eval.h"
#include "schema/tables.h"

namespace signaldb::querier {
namespace {

namespace pb = opentelemetry::proto::common::v1;

// Rows of (span ids, side, bucket, k = attribute name, t = type, v = value
// as text) for every attribute of the spans of `relation`.
std::string AttributeRows(const std::string& relation) {
  const std::string ids = "trace_id, span_id, sdb_start, sdb_sel, sdb_bucket";
  std::vector<std::string> parts;
  for (auto [map, type] : {std::pair{"span_attributes_string", "string"}, std::pair{"span_attributes_int", "int"},
                           std::pair{"span_attributes_double", "double"}, std::pair{"span_attributes_bool", "bool"}}) {
    const std::string value = std::string(type) == "double" ? "printf('%.17g', e.value)" : "CAST(e.value AS VARCHAR)";
    parts.push_back(StrCat("SELECT ", ids, ", 'span.' || e.key AS k, '", type, "' AS t, ", value, " AS v FROM (SELECT ",
                           ids, ", unnest(map_entries(", map, ")) AS e FROM ", relation, ")"));
  }
  // OTLP JSON lists: span attributes of other kinds (all of them before
  // schema v3), resource and scope attributes. Values that are not
  // scalars (arrays, maps, bytes) are not grouped on.
  for (auto [column, prefix] : {std::pair{"span_attributes_other", "span."}, std::pair{"resource_attributes", "resource."},
                                std::pair{"scope_attributes", "instrumentation."}}) {
    const std::string v = "kv->'value'";
    parts.push_back(StrCat(
        "SELECT ", ids, ", '", prefix, "' || (kv->>'key') AS k, CASE WHEN (", v, "->>'stringValue') IS NOT NULL THEN ",
        "'string' WHEN (", v, "->>'intValue') IS NOT NULL THEN 'int' WHEN (", v,
        "->>'doubleValue') IS NOT NULL THEN 'double' WHEN (", v, "->>'boolValue') IS NOT NULL THEN 'bool' END AS t, ",
        "coalesce(", v, "->>'stringValue', ", v, "->>'intValue', printf('%.17g', TRY_CAST(", v,
        "->>'doubleValue' AS DOUBLE)), ", v, "->>'boolValue') AS v FROM (SELECT ", ids, ", unnest(CAST(", column,
        " AS JSON[])) AS kv FROM ", relation, ")"));
  }
  for (auto [name, type, expr] :
       {std::tuple{"name", "string", "span_name"}, std::tuple{"status", "status", "CAST(status_code_number AS VARCHAR)"},
        std::tuple{"statusMessage", "string", "NULLIF(status_message, '')"},
        std::tuple{"kind", "kind", "CAST(span_kind_number AS VARCHAR)"}, std::tuple{"rootName", "string", "__root_name"},
        std::tuple{"rootServiceName", "string", "__root_service"},
        std::tuple{"instrumentation:name", "string", "NULLIF(scope_name, '')"},
        std::tuple{"instrumentation:version", "string", "NULLIF(scope_version, '')"}}) {
    parts.push_back(StrCat("SELECT ", ids, ", '", name, "' AS k, '", type, "' AS t, ", expr, " AS v FROM ", relation));
  }
  return StrCat("(SELECT * FROM (", Join(parts, " UNION ALL "), ") WHERE t IS NOT NULL AND v IS NOT NULL)");
}

pb::AnyValue TypedValue(const std::string& type, const std::string& text) {
  pb::AnyValue v;
  if (type == "int") v.set_int_value(std::strtoll(text.c_str(), nullptr, 10));
  else if (type == "double") v.set_double_value(std::strtod(text.c_str(), nullptr));
  else if (type == "bool") v.set_bool_value(text == "true");
  else if (type == "status") v.set_string_value(schema::StatusCodeName(std::atoi(text.c_str())));
  else if (type == "kind") v.set_string_value(schema::SpanKindName(std::atoi(text.c_str())));
  else v.set_string_value(text);
  return v;
}

std::string Text(const engine::Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}

// The spans of the first stage with their side and bucket (the relation
// AttributeRows reads), as a CTE named sdb_c.
absl::StatusOr<std::string> SpansCte(MetricsContext& ctx, const traceql::Pipeline& pipeline,
                                     const traceql::Metrics& m, traceql::SqlBuilder* sql) {
  traceql::TraceColumns needs;
  needs.root_name = needs.root_service = true;
  ASSIGN_OR_RETURN(std::string where, PipelineSpans(ctx, pipeline, sql, &needs));
  ASSIGN_OR_RETURN(std::string selected, traceql::CompileCondition(m.compare->filter.get(), sql, &needs));
  if (m.compare_start > 0 && m.compare_end > 0) {
    selected = StrCat("(", selected, ") AND start_time_unix_nano >= ", sql->Bind(m.compare_start),
                      " AND start_time_unix_nano < ", sql->Bind(m.compare_end));
  }
  return StrCat("sdb_c AS (SELECT *, start_time_unix_nano AS sdb_start, (", selected, ") AS sdb_sel, ",
                "(start_time_unix_nano - ", sql->Bind(ctx.range.start_ns), ") // ", sql->Bind(ctx.range.step_ns),
                " AS sdb_bucket FROM ", SpansFrom(ctx, needs), " WHERE ",
                where, ")");
}

struct Side {
  // attribute -> value (type, NUL, text: the order ties are broken in) -> counts per bucket
  std::map<std::string, std::map<std::string, std::pair<pb::AnyValue, std::vector<double>>>> values;
  std::map<std::string, std::vector<double>> totals;
};

}  // namespace

absl::StatusOr<SeriesSet> EvaluateCompare(MetricsContext& ctx, const traceql::Pipeline& pipeline,
                                          const traceql::Metrics& m) {
  const int64_t buckets = ctx.range.Buckets();
  Side sides[2];  // baseline, selection
  {
    traceql::SqlBuilder sql;
    ASSIGN_OR_RETURN(std::string spans, SpansCte(ctx, pipeline, m, &sql));
    const std::string statement = StrCat("WITH ", spans, " SELECT k, t, v, sdb_sel, sdb_bucket, count(*) FROM ",
                                         AttributeRows("sdb_c"), " GROUP BY ALL");
    ASSIGN_OR_RETURN(engine::Table rows, ctx.conn->Query(statement, sql.params()));
    for (const auto& row : rows.rows) {
      const int64_t bucket = std::get<int64_t>(row[4]);
      if (bucket < 0 || bucket >= buckets) continue;
      Side& side = sides[std::get<bool>(row[3]) ? 1 : 0];
      const std::string key = Text(row[0]);
      auto [it, fresh] = side.values[key].try_emplace(StrCat(Text(row[1]), std::string(1, '\0'), Text(row[2])));
      if (fresh) it->second = {TypedValue(Text(row[1]), Text(row[2])), std::vector<double>(buckets, 0.0)};
      const double n = static_cast<double>(std::get<int64_t>(row[5]));
      it->second.second[bucket] += n;
      auto [total, made] = side.totals.try_emplace(key);
      if (made) total->second.assign(buckets, 0.0);
      total->second[bucket] += n;
    }
  }

  SeriesSet out;
  auto add = [&](std::vector<pb::KeyValue> labels, std::vector<double> values) -> Series& {
    Series& s = out[LabelKey(labels)];
    s.labels = std::move(labels);
    s.values = std::move(values);
    return s;
  };
  static const char* kTypes[] = {"baseline", "selection"};
  static const char* kTotals[] = {"baseline_total", "selection_total"};
  std::set<std::string> too_many;
  for (int i = 0; i < 2; ++i) {
    for (auto& [key, values] : sides[i].values) {
      // The topN values with the most spans over the range (ties: by type, then text).
      std::vector<std::pair<double, const std::string*>> order;
      for (const auto& [bytes, v] : values) {
        double sum = 0;
        for (double x : v.second) sum += x;
        order.emplace_back(sum, &bytes);
      }
      std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      if (order.size() > static_cast<size_t>(m.compare_top)) too_many.insert(key);
      for (size_t k = 0; k < order.size() && k < static_cast<size_t>(m.compare_top); ++k) {
        auto& [value, counts] = values[*order[k].second];
        pb::KeyValue kv;
        kv.set_key(key);
        *kv.mutable_value() = std::move(value);
        add({StringLabel("__meta_type", kTypes[i]), std::move(kv)}, std::move(counts));
      }
    }
    for (auto& [key, counts] : sides[i].totals) {
      add({StringLabel("__meta_type", kTotals[i]), StringLabel(key, "nil")}, std::move(counts));
    }
  }
  for (const auto& key : too_many) {
    add({StringLabel("__meta_error", "__too_many_values__"), StringLabel(key, "nil")}, std::vector<double>(buckets, NAN))
        .keep_without_samples = true;
  }
  if (ctx.exemplars == 0) return out;

  // Exemplars: per side, each trace's earliest span, two per time slot;
  // then per totals series the rules of PickExemplars.
  traceql::SqlBuilder sql;
  ASSIGN_OR_RETURN(std::string spans, SpansCte(ctx, pipeline, m, &sql));
  const ExemplarSlots slots = SlotsFor(ctx.range, ctx.exemplars);
  const std::string slot =
      slots.width_ms == 0 ? std::string("0")
                          : StrCat("least(", sql.Bind(slots.count - 1), ", (sdb_start // 1000000 - ",
                                   sql.Bind(slots.first_ms), ") // ", sql.Bind(slots.width_ms), ")");
  const std::string order = "ORDER BY sdb_start, trace_id, span_id";
  const std::string statement = StrCat(
      "WITH ", spans, ", sdb_p AS (SELECT trace_id, span_id, sdb_start, sdb_sel, ", slot, " AS sdb_slot FROM sdb_c ",
      "QUALIFY row_number() OVER (PARTITION BY sdb_sel, trace_id ", order, ") = 1), sdb_q AS (SELECT * FROM sdb_p ",
      "QUALIFY row_number() OVER (PARTITION BY sdb_sel, sdb_slot ", order, ") <= 2), sdb_e AS (SELECT sdb_c.* ",
      "FROM sdb_c JOIN sdb_q ON sdb_c.trace_id = sdb_q.trace_id AND sdb_c.span_id = sdb_q.span_id) ",
      "SELECT DISTINCT k, sdb_sel, trace_id, span_id, sdb_start FROM ", AttributeRows("sdb_e"));
  ASSIGN_OR_RETURN(engine::Table rows, ctx.conn->Query(statement, sql.params()));
  std::map<std::string, std::vector<ExemplarSpan>> candidates;  // by totals series
  for (const auto& row : rows.rows) {
    const int side = std::get<bool>(row[1]) ? 1 : 0;
    ExemplarSpan e{Text(row[2]), Text(row[3]), std::get<int64_t>(row[4]), NAN};
    candidates[LabelKey({StringLabel("__meta_type", kTotals[side]), StringLabel(Text(row[0]), "nil")})].push_back(e);
  }
  for (auto& [key, spans_of] : candidates) {
    auto it = out.find(key);
    if (it == out.end()) continue;
    it->second.exemplars =
        PickExemplars(std::move(spans_of), ctx.range, ctx.exemplars, ExemplarPreference::kEarliest);
  }
  return out;
}

}  // namespace signaldb::querier
