#include "traceql/compile.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace signaldb::traceql {

std::string SqlBuilder::Bind(engine::Param value) {
  // Typed placeholders: DuckDB then knows every parameter's type when it
  // prepares the statement (and so the result's columns).
  const char* type = "";
  if (std::holds_alternative<std::string>(value)) type = "::VARCHAR";
  else if (std::holds_alternative<int64_t>(value)) type = "::BIGINT";
  else if (std::holds_alternative<double>(value)) type = "::DOUBLE";
  else if (std::holds_alternative<bool>(value)) type = "::BOOLEAN";
  params_.push_back(std::move(value));
  return StrCat("$", params_.size(), type);
}

namespace {

// Prefix of the parent span's columns WithTraceColumns joins in.
constexpr const char* kParentPrefix = "__parent_";

// The value of an OTLP JSON attribute list entry named by `key`.
std::string JsonValue(const std::string& column, const std::string& key) {
  return StrCat("(list_filter(CAST(", column, " AS JSON[]), lambda kv: (kv->>'key') = ", key, ")[1]->'value')");
}

// The SQL reading one attribute of one scope, by value kind. Each is NULL
// when the attribute is absent or of another kind; exists() is never NULL.
// The name is bound as a parameter on first use (an unused parameter is an
// error in DuckDB).
class Accessor {
 public:
  // kEvent and kLink read one element of a span's events or links: for
  // kEvent/kLink `prefix` is that element's SQL (Compiler::Element).
  enum class Source { kSpan, kResource, kScope, kEvent, kLink };
  // `prefix` names the columns of another row (WithTraceColumns' parent
  // columns, "__parent_") instead of the span's own.
  Accessor(Source source, std::string name, SqlBuilder* sql, std::string prefix = "")
      : source_(source), name_(std::move(name)), sql_(sql), prefix_(std::move(prefix)) {}

  // resource.service.name has a column of its own (dictionary-encoded, no
  // JSON per row); it is a string, never another kind. (The key is still
  // bound and used: DuckDB refuses unused parameters.)
  bool ServiceName() const { return source_ == Source::kResource && name_ == "service.name"; }
  std::string str() {
    if (ServiceName()) return StrCat("(CASE WHEN ", Key(), " IS NOT NULL THEN ", prefix_, "service_name END)");
    return Typed("span_attributes_string", StrCat("(", Json(), "->>'stringValue')"));
  }
  std::string i64() {
    if (ServiceName()) return "CAST(NULL AS BIGINT)";
    return Typed("span_attributes_int", StrCat("TRY_CAST(", Json(), "->>'intValue' AS BIGINT)"));
  }
  std::string f64() {
    if (ServiceName()) return "CAST(NULL AS DOUBLE)";
    return Typed("span_attributes_double", StrCat("TRY_CAST(", Json(), "->>'doubleValue' AS DOUBLE)"));
  }
  std::string boolean() {
    if (ServiceName()) return "CAST(NULL AS BOOLEAN)";
    return Typed("span_attributes_bool", StrCat("TRY_CAST(", Json(), "->>'boolValue' AS BOOLEAN)"));
  }
  std::string exists() {
    const std::string key = Key();
    std::string in_json = StrCat("list_contains(list_transform(CAST(", JsonColumn(),
                                 " AS JSON[]), lambda kv: kv->>'key'), ", key, ")");
    if (source_ != Source::kSpan) return StrCat("coalesce(", in_json, ", false)");
    const std::string& p = prefix_;
    return StrCat("coalesce(map_contains(", p, "span_attributes_string, ", key, ") OR map_contains(", p,
                  "span_attributes_int, ", key, ") OR map_contains(", p, "span_attributes_double, ", key,
                  ") OR map_contains(", p, "span_attributes_bool, ", key, ") OR ", in_json, ", false)");
  }

 private:
  std::string Key() {
    if (key_.empty()) key_ = sql_->Bind(name_);
    return key_;
  }
  std::string Map(const char* column) { return StrCat(prefix_, column, "[", Key(), "]"); }
  // A span attribute from its typed map; rows written before schema v3
  // have no maps (NULL) and every attribute in span_attributes_other, read
  // there only for them. Resource and scope attributes: `json`.
  std::string Typed(const char* map, const std::string& json) {
    if (source_ != Source::kSpan) return json;
    return StrCat("(CASE WHEN ", prefix_, map, " IS NULL THEN ", json, " ELSE ", Map(map), " END)");
  }
  // Span attributes of other kinds (and all of them before schema v3) are
  // OTLP JSON in span_attributes_other.
  std::string JsonColumn() const {
    switch (source_) {
      case Source::kSpan: return prefix_ + "span_attributes_other";
      case Source::kResource: return prefix_ + "resource_attributes";
      case Source::kScope: return prefix_ + "scope_attributes";
      case Source::kEvent:
      case Source::kLink: return StrCat("(", prefix_, "->'attributes')");
    }
    return "";
  }
  std::string Json() { return JsonValue(JsonColumn(), Key()); }

  Source source_;
  std::string name_;
  SqlBuilder* sql_;
  std::string prefix_;
  std::string key_;
};

// Value categories of typed (non-attribute) expressions.
enum class Cat { kNumber, kString, kBool, kStatus, kKind };

const char* SqlOp(Op op) {
  switch (op) {
    case Op::kEq: return "=";
    case Op::kNeq: return "<>";
    case Op::kLt: return "<";
    case Op::kLte: return "<=";
    case Op::kGt: return ">";
    case Op::kGte: return ">=";
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kMod: return "%";
    default: return "?";
  }
}

// The comparison with its operands swapped: a < b is b > a.
Op Flip(Op op) {
  switch (op) {
    case Op::kLt: return Op::kGt;
    case Op::kLte: return Op::kGte;
    case Op::kGt: return Op::kLt;
    case Op::kGte: return Op::kLte;
    default: return op;
  }
}

std::string Unsupported(const Field& f, const std::string& what) {
  return StrCat("line ", f.line, ", col ", f.col, ": ", what, " is not supported yet");
}

class Compiler {
 public:
  Compiler(SqlBuilder* sql, TraceColumns* needs) : sql_(sql), needs_(needs) {}

  // A typed value as SQL: numbers as DOUBLE, other kinds as text.
  absl::StatusOr<std::string> Number(const Field& f) {
    ASSIGN_OR_RETURN(auto v, Value(f));
    if (v.first != Cat::kNumber) return absl::InvalidArgumentError("not a number");
    return StrCat("CAST(", v.second, " AS DOUBLE)");
  }
  absl::StatusOr<std::string> Text(const Field& f) {
    ASSIGN_OR_RETURN(auto v, Value(f));
    return StrCat("CAST(", v.second, " AS VARCHAR)");
  }

  absl::StatusOr<std::string> Bool(const Field& f) {
    const bool atom = f.kind == Field::Kind::kAttribute ||
                      (f.kind == Field::Kind::kBinary && f.op != Op::kAnd && f.op != Op::kOr);
    if (atom && nested_ == Scope::kNone) {
      ASSIGN_OR_RETURN(Scope scope, NestedScope(f));
      if (scope != Scope::kNone) return Nested(scope, f);
    }
    switch (f.kind) {
      case Field::Kind::kStatic:
        if (f.value.type == StaticType::kBool) return std::string(f.value.b ? "true" : "false");
        break;
      case Field::Kind::kAttribute: {
        ASSIGN_OR_RETURN(auto accessors, Accessors(f));
        std::vector<std::string> parts;
        for (auto& a : accessors) parts.push_back(StrCat("coalesce(", a.boolean(), ", false)"));
        return StrCat("(", Join(parts, " OR "), ")");
      }
      case Field::Kind::kUnary:
        if (f.op == Op::kNot) {
          ASSIGN_OR_RETURN(std::string inner, Bool(*f.lhs));
          return StrCat("(NOT ", inner, ")");
        }
        break;
      case Field::Kind::kBinary:
        if (f.op == Op::kAnd || f.op == Op::kOr) {
          ASSIGN_OR_RETURN(std::string l, Bool(*f.lhs));
          ASSIGN_OR_RETURN(std::string r, Bool(*f.rhs));
          return StrCat("(", l, f.op == Op::kAnd ? " AND " : " OR ", r, ")");
        }
        return Compare(f);
      case Field::Kind::kIntrinsic:
        break;
    }
    return absl::InvalidArgumentError(StrCat("line ", f.line, ", col ", f.col, ": not a condition"));
  }

  // The four value columns of AttributeValueColumns (string, int as text,
  // double as text, bool) for a typed expression: conditions are bools,
  // statuses and kinds their names, numbers ints when the expression is
  // statically an integer (IntegerValued), else doubles.
  absl::StatusOr<std::vector<std::string>> Columns(const Field& f) {
    const std::string null_text = "CAST(NULL AS VARCHAR)", null_bool = "CAST(NULL AS BOOLEAN)";
    if (f.kind == Field::Kind::kAttribute) {
      // Its value in whichever kind it has; the first accessor holding it.
      ASSIGN_OR_RETURN(auto accessors, Accessors(f));
      std::vector<std::string> out = {null_text, null_text, null_text, null_bool};
      for (auto it = accessors.rbegin(); it != accessors.rend(); ++it) {
        const std::vector<std::string> mine = {it->str(), StrCat("CAST(", it->i64(), " AS VARCHAR)"),
                                               StrCat("printf('%.17g', ", it->f64(), ")"), it->boolean()};
        if (it == accessors.rbegin()) {
          out = mine;
          continue;
        }
        const std::string here = it->exists();
        for (size_t k = 0; k < out.size(); ++k) out[k] = StrCat("(CASE WHEN ", here, " THEN ", mine[k], " ELSE ", out[k], " END)");
      }
      return out;
    }
    if (IsCondition(f)) {
      ASSIGN_OR_RETURN(std::string b, Bool(f));
      return std::vector<std::string>{null_text, null_text, null_text, b};
    }
    ASSIGN_OR_RETURN(auto v, Value(f));
    switch (v.first) {
      case Cat::kString:
        return std::vector<std::string>{StrCat("CAST(", v.second, " AS VARCHAR)"), null_text, null_text, null_bool};
      case Cat::kStatus:
        return std::vector<std::string>{
            StrCat("(CASE ", v.second, " WHEN 0 THEN 'unset' WHEN 1 THEN 'ok' WHEN 2 THEN 'error' END)"), null_text,
            null_text, null_bool};
      case Cat::kKind:
        return std::vector<std::string>{StrCat("(CASE ", v.second,
                                               " WHEN 0 THEN 'unspecified' WHEN 1 THEN 'internal' WHEN 2 THEN 'server' "
                                               "WHEN 3 THEN 'client' WHEN 4 THEN 'producer' WHEN 5 THEN 'consumer' END)"),
                                        null_text, null_text, null_bool};
      case Cat::kNumber:
        if (IntegerValued(f)) {
          return std::vector<std::string>{null_text, StrCat("CAST(CAST(", v.second, " AS BIGINT) AS VARCHAR)"),
                                          null_text, null_bool};
        }
        return std::vector<std::string>{null_text, null_text,
                                        StrCat("printf('%.17g', CAST(", v.second, " AS DOUBLE))"), null_bool};
      case Cat::kBool: break;
    }
    return std::vector<std::string>{null_text, null_text, null_text, v.second};
  }

  static bool IsCondition(const Field& f) {
    switch (f.kind) {
      case Field::Kind::kStatic: return f.value.type == StaticType::kBool;
      case Field::Kind::kUnary: return f.op == Op::kNot;
      case Field::Kind::kBinary:
        return f.op == Op::kAnd || f.op == Op::kOr || f.op == Op::kEq || f.op == Op::kNeq || f.op == Op::kLt ||
               f.op == Op::kLte || f.op == Op::kGt || f.op == Op::kGte || f.op == Op::kRegex ||
               f.op == Op::kNotRegex;
      default: return false;
    }
  }

  // Whether a numeric expression is an integer whatever the span: int and
  // duration statics and intrinsics, and + - * % of them. (Attributes may
  // hold doubles; division and ^ give doubles.)
  static bool IntegerValued(const Field& f) {
    switch (f.kind) {
      case Field::Kind::kStatic: return f.value.type == StaticType::kInt || f.value.type == StaticType::kDuration;
      case Field::Kind::kIntrinsic:
        return f.intrinsic == Intrinsic::kDuration || f.intrinsic == Intrinsic::kChildCount ||
               f.intrinsic == Intrinsic::kTraceDuration || f.intrinsic == Intrinsic::kNestedSetLeft ||
               f.intrinsic == Intrinsic::kNestedSetRight || f.intrinsic == Intrinsic::kNestedSetParent;
      case Field::Kind::kUnary: return f.op == Op::kNeg && IntegerValued(*f.lhs);
      case Field::Kind::kBinary:
        return (f.op == Op::kAdd || f.op == Op::kSub || f.op == Op::kMul || f.op == Op::kMod) &&
               IntegerValued(*f.lhs) && IntegerValued(*f.rhs);
      default: return false;
    }
  }

 private:
  // The accessors of an attribute: one for a scoped attribute, span then
  // resource for an unscoped one.
  absl::StatusOr<std::vector<Accessor>> Accessors(const Field& f) {
    using S = Accessor::Source;
    if (f.parent) {
      // The parent span's attributes, joined in by WithTraceColumns.
      needs_->parent = true;
      const std::string p = kParentPrefix;
      switch (f.scope) {
        case Scope::kSpan: return std::vector<Accessor>{Accessor(S::kSpan, f.name, sql_, p)};
        case Scope::kResource: return std::vector<Accessor>{Accessor(S::kResource, f.name, sql_, p)};
        case Scope::kNone:
          return std::vector<Accessor>{Accessor(S::kSpan, f.name, sql_, p), Accessor(S::kResource, f.name, sql_, p)};
        default: return absl::InvalidArgumentError(Unsupported(f, "this scope after parent."));
      }
    }
    switch (f.scope) {
      case Scope::kSpan: return std::vector<Accessor>{Accessor(S::kSpan, f.name, sql_)};
      case Scope::kResource: return std::vector<Accessor>{Accessor(S::kResource, f.name, sql_)};
      case Scope::kInstrumentation: return std::vector<Accessor>{Accessor(S::kScope, f.name, sql_)};
      case Scope::kNone:
        return std::vector<Accessor>{Accessor(S::kSpan, f.name, sql_), Accessor(S::kResource, f.name, sql_)};
      case Scope::kEvent:
      case Scope::kLink:
        return std::vector<Accessor>{
            Accessor(f.scope == Scope::kEvent ? S::kEvent : S::kLink, f.name, sql_, Element(f.scope))};
    }
    return absl::InternalError("unknown scope");
  }

  // Whether `f` reads a span's events or its links (kEvent, kLink) or
  // neither (kNone); InvalidArgument when both.
  static absl::StatusOr<Scope> NestedScope(const Field& f) {
    Scope own = Scope::kNone;
    if (f.kind == Field::Kind::kAttribute && (f.scope == Scope::kEvent || f.scope == Scope::kLink) && !f.parent) {
      own = f.scope;
    }
    if (f.kind == Field::Kind::kIntrinsic) {
      if (f.intrinsic == Intrinsic::kEventName || f.intrinsic == Intrinsic::kEventTimeSinceStart) own = Scope::kEvent;
      if (f.intrinsic == Intrinsic::kLinkTraceId || f.intrinsic == Intrinsic::kLinkSpanId) own = Scope::kLink;
    }
    for (const Field* child : {f.lhs.get(), f.rhs.get()}) {
      if (child == nullptr) continue;
      ASSIGN_OR_RETURN(Scope c, NestedScope(*child));
      if (c == Scope::kNone) continue;
      if (own != Scope::kNone && own != c) {
        return absl::InvalidArgumentError(StrCat("line ", f.line, ", col ", f.col,
                                                 ": one comparison cannot read both a span's events and its links"));
      }
      own = c;
    }
    return own;
  }

  // A condition on a span's events or links holds when it holds for one of
  // them: `condition` is compiled against each element (`sdb_e`).
  // `x = nil` holds when none of them has x.
  absl::StatusOr<std::string> Nested(Scope scope, const Field& condition) {
    auto is_nil = [](const Field* f) {
      return f != nullptr && f->kind == Field::Kind::kStatic && f->value.type == StaticType::kNil;
    };
    const bool absent = condition.kind == Field::Kind::kBinary && condition.op == Op::kEq &&
                        (is_nil(condition.lhs.get()) || is_nil(condition.rhs.get()));
    nested_ = scope;
    auto inner = absent ? Exists(condition) : Bool(condition);
    nested_ = Scope::kNone;
    if (!inner.ok()) return inner.status();
    // (list_bool_or, not len(list_filter(...)): len's overloads leave a
    // prepared statement's result types unknown when a parameter is inside.)
    const std::string any = StrCat("coalesce(list_bool_or(list_transform(CAST(", scope == Scope::kEvent ? "events" : "links",
                                   " AS JSON[]), lambda sdb_e: coalesce(", *inner, ", false))), false)");
    return absent ? StrCat("(NOT ", any, ")") : any;
  }

  // Whether the attribute `x` of `x = nil` / `nil = x` exists.
  absl::StatusOr<std::string> Exists(const Field& f) {
    const Field* attr = f.lhs->kind == Field::Kind::kAttribute ? f.lhs.get() : f.rhs.get();
    if (attr->kind != Field::Kind::kAttribute) {
      return absl::InvalidArgumentError(StrCat("line ", f.line, ", col ", f.col, ": nil compares with attributes"));
    }
    ASSIGN_OR_RETURN(auto accessors, Accessors(*attr));
    std::vector<std::string> parts;
    for (auto& a : accessors) parts.push_back(a.exists());
    return StrCat("(", Join(parts, " OR "), ")");
  }

  // The category and SQL of a typed expression (not a bare attribute).
  absl::StatusOr<std::pair<Cat, std::string>> Value(const Field& f) {
    switch (f.kind) {
      case Field::Kind::kStatic: {
        const Static& v = f.value;
        switch (v.type) {
          case StaticType::kString: return std::pair{Cat::kString, sql_->Bind(v.s)};
          case StaticType::kBool: return std::pair{Cat::kBool, sql_->Bind(v.b)};
          case StaticType::kFloat: return std::pair{Cat::kNumber, sql_->Bind(v.f)};
          case StaticType::kStatus: return std::pair{Cat::kStatus, sql_->Bind(v.i)};
          case StaticType::kKind: return std::pair{Cat::kKind, sql_->Bind(v.i)};
          case StaticType::kInt:
          case StaticType::kDuration: return std::pair{Cat::kNumber, sql_->Bind(v.i)};
          case StaticType::kNil: break;
        }
        return absl::InvalidArgumentError("nil has no value");
      }
      case Field::Kind::kIntrinsic: return Intrinsic(f);
      case Field::Kind::kAttribute: {
        // In arithmetic an attribute is a number: its int or double value.
        ASSIGN_OR_RETURN(auto accessors, Accessors(f));
        std::vector<std::string> parts;
        for (auto& a : accessors) parts.push_back(StrCat("CAST(", a.i64(), " AS DOUBLE), ", a.f64()));
        return std::pair{Cat::kNumber, StrCat("coalesce(", Join(parts, ", "), ")")};
      }
      case Field::Kind::kUnary: {
        ASSIGN_OR_RETURN(auto inner, Value(*f.lhs));
        return std::pair{Cat::kNumber, StrCat("(-", inner.second, ")")};
      }
      case Field::Kind::kBinary: {
        ASSIGN_OR_RETURN(auto l, Value(*f.lhs));
        ASSIGN_OR_RETURN(auto r, Value(*f.rhs));
        if (f.op == Op::kPow) return std::pair{Cat::kNumber, StrCat("power(", l.second, ", ", r.second, ")")};
        // Division is real division, as TraceQL's numbers are floats when mixed.
        const std::string lhs = f.op == Op::kDiv ? StrCat("CAST(", l.second, " AS DOUBLE)") : l.second;
        return std::pair{Cat::kNumber, StrCat("(", lhs, " ", SqlOp(f.op), " ", r.second, ")")};
      }
    }
    return absl::InternalError("unknown field kind");
  }

  absl::StatusOr<std::pair<Cat, std::string>> Intrinsic(const Field& f) {
    switch (f.intrinsic) {
      case Intrinsic::kDuration: return std::pair{Cat::kNumber, std::string("duration_nanos")};
      case Intrinsic::kName: return std::pair{Cat::kString, std::string("span_name")};
      case Intrinsic::kStatus: return std::pair{Cat::kStatus, std::string("status_code_number")};
      case Intrinsic::kStatusMessage: return std::pair{Cat::kString, std::string("coalesce(status_message, '')")};
      case Intrinsic::kKind: return std::pair{Cat::kKind, std::string("span_kind_number")};
      case Intrinsic::kTraceId: return std::pair{Cat::kString, std::string("trace_id")};
      case Intrinsic::kSpanId: return std::pair{Cat::kString, std::string("span_id")};
      case Intrinsic::kParentId: return std::pair{Cat::kString, std::string("coalesce(parent_span_id, '')")};
      case Intrinsic::kInstrumentationName: return std::pair{Cat::kString, std::string("coalesce(scope_name, '')")};
      case Intrinsic::kInstrumentationVersion:
        return std::pair{Cat::kString, std::string("coalesce(scope_version, '')")};
      case Intrinsic::kRootName:
        needs_->root_name = true;
        return std::pair{Cat::kString, std::string("__root_name")};
      case Intrinsic::kRootServiceName:
        needs_->root_service = true;
        return std::pair{Cat::kString, std::string("__root_service")};
      case Intrinsic::kTraceDuration:
        needs_->trace_duration = true;
        return std::pair{Cat::kNumber, std::string("__trace_duration")};
      case Intrinsic::kChildCount:
        needs_->child_count = true;
        return std::pair{Cat::kNumber, std::string("__child_count")};
      case Intrinsic::kNestedSetLeft:
        needs_->nested_set = true;
        return std::pair{Cat::kNumber, std::string("__nested_left")};
      case Intrinsic::kNestedSetRight:
        needs_->nested_set = true;
        return std::pair{Cat::kNumber, std::string("__nested_right")};
      case Intrinsic::kNestedSetParent:
        needs_->nested_set = true;
        return std::pair{Cat::kNumber, std::string("__nested_parent")};
      case Intrinsic::kEventName:
      case Intrinsic::kEventTimeSinceStart:
      case Intrinsic::kLinkTraceId:
      case Intrinsic::kLinkSpanId: {
        const Scope scope = f.intrinsic == Intrinsic::kLinkTraceId || f.intrinsic == Intrinsic::kLinkSpanId
                                ? Scope::kLink
                                : Scope::kEvent;
        const std::string e = Element(scope);
        switch (f.intrinsic) {
          case Intrinsic::kEventName: return std::pair{Cat::kString, StrCat("(", e, "->>'name')")};
          case Intrinsic::kEventTimeSinceStart:
            return std::pair{Cat::kNumber,
                             StrCat("(TRY_CAST(", e, "->>'timeUnixNano' AS BIGINT) - start_time_unix_nano)")};
          case Intrinsic::kLinkTraceId: return std::pair{Cat::kString, StrCat("(", e, "->>'traceId')")};
          default: return std::pair{Cat::kString, StrCat("(", e, "->>'spanId')")};
        }
      }
      default:
        return absl::FailedPreconditionError(Unsupported(f, "this intrinsic"));
    }
  }

  absl::StatusOr<std::string> Compare(const Field& f) {
    const Field* lhs = f.lhs.get();
    const Field* rhs = f.rhs.get();
    Op op = f.op;
    if (op == Op::kRegex || op == Op::kNotRegex) {
      const std::string re = sql_->Bind(rhs->value.s);
      std::vector<std::string> subjects;
      if (lhs->kind == Field::Kind::kAttribute) {
        ASSIGN_OR_RETURN(auto accessors, Accessors(*lhs));
        for (auto& a : accessors) subjects.push_back(a.str());
      } else {
        ASSIGN_OR_RETURN(auto v, Value(*lhs));
        subjects.push_back(v.second);
      }
      std::vector<std::string> parts;
      for (const auto& s : subjects) {
        parts.push_back(StrCat("coalesce(", op == Op::kNotRegex ? "NOT " : "", "regexp_full_match(", s, ", ", re,
                               "), false)"));
      }
      return StrCat("(", Join(parts, " OR "), ")");
    }
    // Put a bare attribute on the left.
    if (rhs->kind == Field::Kind::kAttribute && lhs->kind != Field::Kind::kAttribute) {
      std::swap(lhs, rhs);
      op = Flip(op);
    }
    // Existence.
    const bool lnil = lhs->kind == Field::Kind::kStatic && lhs->value.type == StaticType::kNil;
    const bool rnil = rhs->kind == Field::Kind::kStatic && rhs->value.type == StaticType::kNil;
    if (lnil || rnil) {
      ASSIGN_OR_RETURN(std::string exists, Exists(f));
      return op == Op::kEq ? StrCat("(NOT ", exists, ")") : exists;
    }
    const char* sop = SqlOp(op);
    if (lhs->kind == Field::Kind::kAttribute) {
      ASSIGN_OR_RETURN(auto left, Accessors(*lhs));
      std::vector<std::string> parts;
      if (rhs->kind == Field::Kind::kAttribute) {
        // Attribute against attribute: equal kinds compare.
        ASSIGN_OR_RETURN(auto right, Accessors(*rhs));
        for (auto& a : left) {
          for (auto& b : right) {
            parts.push_back(StrCat("coalesce(", a.str(), " ", sop, " ", b.str(), ", false)"));
            parts.push_back(StrCat("coalesce(", a.i64(), " ", sop, " ", b.i64(), ", false)"));
            parts.push_back(StrCat("coalesce(", a.f64(), " ", sop, " ", b.f64(), ", false)"));
            parts.push_back(StrCat("coalesce(", a.boolean(), " ", sop, " ", b.boolean(), ", false)"));
          }
        }
        return StrCat("(", Join(parts, " OR "), ")");
      }
      ASSIGN_OR_RETURN(auto value, Value(*rhs));
      for (auto& a : left) {
        switch (value.first) {
          case Cat::kNumber:
            parts.push_back(StrCat("coalesce(", a.i64(), " ", sop, " ", value.second, ", false)"));
            parts.push_back(StrCat("coalesce(", a.f64(), " ", sop, " ", value.second, ", false)"));
            break;
          case Cat::kString:
            parts.push_back(StrCat("coalesce(", a.str(), " ", sop, " ", value.second, ", false)"));
            break;
          case Cat::kBool:
            parts.push_back(StrCat("coalesce(", a.boolean(), " ", sop, " ", value.second, ", false)"));
            break;
          case Cat::kStatus:
          case Cat::kKind:
            // An attribute holding a status or kind holds its name.
            parts.push_back(StrCat("coalesce(", a.str(), " ", sop, " ", StatusOrKindName(*rhs), ", false)"));
            break;
        }
      }
      return StrCat("(", Join(parts, " OR "), ")");
    }
    ASSIGN_OR_RETURN(auto l, Value(*lhs));
    ASSIGN_OR_RETURN(auto r, Value(*rhs));
    return StrCat("coalesce(", l.second, " ", sop, " ", r.second, ", false)");
  }

  std::string StatusOrKindName(const Field& f) {
    static const char* kStatus[] = {"unset", "ok", "error"};
    static const char* kKinds[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
    const int64_t i = f.value.i;
    if (f.value.type == StaticType::kStatus) return sql_->Bind(std::string(kStatus[i]));
    return sql_->Bind(std::string(kKinds[i]));
  }

  // The event (link) a value of `scope` is read from: inside a condition
  // (Nested) each element in turn; elsewhere — by(), select(), aggregates,
  // metrics — the span's first event (link), NULL when it has none.
  std::string Element(Scope scope) const {
    if (nested_ == scope) return "sdb_e";
    return StrCat("(CAST(", scope == Scope::kEvent ? "events" : "links", " AS JSON[])[1])");
  }

  SqlBuilder* sql_;
  TraceColumns* needs_;
  Scope nested_ = Scope::kNone;  // kEvent/kLink while compiling against one element
};

// The kinds a static operand lets an attribute compared with it match.
uint8_t KindsComparedWith(const Field& other) {
  if (other.kind != Field::Kind::kStatic) return kAnyKind;
  switch (other.value.type) {
    case StaticType::kInt:
    case StaticType::kFloat:
    case StaticType::kDuration: return kIntKind | kDoubleKind;
    case StaticType::kString: return kStringKind;
    case StaticType::kBool: return kBoolKind;
    default: return kAnyKind;
  }
}

void CollectAttributes(const Field* f, std::vector<AttributeRef>* out, uint8_t kinds = kAnyKind) {
  if (f == nullptr) return;
  if (f->kind == Field::Kind::kAttribute && !f->parent &&
      (f->scope == Scope::kNone || f->scope == Scope::kSpan || f->scope == Scope::kResource)) {
    for (auto& r : *out) {
      if (r.scope == f->scope && r.name == f->name) {
        r.kinds |= kinds;
        return;
      }
    }
    out->push_back({f->scope, f->name, kinds});
    return;
  }
  const bool comparison = f->kind == Field::Kind::kBinary && f->lhs && f->rhs &&
                          (f->op == Op::kEq || f->op == Op::kNeq || f->op == Op::kLt || f->op == Op::kLte ||
                           f->op == Op::kGt || f->op == Op::kGte || f->op == Op::kRegex || f->op == Op::kNotRegex);
  CollectAttributes(f->lhs.get(), out, comparison ? KindsComparedWith(*f->rhs) : kAnyKind);
  CollectAttributes(f->rhs.get(), out, comparison ? KindsComparedWith(*f->lhs) : kAnyKind);
}

}  // namespace

absl::StatusOr<std::string> CompileCondition(const Field* filter, SqlBuilder* sql, TraceColumns* needs) {
  if (filter == nullptr) return std::string("true");
  return Compiler(sql, needs).Bool(*filter);
}

absl::StatusOr<std::string> CompileNumber(const Field& field, SqlBuilder* sql, TraceColumns* needs) {
  return Compiler(sql, needs).Number(field);
}

absl::StatusOr<std::string> CompileText(const Field& field, SqlBuilder* sql, TraceColumns* needs) {
  return Compiler(sql, needs).Text(field);
}

absl::StatusOr<std::vector<std::string>> CompileValueColumns(const Field& field, SqlBuilder* sql,
                                                         TraceColumns* needs) {
  if (field.kind == Field::Kind::kAttribute && !field.parent &&
      (field.scope == Scope::kNone || field.scope == Scope::kSpan || field.scope == Scope::kResource)) {
    return AttributeValueColumns({field.scope, field.name}, sql);
  }
  return Compiler(sql, needs).Columns(field);
}

std::string WithTraceColumns(const std::string& source, const TraceColumns& needs) {
  std::vector<std::string> cols = {"*"};
  const std::string w = " OVER (PARTITION BY trace_id)";
  if (needs.root_name) cols.push_back(StrCat("max(CASE WHEN is_root THEN span_name END)", w, " AS __root_name"));
  if (needs.root_service) {
    cols.push_back(StrCat("max(CASE WHEN is_root THEN service_name END)", w, " AS __root_service"));
  }
  if (needs.trace_duration) {
    cols.push_back(StrCat("max(end_time_unix_nano)", w, " - min(start_time_unix_nano)", w, " AS __trace_duration"));
  }
  const std::string spans = cols.size() == 1 ? source : StrCat("(SELECT ", Join(cols, ", "), " FROM ", source, ")");
  if (!needs.child_count && !needs.parent && !needs.nested_set) return spans;
  // Columns from other rows of the trace: each span's number of children,
  // its parent's attributes, its nested set bounds (a span stored twice
  // counts once).
  std::string sql = StrCat("(WITH ", needs.nested_set ? "RECURSIVE " : "", "__spans AS (SELECT * FROM ", spans, ")");
  std::string joins;
  if (needs.nested_set) {
    sql +=
        ", __ns_nodes AS (SELECT DISTINCT ON (trace_id, span_id) trace_id, span_id, coalesce(parent_span_id, '') AS "
        "parent, start_time_unix_nano AS start FROM __spans)"
        ", __ns_tree(trace_id, span_id, path, ids) AS (SELECT trace_id, span_id, [{'s': start, 'i': span_id}], "
        "[span_id] FROM __ns_nodes WHERE parent = '' UNION ALL SELECT n.trace_id, n.span_id, list_append(t.path, "
        "{'s': n.start, 'i': n.span_id}), list_append(t.ids, n.span_id) FROM __ns_nodes n JOIN __ns_tree t ON "
        "n.trace_id = t.trace_id AND n.parent = t.span_id)"
        ", __ns_pre AS (SELECT trace_id, span_id, ids, 1 + 2 * (row_number() OVER (PARTITION BY trace_id ORDER BY "
        "path) - 1) - (len(ids) - 1) AS l FROM __ns_tree)"
        ", __ns_size AS (SELECT trace_id, a AS span_id, count(*) AS n FROM (SELECT trace_id, unnest(ids) AS a FROM "
        "__ns_tree) GROUP BY ALL)"
        ", __ns AS (SELECT p.trace_id AS __nt, p.span_id AS __nsp, p.l, p.l + 2 * z.n - 1 AS r, CASE WHEN len(p.ids) "
        "= 1 THEN -1 ELSE q.l END AS pl FROM __ns_pre p JOIN __ns_size z ON z.trace_id = p.trace_id AND z.span_id = "
        "p.span_id LEFT JOIN __ns_pre q ON len(p.ids) > 1 AND q.trace_id = p.trace_id AND q.span_id = "
        "p.ids[len(p.ids) - 1])";
  }
  sql += " SELECT __s.*";
  if (needs.nested_set) {
    sql +=
        ", CAST(coalesce(__n.l, 0) AS BIGINT) AS __nested_left, CAST(coalesce(__n.r, 0) AS BIGINT) AS "
        "__nested_right, CAST(coalesce(__n.pl, 0) AS BIGINT) AS __nested_parent";
    joins += " LEFT JOIN __ns __n ON __n.__nt = __s.trace_id AND __n.__nsp = __s.span_id";
  }
  if (needs.child_count) {
    sql += ", coalesce(__c.__n, 0) AS __child_count";
    joins += " LEFT JOIN (SELECT trace_id AS __ct, parent_span_id AS __cp, count(DISTINCT span_id) AS __n FROM __spans "
             "WHERE parent_span_id IS NOT NULL GROUP BY ALL) __c ON __c.__ct = __s.trace_id AND __c.__cp = __s.span_id";
  }
  if (needs.parent) {
    std::vector<std::string> parent_cols;
    for (const char* c : {"service_name", "span_attributes_string", "span_attributes_int", "span_attributes_double",
                          "span_attributes_bool", "span_attributes_other", "resource_attributes"}) {
      sql += StrCat(", __p.", c, " AS ", kParentPrefix, c);
      parent_cols.push_back(c);
    }
    joins += StrCat(" LEFT JOIN (SELECT DISTINCT ON (trace_id, span_id) trace_id AS __pt, span_id AS __ps, ",
                    Join(parent_cols, ", "),
                    " FROM __spans) __p ON __p.__pt = __s.trace_id AND __p.__ps = __s.parent_span_id");
  }
  return StrCat(sql, " FROM __spans __s", joins, ")");
}

std::vector<AttributeRef> ReferencedAttributes(const Field* filter) {
  std::vector<AttributeRef> out;
  CollectAttributes(filter, &out);
  return out;
}

std::vector<std::string> AttributeValueColumns(const AttributeRef& ref, SqlBuilder* sql) {
  // The same accessors conditions read (typed maps, pre-v3 JSON, resource
  // JSON, the service_name column): what a span shows is what it matched on.
  using S = Accessor::Source;
  // Kinds the reference cannot have are constants: their maps are not read.
  auto columns = [&](Accessor& a) {
    return std::vector<std::string>{
        ref.kinds & kStringKind ? a.str() : "CAST(NULL AS VARCHAR)",
        ref.kinds & kIntKind ? StrCat("CAST(", a.i64(), " AS VARCHAR)") : "CAST(NULL AS VARCHAR)",
        ref.kinds & kDoubleKind ? StrCat("printf('%.17g', ", a.f64(), ")") : "CAST(NULL AS VARCHAR)",
        ref.kinds & kBoolKind ? a.boolean() : "CAST(NULL AS BOOLEAN)"};
  };
  Accessor span(S::kSpan, ref.name, sql), resource(S::kResource, ref.name, sql);
  if (ref.scope == Scope::kSpan) return columns(span);
  if (ref.scope == Scope::kResource) return columns(resource);
  // Unscoped: the span's attribute when it has one, else the resource's.
  const std::string on_span = span.exists();
  std::vector<std::string> s = columns(span), r = columns(resource);
  for (size_t i = 0; i < s.size(); ++i) s[i] = StrCat("(CASE WHEN ", on_span, " THEN ", s[i], " ELSE ", r[i], " END)");
  return s;
}

}  // namespace signaldb::traceql
