// Evaluation of TraceQL spanset expressions over one trace, given which
// spans match each spanset filter: `&&` and `||` between spansets, and the
// structural operators, which need the whole trace's parent links
// (relations hold across spans that arrived in different requests and sit
// in different files, because the caller hands over every span of the
// trace).
//
//   A && B    A ∪ B when both are non-empty          A || B   A ∪ B
//   A > B     B spans whose parent is in A           A < B    B spans that are the parent of an A span
//   A >> B    B spans with an ancestor in A          A << B   B spans that are an ancestor of an A span
//   A ~ B     B spans with a sibling in A (same parent, another span)
//   !> !< !>> !<< !~   B spans for which the relation does not hold
//   &> &< &>> &<< &~   the A and B spans for which it holds
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "traceql/ast.h"

namespace signaldb::traceql {

// The spanset filters of an expression, numbered in the order
// EvaluateSpansets expects their match flags.
std::vector<const Spanset*> FilterLeaves(const Spanset& root);

// The filters TraceNecessaryCondition reads, in its order: FilterLeaves,
// with a wrapped pipeline's place taken by the filters of its first stage
// (when that is a spanset expression), recursively.
std::vector<const Spanset*> ConditionFilterLeaves(const Spanset& root);

// A condition every trace with a result satisfies, over per-filter "some
// span of the trace matches" flags: the SQL-side pruning of candidates.
// `any_match(i)` is the SQL for filter i of ConditionFilterLeaves; the
// result combines them. A wrapped pipeline needs its first stage's result.
std::string TraceNecessaryCondition(const Spanset& root, const std::vector<std::string>& any_match);

// True when the expression is only filters combined with && and ||: then
// TraceNecessaryCondition is also sufficient, and the result is every
// span matching some filter.
bool OnlyFilters(const Spanset& root);

struct SpanRow {
  std::string span_id;
  std::string parent_id;  // empty for a root
  std::vector<bool> matches;  // one per filter leaf
};

// The spansets a wrapped pipeline gives (each the indexes of its spans)
// when run on the spanset the expression is evaluated on.
using PipelineResults = std::function<absl::StatusOr<std::vector<std::vector<size_t>>>(const Pipeline&)>;

// The result spans (indexes into `spans`, ascending) of `root` on one trace.
// A wrapped pipeline's operand is every span of the spansets `pipelines`
// gives for it (&& and || need one spanset, and pool them all); a
// structural operator between operands of several spansets is
// InvalidArgument, as in Tempo (coalesce() first).
absl::StatusOr<std::vector<size_t>> EvaluateSpansets(const Spanset& root, const std::vector<SpanRow>& spans,
                                                     const PipelineResults& pipelines = {});

}  // namespace signaldb::traceql
