#include "traceql/validate.h"

#include <re2/re2.h>

#include "common/status_macros.h"
#include "common/strings.h"

namespace signaldb::traceql {
namespace {

// What a field expression evaluates to. kAny: an attribute, whose type is
// known only per span.
enum class Type { kAny, kNil, kBool, kNumber, kString, kStatus, kKind };

const char* TypeName(Type t) {
  switch (t) {
    case Type::kAny: return "attribute";
    case Type::kNil: return "nil";
    case Type::kBool: return "boolean";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kStatus: return "status";
    case Type::kKind: return "kind";
  }
  return "?";
}

Type StaticTypeOf(const Static& v) {
  switch (v.type) {
    case StaticType::kNil: return Type::kNil;
    case StaticType::kInt:
    case StaticType::kFloat:
    case StaticType::kDuration: return Type::kNumber;
    case StaticType::kString: return Type::kString;
    case StaticType::kBool: return Type::kBool;
    case StaticType::kStatus: return Type::kStatus;
    case StaticType::kKind: return Type::kKind;
  }
  return Type::kAny;
}

absl::StatusOr<Type> IntrinsicType(Intrinsic i) {
  switch (i) {
    case Intrinsic::kDuration:
    case Intrinsic::kTraceDuration:
    case Intrinsic::kEventTimeSinceStart:
    case Intrinsic::kChildCount:
    case Intrinsic::kNestedSetLeft:
    case Intrinsic::kNestedSetRight:
    case Intrinsic::kNestedSetParent: return Type::kNumber;
    case Intrinsic::kStatus: return Type::kStatus;
    case Intrinsic::kKind: return Type::kKind;
    case Intrinsic::kParent:
      return absl::FailedPreconditionError("the parent intrinsic is not supported; use parent.<attribute>");
    case Intrinsic::kNone: return Type::kAny;
    default: return Type::kString;  // names, messages and ids (hex)
  }
}

absl::Status Invalid(const Field& at, std::string what) {
  return absl::InvalidArgumentError(StrCat("invalid TraceQL at line ", at.line, ", col ", at.col, ": ", what));
}

// True when the expression reads something of the span (an attribute or
// an intrinsic), not only statics.
bool ReadsSpan(const Field& f) {
  switch (f.kind) {
    case Field::Kind::kAttribute:
    case Field::Kind::kIntrinsic: return true;
    case Field::Kind::kStatic: return false;
    case Field::Kind::kUnary: return ReadsSpan(*f.lhs);
    case Field::Kind::kBinary: return ReadsSpan(*f.lhs) || ReadsSpan(*f.rhs);
  }
  return false;
}

absl::StatusOr<Type> Check(const Field& f) {
  switch (f.kind) {
    case Field::Kind::kStatic: return StaticTypeOf(f.value);
    case Field::Kind::kAttribute: return Type::kAny;
    case Field::Kind::kIntrinsic: return IntrinsicType(f.intrinsic);
    case Field::Kind::kUnary: {
      ASSIGN_OR_RETURN(Type t, Check(*f.lhs));
      if (f.op == Op::kNot) {
        if (t != Type::kBool && t != Type::kAny) return Invalid(f, StrCat("! needs a boolean, not a ", TypeName(t)));
        return Type::kBool;
      }
      if (t != Type::kNumber && t != Type::kAny) return Invalid(f, StrCat("- needs a number, not a ", TypeName(t)));
      return t;
    }
    case Field::Kind::kBinary: break;
  }
  ASSIGN_OR_RETURN(Type l, Check(*f.lhs));
  ASSIGN_OR_RETURN(Type r, Check(*f.rhs));
  const bool any = l == Type::kAny || r == Type::kAny;
  auto mismatch = [&] {
    return Invalid(f, StrCat("binary operation ", OpText(f.op), " cannot compare a ", TypeName(l), " with a ",
                             TypeName(r)));
  };
  switch (f.op) {
    case Op::kAnd:
    case Op::kOr:
      if ((l != Type::kBool && l != Type::kAny) || (r != Type::kBool && r != Type::kAny)) {
        return Invalid(f, StrCat(OpText(f.op), " needs booleans, not a ", TypeName(l), " and a ", TypeName(r)));
      }
      return Type::kBool;
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kMod:
    case Op::kPow:
      if ((l != Type::kNumber && l != Type::kAny) || (r != Type::kNumber && r != Type::kAny)) {
        return Invalid(f, StrCat("arithmetic ", OpText(f.op), " needs numbers, not a ", TypeName(l), " and a ",
                                 TypeName(r)));
      }
      return any ? Type::kAny : Type::kNumber;
    case Op::kEq:
    case Op::kNeq:
      if (l == Type::kNil || r == Type::kNil) {
        // Existence: an attribute (or parent) against nil.
        if (!any) return mismatch();
        return Type::kBool;
      }
      if (!any && l != r) return mismatch();
      return Type::kBool;
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte:
      for (Type t : {l, r}) {
        if (t == Type::kNil || t == Type::kBool || t == Type::kStatus || t == Type::kKind) {
          return Invalid(f, StrCat(OpText(f.op), " cannot order a ", TypeName(t)));
        }
      }
      if (!any && l != r) return mismatch();
      return Type::kBool;
    case Op::kRegex:
    case Op::kNotRegex: {
      if ((l != Type::kString && l != Type::kAny) || r != Type::kString || f.rhs->kind != Field::Kind::kStatic) {
        return Invalid(f, StrCat(OpText(f.op), " matches a string against a regular expression string"));
      }
      RE2 re(f.rhs->value.s, RE2::Quiet);
      if (!re.ok()) return Invalid(f, StrCat("invalid regular expression \"", f.rhs->value.s, "\": ", re.error()));
      return Type::kBool;
    }
    default:
      return mismatch();
  }
}

absl::Status CheckSpanset(const Spanset& s);
absl::Status CheckPipeline(const Pipeline& p);

absl::Status CheckFilter(const Spanset& s) {
  if (!s.filter) return absl::OkStatus();
  ASSIGN_OR_RETURN(Type t, Check(*s.filter));
  if (t != Type::kBool && t != Type::kAny) {
    return Invalid(*s.filter, StrCat("a spanset filter must be a condition, not a ", TypeName(t)));
  }
  return absl::OkStatus();
}

absl::Status CheckSpanset(const Spanset& s) {
  switch (s.kind) {
    case Spanset::Kind::kFilter: return CheckFilter(s);
    case Spanset::Kind::kOperation:
      RETURN_IF_ERROR(CheckSpanset(*s.lhs));
      return CheckSpanset(*s.rhs);
    case Spanset::Kind::kPipeline: return CheckPipeline(*s.pipeline);
  }
  return absl::OkStatus();
}

absl::Status CheckAggregate(const Scalar& s) {
  if (s.fn == AggregateFn::kCount) return absl::OkStatus();
  ASSIGN_OR_RETURN(Type t, Check(*s.arg));
  if (t != Type::kNumber && t != Type::kAny) {
    return Invalid(*s.arg, StrCat("aggregates need a number, not a ", TypeName(t)));
  }
  if (!ReadsSpan(*s.arg)) return Invalid(*s.arg, "an aggregate must read the span (an attribute or intrinsic)");
  return absl::OkStatus();
}

// Tempo runs scalar filters of the form aggregate <op> number.
absl::Status CheckScalarFilter(const ScalarFilter& f) {
  if (f.lhs->kind == Scalar::Kind::kAggregate) RETURN_IF_ERROR(CheckAggregate(*f.lhs));
  if (f.rhs->kind == Scalar::Kind::kAggregate) RETURN_IF_ERROR(CheckAggregate(*f.rhs));
  if (f.rhs->kind == Scalar::Kind::kStatic && StaticTypeOf(f.rhs->value) != Type::kNumber) {
    return absl::InvalidArgumentError(StrCat("a scalar filter compares with a number, not a ",
                                             TypeName(StaticTypeOf(f.rhs->value))));
  }
  if (f.lhs->kind == Scalar::Kind::kStatic && StaticTypeOf(f.lhs->value) != Type::kNumber) {
    return absl::InvalidArgumentError("a scalar filter compares numbers");
  }
  if (f.lhs->kind != Scalar::Kind::kAggregate || f.rhs->kind != Scalar::Kind::kStatic) {
    return absl::FailedPreconditionError(
        "unsupported scalar filter: only <aggregate> <comparison> <number> is supported, e.g. count() > 2");
  }
  return absl::OkStatus();
}

absl::Status CheckSpanField(const Field& f, const char* where, bool plain) {
  RETURN_IF_ERROR(Check(f).status());
  if (plain && f.kind != Field::Kind::kAttribute && f.kind != Field::Kind::kIntrinsic) {
    return Invalid(f, StrCat(where, " takes attributes and intrinsics only"));
  }
  if (!ReadsSpan(f)) return Invalid(f, StrCat(where, " must read the span (an attribute or intrinsic)"));
  return absl::OkStatus();
}

absl::Status CheckPipeline(const Pipeline& p) {
  for (const Stage& st : p.stages) {
    switch (st.kind) {
      case Stage::Kind::kSpanset: RETURN_IF_ERROR(CheckSpanset(*st.spanset)); break;
      case Stage::Kind::kScalarFilter: RETURN_IF_ERROR(CheckScalarFilter(*st.scalar_filter)); break;
      case Stage::Kind::kBy: RETURN_IF_ERROR(CheckSpanField(*st.fields[0], "by()", false)); break;
      case Stage::Kind::kSelect:
        for (const auto& f : st.fields) RETURN_IF_ERROR(CheckSpanField(*f, "select()", true));
        break;
      case Stage::Kind::kCoalesce: break;
    }
  }
  return absl::OkStatus();
}

// A side of a root scalar filter: wrapped pipelines ending in an
// aggregate, numbers, and arithmetic over them.
absl::Status CheckScalarRootSide(const Scalar& s) {
  switch (s.kind) {
    case Scalar::Kind::kPipeline:
      RETURN_IF_ERROR(CheckPipeline(*s.pipeline));
      return CheckAggregate(*s.lhs);
    case Scalar::Kind::kAggregate: return CheckAggregate(s);
    case Scalar::Kind::kStatic:
      if (StaticTypeOf(s.value) != Type::kNumber) {
        return absl::InvalidArgumentError(
            StrCat("a scalar filter compares numbers, not a ", TypeName(StaticTypeOf(s.value))));
      }
      return absl::OkStatus();
    case Scalar::Kind::kBinary:
      RETURN_IF_ERROR(CheckScalarRootSide(*s.lhs));
      return CheckScalarRootSide(*s.rhs);
  }
  return absl::OkStatus();
}

absl::Status CheckMetrics(const Metrics& m) {
  if (m.attr) {
    ASSIGN_OR_RETURN(Type t, Check(*m.attr));
    if (t != Type::kNumber && t != Type::kAny) {
      return Invalid(*m.attr, StrCat("metrics over time need a number, not a ", TypeName(t)));
    }
    if (!ReadsSpan(*m.attr)) return Invalid(*m.attr, "metrics over time must read the span");
  }
  for (double q : m.quantiles) {
    if (!(q >= 0 && q <= 1)) return absl::InvalidArgumentError(StrCat("quantile ", q, " is not between 0 and 1"));
  }
  if (m.compare) {
    if (m.compare->kind != Spanset::Kind::kFilter) {
      return absl::InvalidArgumentError("compare() takes a spanset filter { ... }");
    }
    RETURN_IF_ERROR(CheckFilter(*m.compare));
    // Tempo's texts (MetricsCompare.validate).
    if (m.compare_top <= 0) {
      return absl::InvalidArgumentError("compare() top number of values must be integer greater than 0");
    }
    if (m.compare_start != 0 || m.compare_end != 0) {
      if (m.compare_start <= 0 || m.compare_end <= 0) {
        return absl::InvalidArgumentError("compare() timestamps must be positive integer unix nanoseconds");
      }
      if (m.compare_end <= m.compare_start) {
        return absl::InvalidArgumentError("compare() end timestamp must be greater than start timestamp");
      }
    }
  }
  for (const auto& b : m.by) RETURN_IF_ERROR(CheckSpanField(*b, "by()", true));
  return absl::OkStatus();
}

absl::Status CheckSecondStages(const std::vector<SecondStage>& stages) {
  for (const auto& s : stages) {
    if (s.kind != SecondStage::Kind::kFilter && s.n <= 0) {
      return absl::InvalidArgumentError("topk() and bottomk() need a positive count");
    }
  }
  return absl::OkStatus();
}

// Each query of metrics math on its own; compare() answers series of
// another kind and takes no part in arithmetic.
absl::Status CheckMath(const MetricsExpr& e) {
  switch (e.kind) {
    case MetricsExpr::Kind::kScalar: return absl::OkStatus();
    case MetricsExpr::Kind::kBinary:
      RETURN_IF_ERROR(CheckMath(*e.lhs));
      return CheckMath(*e.rhs);
    case MetricsExpr::Kind::kQuery: break;
  }
  RETURN_IF_ERROR(CheckPipeline(*e.pipeline));
  RETURN_IF_ERROR(CheckMetrics(*e.metrics));
  if (e.metrics->fn == MetricsFn::kCompare) return absl::InvalidArgumentError("compare() cannot be used in metrics math");
  return CheckSecondStages(e.second_stage);
}

}  // namespace

absl::Status Validate(const Query& q) {
  if (q.scalar_root) {
    RETURN_IF_ERROR(CheckScalarRootSide(*q.scalar_root->lhs));
    RETURN_IF_ERROR(CheckScalarRootSide(*q.scalar_root->rhs));
  }
  if (q.pipeline) RETURN_IF_ERROR(CheckPipeline(*q.pipeline));
  if (q.metrics) {
    RETURN_IF_ERROR(CheckMetrics(*q.metrics));
    if (q.metrics->fn == MetricsFn::kCompare && !q.second_stage.empty()) {
      return absl::InvalidArgumentError("compare() cannot be followed by topk(), bottomk() or a comparison");
    }
  }
  if (q.math) RETURN_IF_ERROR(CheckMath(*q.math));
  return CheckSecondStages(q.second_stage);
}

}  // namespace signaldb::traceql
