// Which spans a metrics query reads (metrics_eval.h): PipelineSpans and
// SpansFrom.
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/metrics_eval.h"
#include "querier/trace_scan.h"
#include "schema/tables.h"
#include "writer/data_files.h"

namespace signaldb::querier {
namespace {

// Candidate traces read per page when matching spans over whole traces.
constexpr uint64_t kTracesPerPage = 1000;

// Evaluates `pipeline` over the traces of the range and lists the spans of
// its results that start in the range in a new temporary table (trace_id,
// span_id), filled a page of traces at a time; returns the table's name.
absl::StatusOr<std::string> MatchSpans(MetricsContext& ctx, const traceql::Pipeline& pipeline) {
  ASSIGN_OR_RETURN(TraceScan scan, TraceScan::Compile(pipeline, nullptr));
  const std::string table = StrCat("sdb_matched_", ctx.matched.size());
  RETURN_IF_ERROR(ctx.conn->Execute(StrCat("CREATE TEMP TABLE ", table, " (trace_id VARCHAR, span_id VARCHAR)")));
  std::set<std::string> traces;  // a trace seen on two pages counts once
  std::vector<std::string> page;  // "trace:span" (ids are hex)
  auto visit = [&](ScannedTrace& trace) -> absl::Status {
    if (!traces.insert(trace.trace_id).second) return absl::OkStatus();
    std::set<size_t> spans;  // a span in several spansets counts once
    for (const auto& set : trace.sets) spans.insert(set.spans.begin(), set.spans.end());
    for (size_t i : spans) {
      if (ctx.range.BucketOf(trace.spans[i].start) < 0) continue;
      page.push_back(StrCat(trace.trace_id, ":", trace.spans[i].span_id));
    }
    return absl::OkStatus();
  };
  auto flush = [&]() -> absl::StatusOr<bool> {
    if (page.empty()) return true;
    traceql::SqlBuilder sql;
    const std::string ids = sql.Bind(Join(page, ","));
    RETURN_IF_ERROR(ctx.conn
                        ->Query(StrCat("INSERT INTO ", table, " SELECT split_part(x, ':', 1), split_part(x, ':', 2) ",
                                       "FROM (SELECT unnest(string_split(", ids, ", ',')) AS x)"),
                                sql.params())
                        .status());
    page.clear();
    return true;
  };
  tempopb::SearchMetrics unused;
  RETURN_IF_ERROR(scan.Run(ctx.conn, ctx.ds, *ctx.source, {ctx.range.start_ns, ctx.range.end_ns}, kTracesPerPage,
                           visit, flush, ctx.metrics != nullptr ? ctx.metrics : &unused));
  return table;
}

bool SingleFilter(const traceql::Pipeline& pipeline) {
  return pipeline.stages.size() == 1 && pipeline.stages[0].kind == traceql::Stage::Kind::kSpanset &&
         pipeline.stages[0].spanset->kind == traceql::Spanset::Kind::kFilter;
}

}  // namespace

absl::StatusOr<std::string> PipelineSpans(MetricsContext& ctx, const traceql::Pipeline& pipeline,
                                          traceql::SqlBuilder* sql, traceql::TraceColumns* needs) {
  const std::string time = StrCat("start_time_unix_nano >= ", sql->Bind(ctx.range.start_ns),
                                  " AND start_time_unix_nano < ", sql->Bind(ctx.range.end_ns));
  if (SingleFilter(pipeline)) {
    ASSIGN_OR_RETURN(std::string cond,
                     traceql::CompileCondition(pipeline.stages[0].spanset->filter.get(), sql, needs));
    return StrCat("(", cond, ") AND ", time);
  }
  auto it = ctx.matched.find(&pipeline);
  if (it == ctx.matched.end()) {
    ASSIGN_OR_RETURN(std::string table, MatchSpans(ctx, pipeline));
    it = ctx.matched.emplace(&pipeline, std::move(table)).first;
  }
  return StrCat("EXISTS (SELECT 1 FROM ", it->second, " AS sdb_m WHERE sdb_m.trace_id = sdb_s.trace_id AND ",
                "sdb_m.span_id = sdb_s.span_id) AND ", time);
}

std::string SpansFrom(const MetricsContext& ctx, const traceql::TraceColumns& needs) {
  return StrCat(traceql::WithTraceColumns(ctx.source->sql, needs), " AS sdb_s");
}

std::string SampledSpansFrom(const MetricsContext& ctx, const traceql::TraceColumns& needs, int64_t rows_per_file) {
  // Trace-level columns need every span of a trace: no sample then.
  if (needs.other_spans() || ctx.source->plan.files.empty()) return SpansFrom(ctx, needs);
  const std::string sample =
      StrCat("(SELECT * EXCLUDE (file_row_number) FROM ",
             writer::ReadParquetById(schema::Traces(), ctx.source->plan.files, "file_row_number = true"),
             " WHERE file_row_number < ", rows_per_file, " UNION ALL BY NAME SELECT * FROM ", writer::kViewFunction,
             "('traces', ", ctx.source->plan.generation, "))");
  return StrCat(traceql::WithTraceColumns(sample, needs), " AS sdb_s");
}

}  // namespace signaldb::querier
