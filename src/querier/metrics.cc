// Querier::MetricsRange: TraceQL metrics (Tempo's /api/metrics/query_range).
// The query's parts are evaluated into series sets (metrics_eval.h), second
// stages applied, and the result turned into Tempo's answer.
#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/metrics_eval.h"
#include "querier/querier.h"

namespace signaldb::querier {

uint32_t ExemplarLimit(const traceql::Query& query, uint32_t requested) {
  uint32_t limit = requested == 0 ? kMaxExemplars : requested;
  if (auto it = query.hints.find("exemplars"); it != query.hints.end()) {
    const traceql::Static& v = it->second;
    if (v.type == traceql::StaticType::kInt) limit = v.i <= 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(v.i, kMaxExemplars));
    if (v.type == traceql::StaticType::kBool && !v.b) limit = 0;
  }
  return std::min(limit, kMaxExemplars);
}

absl::StatusOr<tempopb::QueryRangeResponse> Querier::MetricsRange(const TenantContext& tenant, const traceql::Query& q,
                                                                  const MetricsRequest& req) {
  if (!q.math && (!q.metrics || !q.pipeline)) return absl::InvalidArgumentError("not a metrics query");
  if (req.step_ns <= 0) return absl::InvalidArgumentError("step must be positive");
  if (req.end_ns <= req.start_ns) return absl::InvalidArgumentError("end must be greater than start");

  ASSIGN_OR_RETURN(writer::Dataset * ds, writer_->GetDataset(tenant));
  ASSIGN_OR_RETURN(auto conn, ds->db().Connect());
  ASSIGN_OR_RETURN(TracesSource source, PlanTraces(ds, req.start_ns, req.end_ns));
  tempopb::QueryRangeResponse out;
  MetricsContext ctx;
  ctx.metrics = out.mutable_metrics();
  ctx.conn = conn.get();
  ctx.ds = ds;
  ctx.source = &source;
  ctx.range = {req.start_ns, req.end_ns, req.step_ns};
  ctx.exemplars = std::min(req.exemplars, kMaxExemplars);

  SeriesSet set;
  if (q.math) {
    ASSIGN_OR_RETURN(set, EvaluateMath(ctx, *q.math));
  } else if (q.metrics->fn == traceql::MetricsFn::kCompare) {
    ASSIGN_OR_RETURN(set, EvaluateCompare(ctx, *q.pipeline, *q.metrics));
  } else {
    ASSIGN_OR_RETURN(set, EvaluateLeaf(ctx, *q.pipeline, *q.metrics));
  }
  ApplySecondStage(q.second_stage, &set);

  AppendSeries(set, ctx.range, &out);
  auto* metrics = out.mutable_metrics();
  metrics->set_inspectedbytes(source.plan.bytes);
  metrics->set_totalblocks(static_cast<uint32_t>(source.plan.files.size()));
  metrics->set_completedjobs(1);
  metrics->set_totaljobs(1);
  return out;
}

}  // namespace signaldb::querier
