// Text forms of the syntax tree (ast.h) and the intrinsic names.
#include <cmath>
#include <cstdio>
#include <map>

#include "common/strings.h"
#include "traceql/ast.h"

namespace signaldb::traceql {

const char* OpText(Op op) {
  switch (op) {
    case Op::kNone: return "";
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kMod: return "%";
    case Op::kPow: return "^";
    case Op::kEq: return "=";
    case Op::kNeq: return "!=";
    case Op::kLt: return "<";
    case Op::kLte: return "<=";
    case Op::kGt: return ">";
    case Op::kGte: return ">=";
    case Op::kRegex: return "=~";
    case Op::kNotRegex: return "!~";
    case Op::kAnd: return "&&";
    case Op::kOr: return "||";
    case Op::kNot: return "!";
    case Op::kNeg: return "-";
  }
  return "";
}

const char* SpansetOpText(SpansetOp op) {
  switch (op) {
    case SpansetOp::kAnd: return "&&";
    case SpansetOp::kUnion: return "||";
    case SpansetOp::kChild: return ">";
    case SpansetOp::kParent: return "<";
    case SpansetOp::kDescendant: return ">>";
    case SpansetOp::kAncestor: return "<<";
    case SpansetOp::kSibling: return "~";
    case SpansetOp::kNotChild: return "!>";
    case SpansetOp::kNotParent: return "!<";
    case SpansetOp::kNotDescendant: return "!>>";
    case SpansetOp::kNotAncestor: return "!<<";
    case SpansetOp::kNotSibling: return "!~";
    case SpansetOp::kUnionChild: return "&>";
    case SpansetOp::kUnionParent: return "&<";
    case SpansetOp::kUnionDescendant: return "&>>";
    case SpansetOp::kUnionAncestor: return "&<<";
    case SpansetOp::kUnionSibling: return "&~";
  }
  return "";
}

namespace {

const std::map<std::string, Intrinsic, std::less<>>& Intrinsics();

}  // namespace

std::string Operand(const Field& f);

// A duration as Go's time.Duration.String() writes it (Tempo's text of a
// duration static): "10ms", "1.5s", "1h2m3s", "0s".
std::string DurationText(int64_t ns) {
  if (ns == 0) return "0s";
  const std::string sign = ns < 0 ? "-" : "";
  const uint64_t u = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  auto decimal = [](uint64_t v, int digits) {
    uint64_t scale = 1;
    for (int i = 0; i < digits; ++i) scale *= 10;
    std::string out = std::to_string(v / scale);
    if (v % scale != 0) {
      std::string frac = std::to_string(v % scale);
      frac.insert(0, static_cast<size_t>(digits) - frac.size(), '0');
      while (frac.back() == '0') frac.pop_back();
      out += "." + frac;
    }
    return out;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + decimal(u, 3) + "\xc2\xb5s";
  if (u < 1000000000) return sign + decimal(u, 6) + "ms";
  constexpr uint64_t kMinute = 60ULL * 1000000000;
  std::string out = decimal(u % kMinute, 9) + "s";
  const uint64_t minutes = u / kMinute;
  if (minutes > 0) {
    out = std::to_string(minutes % 60) + "m" + out;
    if (minutes >= 60) out = std::to_string(minutes / 60) + "h" + out;
  }
  return sign + out;
}

std::string FieldText(const Field& f) {
  switch (f.kind) {
    case Field::Kind::kStatic: {
      const Static& v = f.value;
      static const char* kStatus[] = {"unset", "ok", "error"};
      static const char* kKinds[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
      switch (v.type) {
        case StaticType::kNil: return "nil";
        case StaticType::kInt: return StrCat(v.i);
        case StaticType::kFloat: {
          char buf[64];
          std::snprintf(buf, sizeof(buf), "%.5f", v.f);
          return buf;
        }
        case StaticType::kString: return StrCat("`", v.s, "`");
        case StaticType::kBool: return v.b ? "true" : "false";
        case StaticType::kDuration: return DurationText(v.i);
        case StaticType::kStatus: return kStatus[v.i];
        case StaticType::kKind: return kKinds[v.i];
      }
      return "";
    }
    case Field::Kind::kAttribute: {
      static const char* kScopes[] = {"", "span", "resource", "event", "link", "instrumentation"};
      return StrCat(f.parent ? "parent." : "", kScopes[static_cast<int>(f.scope)], ".", f.name);
    }
    case Field::Kind::kIntrinsic:
      for (const auto& [name, i] : Intrinsics()) {
        if (i == f.intrinsic && name.find(':') == std::string::npos) return name;
      }
      for (const auto& [name, i] : Intrinsics()) {
        if (i == f.intrinsic) return name;
      }
      return "";
    case Field::Kind::kUnary: return StrCat(f.op == Op::kNot ? "!" : "-", Operand(*f.lhs));
    case Field::Kind::kBinary: return StrCat(Operand(*f.lhs), " ", OpText(f.op), " ", Operand(*f.rhs));
  }
  return "";
}

// An operand as Tempo's stringer writes it: statics, attributes and
// intrinsics bare, operations in parentheses.
std::string Operand(const Field& f) {
  if (f.kind == Field::Kind::kBinary || f.kind == Field::Kind::kUnary) return StrCat("(", FieldText(f), ")");
  return FieldText(f);
}

std::string AggregateText(AggregateFn fn, const Field* arg) {
  static const char* kFns[] = {"count", "avg", "max", "min", "sum"};
  return StrCat(kFns[static_cast<int>(fn)], "(", arg ? FieldText(*arg) : "", ")");
}

namespace {

const std::map<std::string, Intrinsic, std::less<>>& Intrinsics() {
  static const auto* table = new std::map<std::string, Intrinsic, std::less<>>{
      {"duration", Intrinsic::kDuration},
      {"name", Intrinsic::kName},
      {"status", Intrinsic::kStatus},
      {"statusMessage", Intrinsic::kStatusMessage},
      {"kind", Intrinsic::kKind},
      {"childCount", Intrinsic::kChildCount},
      {"parent", Intrinsic::kParent},
      {"rootName", Intrinsic::kRootName},
      {"rootServiceName", Intrinsic::kRootServiceName},
      {"traceDuration", Intrinsic::kTraceDuration},
      {"nestedSetLeft", Intrinsic::kNestedSetLeft},
      {"nestedSetRight", Intrinsic::kNestedSetRight},
      {"nestedSetParent", Intrinsic::kNestedSetParent},
      {"trace:duration", Intrinsic::kTraceDuration},
      {"trace:rootName", Intrinsic::kRootName},
      {"trace:rootService", Intrinsic::kRootServiceName},
      {"trace:id", Intrinsic::kTraceId},
      {"span:duration", Intrinsic::kDuration},
      {"span:name", Intrinsic::kName},
      {"span:kind", Intrinsic::kKind},
      {"span:status", Intrinsic::kStatus},
      {"span:statusMessage", Intrinsic::kStatusMessage},
      {"span:id", Intrinsic::kSpanId},
      {"span:parentID", Intrinsic::kParentId},
      {"span:childCount", Intrinsic::kChildCount},
      {"event:name", Intrinsic::kEventName},
      {"event:timeSinceStart", Intrinsic::kEventTimeSinceStart},
      {"link:traceID", Intrinsic::kLinkTraceId},
      {"link:spanID", Intrinsic::kLinkSpanId},
      {"instrumentation:name", Intrinsic::kInstrumentationName},
      {"instrumentation:version", Intrinsic::kInstrumentationVersion},
  };
  return *table;
}

}  // namespace

std::optional<Intrinsic> IntrinsicNamed(std::string_view name) {
  auto it = Intrinsics().find(name);
  if (it == Intrinsics().end()) return std::nullopt;
  return it->second;
}

double MetricsArithmetic(Op op, double lhs, double rhs) {
  if (std::isnan(lhs)) lhs = 0;
  if (std::isnan(rhs)) rhs = 0;
  switch (op) {
    case Op::kAdd: return lhs + rhs;
    case Op::kSub: return lhs - rhs;
    case Op::kMul: return lhs * rhs;
    case Op::kDiv: return rhs == 0 ? NAN : lhs / rhs;
    default: return NAN;
  }
}

const char* MetricsFnName(MetricsFn fn) {
  switch (fn) {
    case MetricsFn::kRate: return "rate";
    case MetricsFn::kCountOverTime: return "count_over_time";
    case MetricsFn::kMinOverTime: return "min_over_time";
    case MetricsFn::kMaxOverTime: return "max_over_time";
    case MetricsFn::kSumOverTime: return "sum_over_time";
    case MetricsFn::kAvgOverTime: return "avg_over_time";
    case MetricsFn::kQuantileOverTime: return "quantile_over_time";
    case MetricsFn::kHistogramOverTime: return "histogram_over_time";
    case MetricsFn::kCompare: return "compare";
  }
  return "";
}

}  // namespace signaldb::traceql
