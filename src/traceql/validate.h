// Type checking of a parsed TraceQL query, rejecting what Tempo rejects
// after parsing: a spanset filter that is not a condition ({ 1 + 1 },
// { status }), operands of the wrong type ({ 1 = "foo" }, { status > ok },
// { -"a" = "b" }), regular expressions RE2 cannot compile, aggregates and
// groupings that do not read the span (sum(3) = 2, by(1)), select() of
// anything but attributes and intrinsics, compare() arguments Tempo refuses
// (with its texts), compare() in metrics math or before second stages, and
// forms Tempo parses but does not run (scalar filters comparing two
// aggregates, root filters over wrapped pipelines, the `parent` intrinsic).
// Each query of metrics math is checked on its own.
//
// Types follow Tempo: int, float and duration are numbers and mix freely;
// attributes are untyped until read, so they match any operand; `nil` only
// compares with an attribute (existence).
//
// Thread-safety: a pure function.
#pragma once

#include "absl/status/status.h"
#include "traceql/ast.h"

namespace signaldb::traceql {

// OK, or InvalidArgument naming what is wrong (FailedPrecondition for
// valid TraceQL this server does not run).
absl::Status Validate(const Query& query);

}  // namespace signaldb::traceql
