// Which spans a metrics query reads (metrics_eval.h): PipelineSpans and
// SpansFrom.
#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/metrics_eval.h"

namespace signaldb::querier {

absl::StatusOr<std::string> PipelineSpans(MetricsContext& ctx, const traceql::Pipeline& pipeline,
                                          traceql::SqlBuilder* sql, traceql::TraceColumns* needs) {
  const std::string time = StrCat("start_time_unix_nano >= ", sql->Bind(ctx.range.start_ns),
                                  " AND start_time_unix_nano < ", sql->Bind(ctx.range.end_ns));
  if (pipeline.stages.size() != 1 || pipeline.stages[0].kind != traceql::Stage::Kind::kSpanset ||
      pipeline.stages[0].spanset->kind != traceql::Spanset::Kind::kFilter) {
    return absl::FailedPreconditionError(
        "TraceQL metrics over one spanset filter are supported, e.g. { status = error } | rate() by "
        "(resource.service.name); spanset operators and pipelines before the metrics function are not yet");
  }
  ASSIGN_OR_RETURN(std::string cond, traceql::CompileCondition(pipeline.stages[0].spanset->filter.get(), sql, needs));
  return StrCat("(", cond, ") AND ", time);
}

std::string SpansFrom(const MetricsContext& ctx, const traceql::TraceColumns& needs) {
  return StrCat(traceql::WithTraceColumns(ctx.source->sql, needs), " AS sdb_s");
}

}  // namespace signaldb::querier
