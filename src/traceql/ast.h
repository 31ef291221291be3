// The TraceQL syntax tree the parser builds (parser.h): field expressions
// inside spanset filters, spanset operations, pipelines, scalar filters,
// metrics stages and hints. Nodes own their children.
//
// Thread-safety: immutable after parsing; share freely.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "traceql/lexer.h"

namespace signaldb::traceql {

enum class Op {
  kNone,
  // Arithmetic.
  kAdd, kSub, kMul, kDiv, kMod, kPow,
  // Comparison.
  kEq, kNeq, kLt, kLte, kGt, kGte, kRegex, kNotRegex,
  // Logic.
  kAnd, kOr,
  // Unary.
  kNot, kNeg,
};

// The spelling of an operator in TraceQL ("=~", "&&", ...).
const char* OpText(Op op);

enum class StaticType { kNil, kInt, kFloat, kString, kBool, kDuration, kStatus, kKind };

// OTLP status codes and span kinds, as TraceQL names them.
enum class Status { kUnset = 0, kOk = 1, kError = 2 };
enum class Kind { kUnspecified = 0, kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

struct Static {
  StaticType type = StaticType::kNil;
  int64_t i = 0;  // int, duration (ns), status, kind
  double f = 0;
  std::string s;
  bool b = false;
};

enum class Intrinsic {
  kNone,
  kDuration, kName, kStatus, kStatusMessage, kKind, kChildCount, kParent,
  kRootName, kRootServiceName, kTraceDuration, kTraceId,
  kSpanId, kParentId,
  kNestedSetLeft, kNestedSetRight, kNestedSetParent,
  kEventName, kEventTimeSinceStart,
  kLinkTraceId, kLinkSpanId,
  kInstrumentationName, kInstrumentationVersion,
};

// A node of a field expression: a static, an attribute, an intrinsic, or
// an operator over one or two nodes.
struct Field {
  enum class Kind { kStatic, kAttribute, kIntrinsic, kBinary, kUnary };
  Kind kind = Kind::kStatic;
  Op op = Op::kNone;
  std::unique_ptr<Field> lhs, rhs;  // kBinary: both; kUnary: lhs
  Static value;                     // kStatic
  Scope scope = Scope::kNone;       // kAttribute
  bool parent = false;              // kAttribute: parent.x
  std::string name;                 // kAttribute
  Intrinsic intrinsic = Intrinsic::kNone;
  int line = 1, col = 1;
};

enum class AggregateFn { kCount, kAvg, kMax, kMin, kSum };

// A scalar expression: an aggregate of the spanset, a static, arithmetic
// over them, or a wrapped pipeline ending in an aggregate.
struct Pipeline;
struct Scalar {
  enum class Kind { kAggregate, kStatic, kBinary, kPipeline };
  Kind kind = Kind::kStatic;
  AggregateFn fn = AggregateFn::kCount;
  std::unique_ptr<Field> arg;  // kAggregate (null for count())
  Static value;                // kStatic
  Op op = Op::kNone;           // kBinary
  std::unique_ptr<Scalar> lhs, rhs;
  std::unique_ptr<Pipeline> pipeline;  // kPipeline
};

struct ScalarFilter {
  Op op = Op::kEq;
  std::unique_ptr<Scalar> lhs, rhs;
};

enum class SpansetOp {
  kAnd, kUnion,
  kChild, kParent, kDescendant, kAncestor, kSibling,
  kNotChild, kNotParent, kNotDescendant, kNotAncestor, kNotSibling,
  kUnionChild, kUnionParent, kUnionDescendant, kUnionAncestor, kUnionSibling,
};
const char* SpansetOpText(SpansetOp op);

// A spanset expression: a filter, an operation on two spanset
// expressions, or a wrapped pipeline.
struct Spanset {
  enum class Kind { kFilter, kOperation, kPipeline };
  Kind kind = Kind::kFilter;
  std::unique_ptr<Field> filter;  // kFilter; null for { }
  SpansetOp op = SpansetOp::kAnd;
  std::unique_ptr<Spanset> lhs, rhs;  // kOperation
  std::unique_ptr<Pipeline> pipeline;  // kPipeline
};

struct Stage {
  enum class Kind { kSpanset, kScalarFilter, kBy, kCoalesce, kSelect };
  Kind kind = Kind::kSpanset;
  std::unique_ptr<Spanset> spanset;
  std::unique_ptr<ScalarFilter> scalar_filter;
  std::vector<std::unique_ptr<Field>> fields;  // kBy: one; kSelect: one or more
};

struct Pipeline {
  std::vector<Stage> stages;
};

enum class MetricsFn {
  kRate, kCountOverTime, kMinOverTime, kMaxOverTime, kSumOverTime, kAvgOverTime,
  kQuantileOverTime, kHistogramOverTime, kCompare,
};

struct Metrics {
  MetricsFn fn = MetricsFn::kRate;
  std::unique_ptr<Field> attr;      // *_over_time(attr), histogram_over_time(attr)
  std::vector<double> quantiles;    // quantile_over_time(attr, q...)
  std::unique_ptr<Spanset> compare; // compare({...}, topN, start, end)
  int64_t compare_top = 10;
  int64_t compare_start = 0, compare_end = 0;
  std::vector<std::unique_ptr<Field>> by;
};

struct SecondStage {
  enum class Kind { kTopK, kBottomK, kFilter };
  Kind kind = Kind::kTopK;
  int64_t n = 0;
  Op op = Op::kGt;
  double value = 0;
};

// Metrics math: parenthesised metrics queries and numbers combined with
// + - * / (Tempo's metrics expressions). Numbers next to numbers are folded
// by the parser, so a kBinary node has a query below it on some side.
struct MetricsExpr {
  enum class Kind { kQuery, kScalar, kBinary };
  Kind kind = Kind::kScalar;
  std::unique_ptr<Pipeline> pipeline;     // kQuery: the spans
  std::optional<Metrics> metrics;         // kQuery: the function
  std::vector<SecondStage> second_stage;  // kQuery: inside its parentheses
  double value = 0;                       // kScalar
  Op op = Op::kNone;                      // kBinary: kAdd, kSub, kMul or kDiv
  std::unique_ptr<MetricsExpr> lhs, rhs;  // kBinary
};

// Tempo's arithmetic between two metrics samples: a missing side (NaN)
// counts as 0, and division by zero gives NaN (no sample).
double MetricsArithmetic(Op op, double lhs, double rhs);

// The intrinsic a TraceQL name denotes ("duration", "span:duration", ...).
std::optional<Intrinsic> IntrinsicNamed(std::string_view name);
// The TraceQL name of a metrics function ("rate", "quantile_over_time", ...).
const char* MetricsFnName(MetricsFn fn);

// A duration as Go's time.Duration.String() writes it ("10ms", "1.5s").
std::string DurationText(int64_t ns);
// The TraceQL text of a field expression (for keys such as by(...)), as
// Tempo's stringer writes it: operations inside operations in parentheses,
// strings in backquotes, floats with five decimals, durations as Go's.
std::string FieldText(const Field& f);
// The TraceQL text of an aggregate ("count()", "avg(duration)").
std::string AggregateText(AggregateFn fn, const Field* arg);

struct Query {
  std::unique_ptr<Pipeline> pipeline;  // spans, or the input of metrics
  std::unique_ptr<ScalarFilter> scalar_root;  // a root scalar-pipeline filter
  std::optional<Metrics> metrics;
  std::unique_ptr<MetricsExpr> math;  // metrics math (then no pipeline nor metrics)
  std::vector<SecondStage> second_stage;  // after `metrics`, or after `math`
  std::map<std::string, Static> hints;  // with(k = v, ...)
};

}  // namespace signaldb::traceql
