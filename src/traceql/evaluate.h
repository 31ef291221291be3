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
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "traceql/ast.h"

namespace signaldb::traceql {

// The spanset filters of an expression, numbered in the order
// EvaluateSpansets expects their match flags.
std::vector<const Spanset*> FilterLeaves(const Spanset& root);

// A condition every trace with a result satisfies, over per-filter "some
// span of the trace matches" flags: the SQL-side pruning of candidates.
// `any_match(i)` is the SQL for filter i; the result combines them.
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

// The result spans (indexes into `spans`, ascending) of `root` on one trace.
// FailedPrecondition for pipelines inside spanset expressions.
absl::StatusOr<std::vector<size_t>> EvaluateSpansets(const Spanset& root, const std::vector<SpanRow>& spans);

}  // namespace signaldb::traceql
