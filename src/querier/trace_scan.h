// A spanset pipeline evaluated over whole traces: the algorithm of search
// (search.h), shared by search and by metrics over spanset operators and
// pipelines.
//
// Two statements per page of candidate traces: the first finds trace ids
// with spans matching the filters in a time window, pruned by the spanset
// expression's necessary condition (exact for filters combined with && and
// ||), newest first; the second reads every span of those traces from the
// files trace-by-id would plan for them, so structural operators see whole
// traces even when their spans arrived in different requests and sit in
// different files. Each trace is then evaluated (traceql/evaluate.h) and
// the later pipeline stages run on its spansets: spanset expressions
// narrow each spanset (evaluated on its spans alone, as Tempo does; empty
// ones leave), scalar filters keep the spansets whose aggregate compares
// true (carrying it as an attribute), by() splits spansets by a value,
// coalesce() merges them, select() names values shown on spans. A pipeline
// wrapped in a spanset expression runs on the spanset the expression is
// evaluated on, its spansets the operand (a wrapped pipeline that is a
// whole stage is its stages). A pipeline
// that starts with another stage starts from { } (every span). Several
// pipelines (a root scalar filter's sides) can share the statements: a
// trace then needs a result from each.
//
// Thread-safety: a TraceScan is immutable once compiled; Run() may be
// called from one thread at a time per connection.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "querier/source.h"
#include "tempopb/tempo.pb.h"
#include "traceql/ast.h"
#include "traceql/compile.h"
#include "traceql/evaluate.h"
#include "writer/writer.h"

namespace signaldb::querier {

// One span of a candidate trace.
struct ScanSpan {
  std::string span_id, parent_id, name, service;
  bool root = false;
  int64_t start = 0, duration = 0, status = 0, kind = 0;
  std::vector<bool> matches;                   // per filter of the first stage
  std::vector<bool> stage_matches;             // filters of later stages
  std::vector<std::optional<double>> numbers;  // aggregate arguments
  std::vector<opentelemetry::proto::common::v1::AnyValue> values;  // by() and select() values
  std::vector<bool> has_value;
  std::vector<engine::Value> extra;            // the caller's columns, as read
};

// A spanset of the result: indexes into the trace's spans, and the
// attributes the pipeline gave it (count() ..., by(...)).
struct ScanSet {
  std::vector<size_t> spans;
  std::vector<opentelemetry::proto::common::v1::KeyValue> attributes;
};

// A trace with a non-empty result.
struct ScannedTrace {
  std::string trace_id;  // hex, as stored
  std::vector<ScanSpan> spans;
  std::vector<ScanSet> sets;                   // the (first) pipeline's result
  std::vector<std::vector<ScanSet>> branches;  // each pipeline's result (CompileAll), in order
  std::vector<size_t> selected;  // select()ed values (indexes into value_labels())
};

class TraceScan {
 public:
  // The caller's per-span columns, compiled into the span statement's
  // parameters (read into ScanSpan::extra, in order).
  using ExtraColumns =
      std::function<absl::StatusOr<std::vector<std::string>>(traceql::SqlBuilder*, traceql::TraceColumns*)>;

  // A pipeline that does not start with a spanset expression applies to
  // every span of each trace (as if it started with { }). Spanset
  // expressions after the first stage are evaluated on each input spanset,
  // as Tempo does. A pipeline wrapped in a spanset expression runs on the
  // spanset the expression is evaluated on (the whole trace in the first
  // stage), its spansets being the operand (traceql/evaluate.h).
  static absl::StatusOr<TraceScan> Compile(const traceql::Pipeline& pipeline, const ExtraColumns& extra) {
    return CompileAll({&pipeline}, extra);
  }
  // Several pipelines evaluated over the same traces (the sides of a root
  // scalar filter): a trace is visited when each has a result;
  // ScannedTrace::branches holds them, `sets` the first one's.
  static absl::StatusOr<TraceScan> CompileAll(const std::vector<const traceql::Pipeline*>& pipelines,
                                              const ExtraColumns& extra);

  struct Window {
    std::optional<int64_t> start_unix_nano;  // traces with spans ending before are not searched
    std::optional<int64_t> end_unix_nano;    // ... nor spans starting after
    // Only traces whose latest matching span (in the window) starts in
    // [latest_from, latest_before).
    std::optional<int64_t> latest_from, latest_before;
  };
  // Reads candidates in pages of `page` traces (newest matching span
  // first), calling `visit` for each trace with a result and `more` after
  // each page (false stops). Adds what it read to `metrics` (traces, spans).
  absl::Status Run(engine::Connection* conn, writer::Dataset* ds, const TracesSource& source, const Window& window,
                   uint64_t page, const std::function<absl::Status(ScannedTrace&)>& visit,
                   const std::function<absl::StatusOr<bool>()>& more, tempopb::SearchMetrics* metrics) const;

  // The first pipeline's spanset expression.
  const traceql::Spanset& root() const { return *branches_[0].root; }
  // Whether a span's match depends on other spans of its trace (several
  // filters, structural operators, trace-level intrinsics, parent.x, ...).
  bool reads_other_spans() const { return conditions_.size() > 1 || !nested_.empty() || needs_.other_spans(); }
  // The labels of by() and select() values (FieldText), by index.
  const std::vector<std::string>& value_labels() const { return value_labels_; }

 private:
  struct Stage {
    traceql::Stage::Kind kind = traceql::Stage::Kind::kSpanset;
    size_t index = 0;  // condition / number / value column
    traceql::AggregateFn fn = traceql::AggregateFn::kCount;
    traceql::Op op = traceql::Op::kGt;
    double rhs = 0;
    std::string label;  // by(...) / count() ...
    std::vector<size_t> selected;
    const traceql::Spanset* spanset = nullptr;  // kSpanset: its filters' flags from `index`
    size_t leaves = 0;
  };
  // One pipeline: its spanset expression (the candidates' conditions are
  // conditions_[first_condition, first_condition + conditions), those of
  // its own filters, in order, conditions_[eval_conditions[i]]) and the
  // stages after it.
  struct Branch {
    std::shared_ptr<const traceql::Spanset> own_root;  // the { } a pipeline starts with when it names none
    const traceql::Spanset* root = nullptr;
    size_t first_condition = 0, conditions = 0;
    std::vector<size_t> eval_conditions;
    std::vector<Stage> stages;
  };
  // `rows` are the trace's spans (their match flags are overwritten).
  absl::StatusOr<std::vector<ScanSet>> RunStages(const std::vector<Stage>& stages, const std::vector<ScanSpan>& spans,
                                                 std::vector<traceql::SpanRow>* rows, std::vector<size_t> first,
                                                 std::vector<size_t>* selected) const;
  // The result of a spanset expression whose filters' flags are in `rows`,
  // evaluated on the spanset `input` (its wrapped pipelines run on it).
  absl::StatusOr<std::vector<size_t>> EvaluateExpression(const traceql::Spanset& expr,
                                                         const std::vector<ScanSpan>& spans,
                                                         const std::vector<traceql::SpanRow>& rows,
                                                         const std::vector<size_t>& input,
                                                         std::vector<size_t>* selected) const;

  std::vector<Branch> branches_;
  // The stages of each pipeline wrapped in a spanset expression.
  std::map<const traceql::Pipeline*, std::vector<Stage>> nested_;
  traceql::SqlBuilder base_;   // the filters' parameters
  traceql::SqlBuilder read_;   // ... and the span statement's columns'
  traceql::TraceColumns needs_;
  std::vector<std::string> conditions_;  // the first stage's filters
  std::vector<std::string> columns_;     // of the span statement
  size_t stage_conditions_ = 0, numbers_ = 0, extras_ = 0;
  std::vector<std::string> value_labels_;
};

// An aggregate over the spans of a spanset: count() of them, else
// avg/min/max/sum of the values `value` gives (spans without one are
// skipped; nullopt when none has one).
std::optional<double> AggregateSpans(traceql::AggregateFn fn, const std::vector<size_t>& spans,
                                     const std::function<std::optional<double>(size_t)>& value);

}  // namespace signaldb::querier
