// Querier::MetricsRange: TraceQL metrics (Tempo's /api/metrics/query_range)
// computed by DuckDB over the spans of one spanset filter, bucketed by step.
#include <algorithm>
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

// Durations are reported in seconds, as Tempo does.
bool IsDuration(const traceql::Field& f) {
  return f.kind == traceql::Field::Kind::kIntrinsic &&
         (f.intrinsic == traceql::Intrinsic::kDuration || f.intrinsic == traceql::Intrinsic::kTraceDuration ||
          f.intrinsic == traceql::Intrinsic::kEventTimeSinceStart);
}

// The mean of a series' samples (NaN without any), what topk and bottomk
// rank series by, as Tempo does.
double MeanOf(const tempopb::TimeSeries& ts) {
  double sum = 0;
  int n = 0;
  for (const auto& s : ts.samples()) {
    if (std::isnan(s.value())) continue;
    sum += s.value();
    ++n;
  }
  return n == 0 ? NAN : sum / n;
}

// Second stages, in order: comparisons keep the samples that satisfy them
// (series left without samples go); topk/bottomk keep the N series with the
// highest/lowest mean (series without one rank last).
void ApplySecondStage(const std::vector<traceql::SecondStage>& stages, tempopb::QueryRangeResponse* out) {
  for (const auto& st : stages) {
    auto* series = out->mutable_series();
    if (st.kind == traceql::SecondStage::Kind::kFilter) {
      for (auto& ts : *series) {
        auto* samples = ts.mutable_samples();
        samples->erase(std::remove_if(samples->begin(), samples->end(),
                                      [&](const tempopb::Sample& s) { return !CompareNumbers(s.value(), st.op, st.value); }),
                       samples->end());
      }
      series->erase(std::remove_if(series->begin(), series->end(),
                                   [](const tempopb::TimeSeries& ts) { return ts.samples_size() == 0; }),
                    series->end());
      continue;
    }
    const bool top = st.kind == traceql::SecondStage::Kind::kTopK;
    std::vector<std::pair<double, int>> order;
    for (int i = 0; i < series->size(); ++i) order.emplace_back(MeanOf(series->Get(i)), i);
    std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      if (std::isnan(a.first) != std::isnan(b.first)) return !std::isnan(a.first);
      return top ? a.first > b.first : a.first < b.first;
    });
    google::protobuf::RepeatedPtrField<tempopb::TimeSeries> kept;
    for (size_t k = 0; k < order.size() && k < static_cast<size_t>(st.n); ++k) {
      *kept.Add() = series->Get(order[k].second);
    }
    series->Swap(&kept);
  }
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
  if (m.fn == MetricsFn::kCompare) return absl::FailedPreconditionError("compare() is not supported yet");
  if (req.step_ns <= 0) return absl::InvalidArgumentError("step must be positive");
  if (req.end_ns <= req.start_ns) return absl::InvalidArgumentError("end must be greater than start");
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
  std::string histogram_bucket;  // histogram_over_time: a power-of-two upper bound
  if (m.attr) {
    ASSIGN_OR_RETURN(std::string v, traceql::CompileNumber(*m.attr, &sql, &needs));
    if (IsDuration(*m.attr)) v = StrCat("(", v, " / 1e9)");
    if (m.fn == MetricsFn::kHistogramOverTime) {
      histogram_bucket = StrCat("CASE WHEN ", v, " > 0 THEN power(2, ceil(log2(", v, "))) END");
    }
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
  if (!histogram_bucket.empty()) cols.push_back(StrCat(histogram_bucket, " AS sdb_histogram"));

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
  const bool counts =
      m.fn == MetricsFn::kRate || m.fn == MetricsFn::kCountOverTime || m.fn == MetricsFn::kHistogramOverTime;
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
      kv.mutable_value()->set_string_value(traceql::MetricsFnName(m.fn));
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
      if (m.fn == MetricsFn::kHistogramOverTime) {
        // Spans without a positive value fall in no bucket.
        const double* bound = std::get_if<double>(&row[nlabels + 2]);
        if (bound == nullptr) continue;
        pb::KeyValue b;
        b.set_key("__bucket");
        b.mutable_value()->set_double_value(*bound);
        l.push_back(std::move(b));
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
  ApplySecondStage(q.second_stage, &out);
  auto* metrics = out.mutable_metrics();
  metrics->set_inspectedbytes(source.plan.bytes);
  metrics->set_totalblocks(static_cast<uint32_t>(source.plan.files.size()));
  metrics->set_completedjobs(1);
  metrics->set_totaljobs(1);
  return out;
}

}  // namespace signaldb::querier
