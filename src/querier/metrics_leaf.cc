// One metrics function over the spans of a pipeline (metrics_eval.h): a
// GROUP BY statement for the samples and, when exemplars are asked for, a
// statement that pre-selects exemplar candidates per series (one span per
// trace, two per time slot, the rules of PickExemplars) for PickExemplars
// to finish.
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/metrics_eval.h"

namespace signaldb::querier {
namespace {

namespace pb = opentelemetry::proto::common::v1;
using traceql::MetricsFn;

// Durations are reported in seconds, as Tempo does.
bool IsDuration(const traceql::Field& f) {
  return f.kind == traceql::Field::Kind::kIntrinsic &&
         (f.intrinsic == traceql::Intrinsic::kDuration || f.intrinsic == traceql::Intrinsic::kTraceDuration ||
          f.intrinsic == traceql::Intrinsic::kEventTimeSinceStart);
}

// Functions that count spans: 0 where nothing happened, NaN exemplar values.
bool Counts(MetricsFn fn) {
  return fn == MetricsFn::kRate || fn == MetricsFn::kCountOverTime || fn == MetricsFn::kHistogramOverTime;
}

ExemplarPreference PreferenceFor(MetricsFn fn) {
  if (Counts(fn)) return ExemplarPreference::kEarliest;
  return fn == MetricsFn::kMinOverTime ? ExemplarPreference::kLowest : ExemplarPreference::kHighest;
}

// The SQL a metrics function reads per span.
struct SpanColumns {
  std::vector<std::string> labels;  // traceql::kAttributeValueColumns per by() field
  std::string value;                // the argument as DOUBLE (durations in seconds); empty for counts
  std::string bound;                // histogram_over_time: the value's power-of-two upper bound
};

absl::StatusOr<SpanColumns> CompileColumns(const traceql::Metrics& m, traceql::SqlBuilder* sql,
                                           traceql::TraceColumns* needs) {
  SpanColumns out;
  for (const auto& b : m.by) {
    // Every scope (event, link, instrumentation, parent.) and expression,
    // as search's by() reads them.
    ASSIGN_OR_RETURN(auto cols, traceql::CompileValueColumns(*b, sql, needs));
    for (auto& c : cols) out.labels.push_back(std::move(c));
  }
  if (m.attr) {
    ASSIGN_OR_RETURN(const std::string raw, traceql::CompileNumber(*m.attr, sql, needs));
    const bool duration = IsDuration(*m.attr);
    out.value = duration ? StrCat("(", raw, " / 1e9)") : raw;
    if (m.fn == MetricsFn::kHistogramOverTime) {
      // Tempo's buckets: the value rounded up to a power of two (durations
      // in nanoseconds, the label then in seconds: 200 ms is 2^28 ns, bucket
      // 0.268435456); values below 2 have none.
      out.bound = StrCat("CASE WHEN ", raw, " >= 2 THEN power(2, ceil(log2(", raw, ")))", duration ? " / 1e9" : "",
                         " END");
    }
  }
  return out;
}

// The by() labels of a row whose label columns start at `c` (a missing
// value is the string "nil").
std::vector<pb::KeyValue> ByLabels(const traceql::Metrics& m, const std::vector<engine::Value>& row, size_t c) {
  std::vector<pb::KeyValue> out;
  for (size_t i = 0; i < m.by.size(); ++i) {
    pb::KeyValue kv;
    kv.set_key(traceql::FieldText(*m.by[i]));
    if (!ReadAttributeValue(row, c + i * traceql::kAttributeValueColumns, kv.mutable_value())) {
      kv.mutable_value()->set_string_value("nil");
    }
    out.push_back(std::move(kv));
  }
  return out;
}

std::optional<double> OptionalDouble(const engine::Value& v) {
  if (auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

// A number, or for quantiles a list of them, as DuckDB's to_json writes
// it (NaN and null: no value).
std::vector<double> JsonNumbers(const engine::Value& v) {
  std::vector<double> out;
  const std::string* text = std::get_if<std::string>(&v);
  if (text == nullptr) return out;
  auto parsed = nlohmann::json::parse(*text, nullptr, false);
  if (parsed.is_number()) out.push_back(parsed.get<double>());
  if (parsed.is_array()) {
    for (const auto& x : parsed) out.push_back(x.is_number() ? x.get<double>() : NAN);
  }
  return out;
}

// Assembles the series of one metrics function: labels (by() values or
// __name__, then p per quantile, then __bucket), values and exemplars.
class LeafBuilder {
 public:
  LeafBuilder(const traceql::Metrics& m, const MetricsRange& range) : m_(m), range_(range) {}

  void AddValues(const std::vector<pb::KeyValue>& by, std::optional<double> bound, int64_t bucket,
                 const std::vector<double>& values) {
    if (bucket < 0 || bucket >= range_.Buckets()) return;
    if (m_.fn == MetricsFn::kHistogramOverTime && !bound) return;  // no positive value: no bucket
    const double step_seconds = static_cast<double>(range_.step_ns) / 1e9;
    for (size_t k = 0; k < values.size(); ++k) {
      if (std::isnan(values[k])) continue;
      const int p = m_.fn == MetricsFn::kQuantileOverTime ? static_cast<int>(k) : -1;
      SeriesFor(by, p, bound).values[bucket] = m_.fn == MetricsFn::kRate ? values[k] / step_seconds : values[k];
    }
  }

  // The exemplars of the series of `by` (and `bound`) among `candidates`;
  // quantile exemplars go to the smallest quantile whose value over the
  // whole range (`thresholds`) reaches theirs, the largest otherwise, as
  // Tempo assigns them.
  void AddExemplars(const std::vector<pb::KeyValue>& by, std::optional<double> bound,
                    std::vector<ExemplarSpan> candidates, const std::vector<double>& thresholds, uint32_t limit) {
    if (m_.fn == MetricsFn::kHistogramOverTime && !bound) return;
    for (auto& e : PickExemplars(std::move(candidates), range_, limit, PreferenceFor(m_.fn))) {
      if (Counts(m_.fn)) e.value = NAN;
      int p = -1;
      if (m_.fn == MetricsFn::kQuantileOverTime) {
        p = static_cast<int>(m_.quantiles.size()) - 1;
        for (size_t k = 0; k < thresholds.size() && k < m_.quantiles.size(); ++k) {
          if (e.value <= thresholds[k]) {
            p = static_cast<int>(k);
            break;
          }
        }
      }
      SeriesFor(by, p, bound).exemplars.push_back(std::move(e));
    }
  }

  SeriesSet Take() { return std::move(set_); }

 private:
  Series& SeriesFor(const std::vector<pb::KeyValue>& by, int p, std::optional<double> bound) {
    std::vector<pb::KeyValue> labels = by;
    if (by.empty()) labels.push_back(StringLabel("__name__", traceql::MetricsFnName(m_.fn)));
    if (p >= 0) {
      pb::KeyValue kv;
      kv.set_key("p");
      kv.mutable_value()->set_double_value(m_.quantiles[p]);
      labels.push_back(std::move(kv));
    }
    if (bound) {
      pb::KeyValue kv;
      kv.set_key("__bucket");
      kv.mutable_value()->set_double_value(*bound);
      labels.push_back(std::move(kv));
    }
    std::string key = LabelKey(labels);
    auto [it, fresh] = set_.try_emplace(std::move(key));
    if (fresh) {
      it->second.labels = std::move(labels);
      it->second.values.assign(range_.Buckets(), Counts(m_.fn) ? 0.0 : NAN);
    }
    return it->second;
  }

  const traceql::Metrics& m_;
  const MetricsRange& range_;
  SeriesSet set_;
};

// One statement's start: its parameters, the spans' condition and the
// function's columns.
struct Statement {
  traceql::SqlBuilder sql;
  traceql::TraceColumns needs;
  std::string where;
  SpanColumns span;
};
absl::StatusOr<Statement> StartStatement(MetricsContext& ctx, const traceql::Pipeline& p, const traceql::Metrics& m) {
  Statement st;
  ASSIGN_OR_RETURN(st.where, PipelineSpans(ctx, p, &st.sql, &st.needs));
  ASSIGN_OR_RETURN(st.span, CompileColumns(m, &st.sql, &st.needs));
  return st;
}

// quantile_cont of the function's value at its quantiles.
std::string Quantiles(const traceql::Metrics& m, const std::string& value) {
  std::vector<std::string> qs;
  for (double x : m.quantiles) qs.push_back(StrCat(x));
  return StrCat("quantile_cont(", value, ", [", Join(qs, ", "), "])");
}

// Samples: GROUP BY the by() values (and histogram bound) and bucket.
absl::Status Aggregate(MetricsContext& ctx, const traceql::Pipeline& p, const traceql::Metrics& m,
                       LeafBuilder* out) {
  ASSIGN_OR_RETURN(Statement st, StartStatement(ctx, p, m));
  auto& [sql, needs, where, span] = st;
  std::string aggregate = "count(*)";
  switch (m.fn) {
    case MetricsFn::kMinOverTime: aggregate = StrCat("min(", span.value, ")"); break;
    case MetricsFn::kMaxOverTime: aggregate = StrCat("max(", span.value, ")"); break;
    case MetricsFn::kSumOverTime: aggregate = StrCat("sum(", span.value, ")"); break;
    case MetricsFn::kAvgOverTime: aggregate = StrCat("avg(", span.value, ")"); break;
    case MetricsFn::kQuantileOverTime: aggregate = Quantiles(m, span.value); break;
    default: break;
  }
  std::vector<std::string> cols = span.labels;
  // Integer division: the rows start at or after the range's start (the
  // condition says so), where it is the floor (and cheaper than a DOUBLE's).
  cols.push_back(StrCat("(start_time_unix_nano - ", sql.Bind(ctx.range.start_ns), ") // ", sql.Bind(ctx.range.step_ns),
                        " AS sdb_bucket"));
  cols.push_back(StrCat("CAST(to_json(", aggregate, ") AS VARCHAR) AS sdb_value"));
  if (!span.bound.empty()) cols.push_back(StrCat(span.bound, " AS sdb_bound"));
  const std::string statement =
      StrCat("SELECT ", Join(cols, ", "), " FROM ", SpansFrom(ctx, needs), " WHERE ", where, " GROUP BY ALL");
  ASSIGN_OR_RETURN(engine::Table rows, ctx.conn->Query(statement, sql.params()));
  const size_t n = span.labels.size();
  for (const auto& row : rows.rows) {
    const int64_t bucket = std::get<int64_t>(row[n]);
    std::optional<double> bound = span.bound.empty() ? std::nullopt : OptionalDouble(row[n + 2]);
    out->AddValues(ByLabels(m, row, 0), bound, bucket, JsonNumbers(row[n + 1]));
  }
  return absl::OkStatus();
}

// Exemplar candidates: per series and time slot, the kExemplarCandidates
// preferred spans, one aggregate; PickExemplars then keeps one span per
// trace and two per slot. Functions over values prefer the highest or
// lowest (every span is read). Functions that count spans (rate,
// count_over_time, histogram_over_time) have no preferred span: theirs come
// from a sample (SampledSpansFrom: each file's first kSampleRows rows and
// the unflushed spans; 40 ms on 10 M spans, where reading every span's ids
// took 0.5 s and a window per trace 20 s), spread over traces by a hash of
// the trace id. A series with no span in the sample has no exemplars; like
// Tempo's sampled ones, exemplars are examples.
constexpr int kExemplarCandidates = 8;
constexpr int64_t kSampleRows = 2048;

absl::Status Exemplars(MetricsContext& ctx, const traceql::Pipeline& p, const traceql::Metrics& m,
                       LeafBuilder* out) {
  ASSIGN_OR_RETURN(Statement st, StartStatement(ctx, p, m));
  auto& [sql, needs, where, span] = st;
  std::vector<std::string> cols = span.labels;
  cols.push_back(StrCat(span.bound.empty() ? "NULL::DOUBLE" : span.bound, " AS sdb_bound"));
  const ExemplarSlots slots = SlotsFor(ctx.range, ctx.exemplars);
  cols.push_back(slots.width_ms == 0 ? std::string("0 AS sdb_slot")
                                     : StrCat("least(", sql.Bind(slots.count - 1), ", (start_time_unix_nano // 1000000 - ",
                                              sql.Bind(slots.first_ms), ") // ", sql.Bind(slots.width_ms),
                                              ") AS sdb_slot"));
  const std::string value = span.value.empty() ? "NULL::DOUBLE" : span.value;
  const std::string candidate =
      StrCat("struct_pack(t := trace_id, s := span_id, st := start_time_unix_nano, v := ", value, ")");
  std::string pick;
  switch (PreferenceFor(m.fn)) {
    case ExemplarPreference::kHighest: pick = StrCat("arg_max(", candidate, ", ", value); break;
    case ExemplarPreference::kLowest: pick = StrCat("arg_min(", candidate, ", ", value); break;
    case ExemplarPreference::kEarliest: pick = StrCat("arg_min(", candidate, ", hash(trace_id)"); break;
  }
  cols.push_back(StrCat(pick, ", ", kExemplarCandidates, ") AS sdb_candidates"));
  if (!span.value.empty()) where = StrCat(where, " AND ", span.value, " IS NOT NULL");
  if (!span.bound.empty()) where = StrCat(where, " AND ", span.bound, " IS NOT NULL");
  const std::string from = Counts(m.fn) ? SampledSpansFrom(ctx, needs, kSampleRows) : SpansFrom(ctx, needs);
  const std::string statement = StrCat("SELECT ", Join(cols, ", "), " FROM ", from, " WHERE ", where, " GROUP BY ALL");
  ASSIGN_OR_RETURN(engine::Table rows, ctx.conn->Query(statement, sql.params()));
  // Quantile exemplars are routed by the quantiles' values over the range
  // (a statement of its own: DuckDB refuses parameters a statement leaves unused).
  std::vector<double> thresholds;
  if (m.fn == MetricsFn::kQuantileOverTime) {
    // Only the condition and the value: by() labels would leave parameters unused.
    traceql::SqlBuilder qsql;
    traceql::TraceColumns qneeds;
    ASSIGN_OR_RETURN(std::string qwhere, PipelineSpans(ctx, p, &qsql, &qneeds));
    ASSIGN_OR_RETURN(std::string qvalue, traceql::CompileNumber(*m.attr, &qsql, &qneeds));
    if (IsDuration(*m.attr)) qvalue = StrCat("(", qvalue, " / 1e9)");
    ASSIGN_OR_RETURN(engine::Table q, ctx.conn->Query(StrCat("SELECT CAST(to_json(", Quantiles(m, qvalue),
                                                             ") AS VARCHAR) FROM ", SpansFrom(ctx, qneeds),
                                                             " WHERE ", qwhere),
                                                      qsql.params()));
    if (!q.rows.empty()) thresholds = JsonNumbers(q.rows[0][0]);
  }
  // Candidates by series (the by() values and bound), in a stable order.
  struct Group {
    std::vector<pb::KeyValue> by;
    std::optional<double> bound;
    std::vector<ExemplarSpan> spans;
  };
  std::map<std::string, Group> groups;
  const size_t n = span.labels.size();
  for (const auto& row : rows.rows) {
    Group g{ByLabels(m, row, 0), OptionalDouble(row[n]), {}};
    std::string key = LabelKey(g.by);
    if (g.bound) key += StrCat("/", *g.bound);
    auto [it, fresh] = groups.try_emplace(key, std::move(g));
    const auto* list = std::get_if<engine::Json>(&row[n + 2]);
    if (list == nullptr) continue;
    auto parsed = nlohmann::json::parse(list->text, nullptr, false);
    if (!parsed.is_array()) continue;
    for (const auto& c : parsed) {
      ExemplarSpan e;
      if (c.value("t", nlohmann::json()).is_string()) e.trace_id = c["t"].get<std::string>();
      if (c.value("s", nlohmann::json()).is_string()) e.span_id = c["s"].get<std::string>();
      if (c.value("st", nlohmann::json()).is_number()) e.start_ns = c["st"].get<int64_t>();
      e.value = c.value("v", nlohmann::json()).is_number() ? c["v"].get<double>() : NAN;
      it->second.spans.push_back(std::move(e));
    }
  }
  for (auto& [key, g] : groups) out->AddExemplars(g.by, g.bound, std::move(g.spans), thresholds, ctx.exemplars);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SeriesSet> EvaluateLeaf(MetricsContext& ctx, const traceql::Pipeline& pipeline,
                                       const traceql::Metrics& metrics) {
  LeafBuilder out(metrics, ctx.range);
  RETURN_IF_ERROR(Aggregate(ctx, pipeline, metrics, &out));
  if (ctx.exemplars > 0) RETURN_IF_ERROR(Exemplars(ctx, pipeline, metrics, &out));
  return out.Take();
}

}  // namespace signaldb::querier
