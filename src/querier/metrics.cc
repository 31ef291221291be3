// Querier::MetricsRange: TraceQL metrics (Tempo's /api/metrics/query_range)
// computed by DuckDB over the spans of one spanset filter, bucketed by step.
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/querier.h"
#include "querier/source.h"
#include "traceql/compile.h"

namespace signaldb::querier {
namespace {

namespace pb = opentelemetry::proto::common::v1;

const char* FnName(traceql::MetricsFn fn) {
  switch (fn) {
    case traceql::MetricsFn::kRate: return "rate";
    case traceql::MetricsFn::kCountOverTime: return "count_over_time";
    case traceql::MetricsFn::kMinOverTime: return "min_over_time";
    case traceql::MetricsFn::kMaxOverTime: return "max_over_time";
    case traceql::MetricsFn::kSumOverTime: return "sum_over_time";
    case traceql::MetricsFn::kAvgOverTime: return "avg_over_time";
    case traceql::MetricsFn::kQuantileOverTime: return "quantile_over_time";
    case traceql::MetricsFn::kHistogramOverTime: return "histogram_over_time";
    case traceql::MetricsFn::kCompare: return "compare";
  }
  return "";
}

// Durations are reported in seconds, as Tempo does.
bool IsDuration(const traceql::Field& f) {
  return f.kind == traceql::Field::Kind::kIntrinsic &&
         (f.intrinsic == traceql::Intrinsic::kDuration || f.intrinsic == traceql::Intrinsic::kTraceDuration ||
          f.intrinsic == traceql::Intrinsic::kEventTimeSinceStart);
}

}  // namespace

absl::StatusOr<tempopb::QueryRangeResponse> Querier::MetricsRange(const TenantContext& ctx, const traceql::Query& q,
                                                                  const MetricsRequest& req) {
  using traceql::MetricsFn;
  if (!q.metrics || !q.pipeline || q.pipeline->stages.size() != 1 ||
      q.pipeline->stages[0].kind != traceql::Stage::Kind::kSpanset ||
      q.pipeline->stages[0].spanset->kind != traceql::Spanset::Kind::kFilter) {
    return absl::FailedPreconditionError(
        "TraceQL metrics over one spanset filter are supported, e.g. { status = error } | rate() by "
        "(resource.service.name); spanset operators and pipelines before the metrics function are not yet");
  }
  const traceql::Metrics& m = *q.metrics;
  if (m.fn == MetricsFn::kHistogramOverTime || m.fn == MetricsFn::kCompare || !q.second_stage.empty()) {
    return absl::FailedPreconditionError(
        "histogram_over_time, compare and second stages (topk, bottomk, filters) are not supported yet");
  }
  if (req.step_ns <= 0 || req.end_ns <= req.start_ns) return absl::InvalidArgumentError("end must be greater than start");
  const int64_t buckets = (req.end_ns - req.start_ns + req.step_ns - 1) / req.step_ns;

  traceql::SqlBuilder sql;
  traceql::TraceColumns needs;
  ASSIGN_OR_RETURN(std::string cond,
                   traceql::CompileCondition(q.pipeline->stages[0].spanset->filter.get(), &sql, &needs));
  std::vector<std::string> cols;
  for (const auto& b : m.by) {
    if (b->kind == traceql::Field::Kind::kAttribute) {
      for (auto& c : traceql::AttributeValueColumns({b->scope, b->name}, &sql)) cols.push_back(std::move(c));
    } else {
      ASSIGN_OR_RETURN(std::string text, traceql::CompileText(*b, &sql, &needs));
      cols.push_back(text);
      for (size_t k = 1; k < traceql::kAttributeValueColumns; ++k) cols.push_back("NULL::VARCHAR");
    }
  }
  const std::string start = sql.Bind(req.start_ns);
  const std::string step = sql.Bind(req.step_ns);
  cols.push_back(StrCat("CAST(floor((start_time_unix_nano - ", start, ") / ", step, ") AS BIGINT) AS sdb_bucket"));
  std::string aggregate = "count(*)";
  if (m.attr) {
    ASSIGN_OR_RETURN(std::string v, traceql::CompileNumber(*m.attr, &sql, &needs));
    if (IsDuration(*m.attr)) v = StrCat("(", v, " / 1e9)");
    switch (m.fn) {
      case MetricsFn::kMinOverTime: aggregate = StrCat("min(", v, ")"); break;
      case MetricsFn::kMaxOverTime: aggregate = StrCat("max(", v, ")"); break;
      case MetricsFn::kSumOverTime: aggregate = StrCat("sum(", v, ")"); break;
      case MetricsFn::kAvgOverTime: aggregate = StrCat("avg(", v, ")"); break;
      case MetricsFn::kQuantileOverTime: {
        std::vector<std::string> qs;
        for (double x : m.quantiles) qs.push_back(StrCat(x));
        aggregate = StrCat("quantile_cont(", v, ", [", Join(qs, ", "), "])");
        break;
      }
      default: break;
    }
  }
  const size_t nlabels = m.by.size() * traceql::kAttributeValueColumns;
  cols.push_back(StrCat("CAST(to_json(", aggregate, ") AS VARCHAR) AS sdb_value"));

  ASSIGN_OR_RETURN(writer::Dataset * ds, writer_->GetDataset(ctx));
  ASSIGN_OR_RETURN(auto conn, ds->db().Connect());
  ASSIGN_OR_RETURN(TracesSource source, PlanTraces(ds, req.start_ns, req.end_ns));
  const std::string end = sql.Bind(req.end_ns);
  const std::string statement =
      StrCat("SELECT ", Join(cols, ", "), " FROM ", traceql::WithTraceColumns(source.sql, needs), " WHERE ", cond,
             " AND start_time_unix_nano >= ", start, " AND start_time_unix_nano < ", end, " GROUP BY ALL");
  ASSIGN_OR_RETURN(engine::Table rows, conn->Query(statement, sql.params()));

  // Series by their labels; values per bucket.
  struct Series {
    std::vector<pb::KeyValue> labels;
    std::map<int64_t, double> values;
  };
  std::map<std::string, Series> series;
  const bool counts = m.fn == MetricsFn::kRate || m.fn == MetricsFn::kCountOverTime;
  const double step_seconds = static_cast<double>(req.step_ns) / 1e9;
  for (const auto& row : rows.rows) {
    std::vector<pb::KeyValue> labels;
    for (size_t i = 0; i < m.by.size(); ++i) {
      pb::KeyValue kv;
      kv.set_key(traceql::FieldText(*m.by[i]));
      if (!ReadAttributeValue(row, i * traceql::kAttributeValueColumns, kv.mutable_value())) {
        kv.mutable_value()->set_string_value("nil");
      }
      labels.push_back(std::move(kv));
    }
    if (m.by.empty()) {
      pb::KeyValue kv;
      kv.set_key("__name__");
      kv.mutable_value()->set_string_value(FnName(m.fn));
      labels.push_back(std::move(kv));
    }
    const int64_t bucket = std::get<int64_t>(row[nlabels]);
    if (bucket < 0 || bucket >= buckets) continue;
    const std::string json = std::get_if<std::string>(&row[nlabels + 1]) ? std::get<std::string>(row[nlabels + 1]) : "";
    std::vector<double> values;
    // A number, or for quantiles a list of them (NaN and null skip the sample).
    auto parsed = nlohmann::json::parse(json, nullptr, false);
    if (parsed.is_number()) {
      values.push_back(parsed.get<double>());
    } else if (parsed.is_array()) {
      for (const auto& x : parsed) values.push_back(x.is_number() ? x.get<double>() : NAN);
    }
    for (size_t k = 0; k < values.size(); ++k) {
      std::vector<pb::KeyValue> l = labels;
      if (m.fn == MetricsFn::kQuantileOverTime) {
        pb::KeyValue p;
        p.set_key("p");
        p.mutable_value()->set_double_value(m.quantiles[k]);
        l.push_back(std::move(p));
      }
      std::string key;
      for (const auto& kv : l) key += kv.SerializeAsString();
      Series& s = series[key];
      if (s.labels.empty()) s.labels = std::move(l);
      s.values[bucket] = m.fn == MetricsFn::kRate ? values[k] / step_seconds : values[k];
    }
  }
  tempopb::QueryRangeResponse out;
  for (auto& [key, s] : series) {
    auto* ts = out.add_series();
    for (auto& kv : s.labels) *ts->add_labels() = std::move(kv);
    for (int64_t b = 0; b < buckets; ++b) {
      auto it = s.values.find(b);
      // Counts are 0 where nothing happened; other functions have no value there.
      if (it == s.values.end() && !counts) continue;
      const double v = it == s.values.end() ? 0 : it->second;
      if (std::isnan(v)) continue;
      auto* sample = ts->add_samples();
      sample->set_timestamp_ms((req.start_ns + b * req.step_ns) / 1000000);
      sample->set_value(v);
    }
  }
  auto* metrics = out.mutable_metrics();
  metrics->set_inspectedbytes(source.plan.bytes);
  metrics->set_totalblocks(static_cast<uint32_t>(source.plan.files.size()));
  metrics->set_completedjobs(1);
  metrics->set_totaljobs(1);
  return out;
}

}  // namespace signaldb::querier
