// The parts of Querier::MetricsRange (metrics.cc), each turning spans or
// series into a series set (metrics_series.h):
//
//   metrics_spans.cc     which spans a spanset pipeline matches, as SQL
//   metrics_leaf.cc      one metrics function over those spans
//   metrics_compare.cc   compare(): baseline against selection, per attribute value
//   metrics_math.cc      arithmetic between series sets and with scalars
//
// Every metrics function is computed by DuckDB over the same relation: the
// rows of the planned traces (`FROM ... AS sdb_s`) that satisfy the
// condition PipelineSpans() returns, so one aggregation serves a plain
// filter and a structural pipeline alike.
//
// Thread-safety: the functions are used by one thread at a time; they share
// nothing but the connection they are handed.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "querier/metrics_series.h"
#include "querier/source.h"
#include "traceql/ast.h"
#include "traceql/compile.h"
#include "writer/writer.h"

namespace signaldb::querier {

// What every part reads from: one connection and plan for the whole query.
struct MetricsContext {
  engine::Connection* conn = nullptr;
  writer::Dataset* ds = nullptr;
  const TracesSource* source = nullptr;
  MetricsRange range;
  uint32_t exemplars = 0;  // per series; 0: none
  tempopb::SearchMetrics* metrics = nullptr;  // what was read (traces, spans)
  std::map<const traceql::Pipeline*, std::string> matched;  // pipeline -> its matched-span table
};

// A SQL condition over `sdb_s` rows selecting the spans `pipeline` matches
// that start in the range. A single spanset filter compiles to SQL; other
// pipelines are evaluated over whole traces first (TraceScan, search's
// algorithm), once per query, and the spans they match listed in a
// temporary table the condition reads. FailedPrecondition for pipelines
// TraceScan does not run yet.
absl::StatusOr<std::string> PipelineSpans(MetricsContext& ctx, const traceql::Pipeline& pipeline,
                                          traceql::SqlBuilder* sql, traceql::TraceColumns* needs);

// The relation the condition applies to, once every column has said which
// trace columns it needs.
std::string SpansFrom(const MetricsContext& ctx, const traceql::TraceColumns& needs);
// The same over a sample: the first `rows_per_file` rows of each data file
// (spread over the file's time range, as files are sorted by trace id) and
// every unflushed span; the whole relation when trace-level columns are
// needed. For exemplars of functions that count spans, which have no
// preferred span.
std::string SampledSpansFrom(const MetricsContext& ctx, const traceql::TraceColumns& needs, int64_t rows_per_file);

// `metrics` over the spans `pipeline` matches (second stages not applied).
absl::StatusOr<SeriesSet> EvaluateLeaf(MetricsContext& ctx, const traceql::Pipeline& pipeline,
                                       const traceql::Metrics& metrics);

// compare(): see metrics_compare.cc.
absl::StatusOr<SeriesSet> EvaluateCompare(MetricsContext& ctx, const traceql::Pipeline& pipeline,
                                          const traceql::Metrics& metrics);

// Metrics math: see metrics_math.cc.
absl::StatusOr<SeriesSet> EvaluateMath(MetricsContext& ctx, const traceql::MetricsExpr& expr);

}  // namespace signaldb::querier
