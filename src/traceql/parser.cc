#include "traceql/parser.h"

#include "traceql/parser_impl.h"

namespace signaldb::traceql {
namespace parser_internal {

// Stages separated by "|". Stops before "|" that starts a metrics
// function or a second stage. With `scalar_tail`, the last stage may be a
// bare aggregate (a wrapped scalar pipeline), returned there.
std::unique_ptr<Pipeline> Parser::ParsePipeline(std::unique_ptr<Scalar>* scalar_tail) {
  auto p = std::make_unique<Pipeline>();
  if (Is(Tok::kCoalesce)) {
    Fail();  // a pipeline cannot start with coalesce()
    return nullptr;
  }
  while (true) {
    if (scalar_tail != nullptr && !p->stages.empty() && AggregateOf(Peek().kind) && !ScalarFollows()) {
      auto agg = ParseAggregate();
      if (!agg) return nullptr;
      *scalar_tail = std::move(agg);
      return p;
    }
    Stage stage;
    if (!ParseStage(&stage)) return nullptr;
    p->stages.push_back(std::move(stage));
    if (!Is(Tok::kPipe)) return p;
    const Tok next = Peek(1).kind;
    if (next == Tok::kMetricsFn || next == Tok::kTopK || next == Tok::kBottomK) return p;
    ++pos_;  // the pipe
  }
}

// True when the aggregate at the current token is followed by a
// comparison (after its parentheses), i.e. it starts a scalar filter.
bool Parser::ScalarFollows() const {
  size_t i = pos_ + 1, depth = 0;
  for (; i < t_.size(); ++i) {
    if (t_[i].kind == Tok::kOpenParen) ++depth;
    if (t_[i].kind == Tok::kCloseParen && --depth == 0) break;
    if (t_[i].kind == Tok::kEnd) return false;
  }
  const Tok after = i + 1 < t_.size() ? t_[i + 1].kind : Tok::kEnd;
  return ScalarCompareOf(after).has_value() || after == Tok::kAdd || after == Tok::kSub || after == Tok::kMul ||
         after == Tok::kDiv || after == Tok::kMod || after == Tok::kPow;
}

bool Parser::ParseStage(Stage* stage) {
  switch (Peek().kind) {
    case Tok::kOpenBrace: {
      stage->kind = Stage::Kind::kSpanset;
      stage->spanset = ParseSpansetOr();
      return stage->spanset != nullptr;
    }
    case Tok::kOpenParen: {
      const size_t start = pos_;
      if (auto s = ParseSpansetOr()) {
        stage->kind = Stage::Kind::kSpanset;
        stage->spanset = std::move(s);
        return true;
      }
      pos_ = start;
      stage->kind = Stage::Kind::kScalarFilter;
      stage->scalar_filter = ParseScalarFilter();
      return stage->scalar_filter != nullptr;
    }
    case Tok::kBy: {
      ++pos_;
      stage->kind = Stage::Kind::kBy;
      if (!Expect(Tok::kOpenParen)) return false;
      auto f = ParseField();
      if (!f || !Expect(Tok::kCloseParen)) return false;
      stage->fields.push_back(std::move(f));
      return true;
    }
    case Tok::kCoalesce:
      ++pos_;
      stage->kind = Stage::Kind::kCoalesce;
      return Expect(Tok::kOpenParen) && Expect(Tok::kCloseParen);
    case Tok::kSelect: {
      ++pos_;
      stage->kind = Stage::Kind::kSelect;
      if (!Expect(Tok::kOpenParen)) return false;
      do {
        auto f = ParseField();
        if (!f) return false;
        stage->fields.push_back(std::move(f));
      } while (Accept(Tok::kComma));
      return Expect(Tok::kCloseParen);
    }
    default:
      stage->kind = Stage::Kind::kScalarFilter;
      stage->scalar_filter = ParseScalarFilter();
      return stage->scalar_filter != nullptr;
  }
}

// One level of left-associative spanset operators: operands from
// `operand`, joined by `tok` into `op` nodes.
std::unique_ptr<Spanset> Parser::SpansetLevel(Tok tok, SpansetOp op, std::unique_ptr<Spanset> (Parser::*operand)()) {
  auto lhs = (this->*operand)();
  while (lhs && Is(tok)) {
    ++pos_;
    auto rhs = (this->*operand)();
    if (!rhs) return nullptr;
    lhs = Combine(op, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

std::unique_ptr<Spanset> Parser::ParseSpansetOr() { return SpansetLevel(Tok::kOr, SpansetOp::kUnion, &Parser::ParseSpansetAnd); }

std::unique_ptr<Spanset> Parser::ParseSpansetAnd() {
  return SpansetLevel(Tok::kAnd, SpansetOp::kAnd, &Parser::ParseSpansetRelation);
}

std::unique_ptr<Spanset> Parser::ParseSpansetRelation() {
  auto lhs = ParseSpansetPrimary();
  while (lhs) {
    auto op = SpansetOpOf(Peek().kind);
    if (!op) break;
    ++pos_;
    auto rhs = ParseSpansetPrimary();
    if (!rhs) return nullptr;
    lhs = Combine(*op, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

std::unique_ptr<Spanset> Parser::Combine(SpansetOp op, std::unique_ptr<Spanset> lhs, std::unique_ptr<Spanset> rhs) {
  auto s = std::make_unique<Spanset>();
  s->kind = Spanset::Kind::kOperation;
  s->op = op;
  s->lhs = std::move(lhs);
  s->rhs = std::move(rhs);
  return s;
}

std::unique_ptr<Spanset> Parser::ParseSpansetPrimary() {
  if (Accept(Tok::kOpenBrace)) {
    auto s = std::make_unique<Spanset>();
    s->kind = Spanset::Kind::kFilter;
    if (Accept(Tok::kCloseBrace)) return s;
    s->filter = ParseField();
    if (!s->filter || !Expect(Tok::kCloseBrace)) return nullptr;
    return s;
  }
  if (Accept(Tok::kOpenParen)) {
    auto p = ParsePipeline(nullptr);
    if (!p || !Expect(Tok::kCloseParen)) return nullptr;
    // Parentheses around a plain spanset expression only group it.
    if (p->stages.size() == 1 && p->stages[0].kind == Stage::Kind::kSpanset) return std::move(p->stages[0].spanset);
    auto s = std::make_unique<Spanset>();
    s->kind = Spanset::Kind::kPipeline;
    s->pipeline = std::move(p);
    return s;
  }
  Fail();
  return nullptr;
}

std::unique_ptr<ScalarFilter> Parser::ParseScalarFilter() {
  auto lhs = ParseScalar(0);
  if (!lhs) return nullptr;
  auto op = ScalarCompareOf(Peek().kind);
  if (!op) {
    Fail();
    return nullptr;
  }
  ++pos_;
  auto rhs = ParseScalar(0);
  if (!rhs) return nullptr;
  auto f = std::make_unique<ScalarFilter>();
  f->op = *op;
  f->lhs = std::move(lhs);
  f->rhs = std::move(rhs);
  return f;
}

int Parser::ScalarPrecedence(Tok t) {
  switch (t) {
    case Tok::kAdd: case Tok::kSub: return 1;
    case Tok::kMul: case Tok::kDiv: case Tok::kMod: return 2;
    case Tok::kPow: return 3;
    default: return 0;
  }
}

Op Parser::ArithmeticOp(Tok t) {
  switch (t) {
    case Tok::kAdd: return Op::kAdd;
    case Tok::kSub: return Op::kSub;
    case Tok::kMul: return Op::kMul;
    case Tok::kDiv: return Op::kDiv;
    case Tok::kMod: return Op::kMod;
    default: return Op::kPow;
  }
}

// Arithmetic over aggregates and statics (precedence climbing; ^ is
// right-associative). With `wrapped`, operands are wrapped scalar
// pipelines instead.
std::unique_ptr<Scalar> Parser::ParseScalar(int min_prec, bool wrapped) {
  auto lhs = wrapped ? ParseWrappedScalarPipeline() : ParseScalarAtom();
  while (lhs) {
    const int prec = ScalarPrecedence(Peek().kind);
    if (prec == 0 || prec < min_prec) break;
    const Op op = ArithmeticOp(Peek().kind);
    ++pos_;
    auto rhs = ParseScalar(op == Op::kPow ? prec : prec + 1, wrapped);
    if (!rhs) return nullptr;
    auto b = std::make_unique<Scalar>();
    b->kind = Scalar::Kind::kBinary;
    b->op = op;
    b->lhs = std::move(lhs);
    b->rhs = std::move(rhs);
    lhs = std::move(b);
  }
  return lhs;
}

std::unique_ptr<Scalar> Parser::ParseScalarAtom() {
  if (Accept(Tok::kOpenParen)) {
    auto s = ParseScalar(0);
    if (!s || !Expect(Tok::kCloseParen)) return nullptr;
    return s;
  }
  if (AggregateOf(Peek().kind)) return ParseAggregate();
  Static value;
  if (ParseStatic(&value)) {
    auto s = std::make_unique<Scalar>();
    s->kind = Scalar::Kind::kStatic;
    s->value = std::move(value);
    return s;
  }
  Fail();
  return nullptr;
}

std::unique_ptr<Scalar> Parser::ParseAggregate() {
  auto fn = AggregateOf(Peek().kind);
  if (!fn) {
    Fail();
    return nullptr;
  }
  ++pos_;
  auto s = std::make_unique<Scalar>();
  s->kind = Scalar::Kind::kAggregate;
  s->fn = *fn;
  if (!Expect(Tok::kOpenParen)) return nullptr;
  if (*fn != AggregateFn::kCount) {
    s->arg = ParseField();
    if (!s->arg) return nullptr;
  }
  if (!Expect(Tok::kCloseParen)) return nullptr;
  return s;
}

// "(" pipeline "|" aggregate ")", or parentheses around an expression of them.
std::unique_ptr<Scalar> Parser::ParseWrappedScalarPipeline() {
  if (!Expect(Tok::kOpenParen)) return nullptr;
  const size_t start = pos_;
  std::unique_ptr<Scalar> tail;
  if (auto p = ParsePipeline(&tail); p && tail && Accept(Tok::kCloseParen)) {
    auto s = std::make_unique<Scalar>();
    s->kind = Scalar::Kind::kPipeline;
    s->pipeline = std::move(p);
    s->lhs = std::move(tail);  // the aggregate that ends the pipeline
    return s;
  }
  pos_ = start;
  auto inner = ParseScalar(0, /*wrapped=*/true);
  if (!inner || !Expect(Tok::kCloseParen)) return nullptr;
  return inner;
}

std::unique_ptr<ScalarFilter> Parser::ParseScalarRoot() {
  auto lhs = ParseScalar(0, /*wrapped=*/true);
  if (!lhs) return nullptr;
  auto op = ScalarCompareOf(Peek().kind);
  if (!op) {
    Fail();
    return nullptr;
  }
  ++pos_;
  std::unique_ptr<Scalar> rhs;
  Static value;
  if (Is(Tok::kOpenParen)) {
    rhs = ParseScalar(0, /*wrapped=*/true);
  } else if (ParseStatic(&value)) {
    rhs = std::make_unique<Scalar>();
    rhs->kind = Scalar::Kind::kStatic;
    rhs->value = std::move(value);
  } else {
    Fail();
  }
  if (!rhs) return nullptr;
  auto f = std::make_unique<ScalarFilter>();
  f->op = *op;
  f->lhs = std::move(lhs);
  f->rhs = std::move(rhs);
  return f;
}

std::unique_ptr<Field> Parser::ParseField() { return ParseFieldOr(); }

std::unique_ptr<Field> Parser::Binary(Op op, std::unique_ptr<Field> lhs, std::unique_ptr<Field> rhs, const Token& at) {
  auto f = std::make_unique<Field>();
  f->kind = Field::Kind::kBinary;
  f->op = op;
  f->lhs = std::move(lhs);
  f->rhs = std::move(rhs);
  f->line = at.line;
  f->col = at.col;
  return f;
}

// One level of left-associative operators in field expressions.
std::unique_ptr<Field> Parser::FieldLevel(std::initializer_list<std::pair<Tok, Op>> ops,
                                          std::unique_ptr<Field> (Parser::*operand)()) {
  return BinaryLevel(ops, operand, [this](Op op, std::unique_ptr<Field> lhs, std::unique_ptr<Field> rhs,
                                          const Token& at) { return Binary(op, std::move(lhs), std::move(rhs), at); });
}

std::unique_ptr<Field> Parser::ParseFieldOr() { return FieldLevel({{Tok::kOr, Op::kOr}}, &Parser::ParseFieldAnd); }

std::unique_ptr<Field> Parser::ParseFieldAnd() {
  return FieldLevel({{Tok::kAnd, Op::kAnd}}, &Parser::ParseFieldCompare);
}

std::unique_ptr<Field> Parser::ParseFieldCompare() {
  return FieldLevel({{Tok::kEq, Op::kEq}, {Tok::kNeq, Op::kNeq}, {Tok::kLt, Op::kLt}, {Tok::kLte, Op::kLte},
                     {Tok::kGt, Op::kGt}, {Tok::kGte, Op::kGte}, {Tok::kRegex, Op::kRegex},
                     {Tok::kNotRegex, Op::kNotRegex}},
                    &Parser::ParseFieldSum);
}

std::unique_ptr<Field> Parser::ParseFieldSum() {
  return FieldLevel({{Tok::kAdd, Op::kAdd}, {Tok::kSub, Op::kSub}}, &Parser::ParseFieldProduct);
}

std::unique_ptr<Field> Parser::ParseFieldProduct() {
  return FieldLevel({{Tok::kMul, Op::kMul}, {Tok::kDiv, Op::kDiv}, {Tok::kMod, Op::kMod}}, &Parser::ParseFieldUnary);
}

// "!" and unary "-" bind looser than * / % and ^ but tighter than + -:
// !a * b is !(a * b), -a + b is (-a) + b.
std::unique_ptr<Field> Parser::ParseFieldUnary() {
  if (Is(Tok::kNot) || Is(Tok::kSub)) {
    const Token at = Peek();
    const Op op = Is(Tok::kNot) ? Op::kNot : Op::kNeg;
    ++pos_;
    auto operand = ParseFieldProduct();
    if (!operand) return nullptr;
    auto f = std::make_unique<Field>();
    f->kind = Field::Kind::kUnary;
    f->op = op;
    f->lhs = std::move(operand);
    f->line = at.line;
    f->col = at.col;
    return f;
  }
  return ParseFieldPow();
}

std::unique_ptr<Field> Parser::ParseFieldPow() {
  auto lhs = ParseFieldAtom();
  if (lhs && Is(Tok::kPow)) {
    const Token at = Peek();
    ++pos_;
    auto rhs = ParseFieldUnary();  // right-associative
    if (!rhs) return nullptr;
    return Binary(Op::kPow, std::move(lhs), std::move(rhs), at);
  }
  return lhs;
}

std::unique_ptr<Field> Parser::ParseFieldAtom() {
  const Token& t = Peek();
  auto f = std::make_unique<Field>();
  f->line = t.line;
  f->col = t.col;
  switch (t.kind) {
    case Tok::kOpenParen: {
      ++pos_;
      auto inner = ParseField();
      if (!inner || !Expect(Tok::kCloseParen)) return nullptr;
      return inner;
    }
    case Tok::kAttribute:
      if (t.text.empty()) {  // "." or "span." with no name
        Fail("IDENTIFIER");
        return nullptr;
      }
      f->kind = Field::Kind::kAttribute;
      f->scope = t.scope;
      f->parent = t.parent;
      f->name = t.text;
      ++pos_;
      return f;
    case Tok::kIntrinsic:
    case Tok::kScopedIntrinsic: {
      auto intrinsic = IntrinsicNamed(t.text);
      if (!intrinsic) {
        Fail();
        return nullptr;
      }
      f->kind = Field::Kind::kIntrinsic;
      f->intrinsic = *intrinsic;
      ++pos_;
      return f;
    }
    default: {
      if (!ParseStatic(&f->value)) {
        Fail();
        return nullptr;
      }
      f->kind = Field::Kind::kStatic;
      return f;
    }
  }
}

bool Parser::ParseStatic(Static* v) {
  const Token& t = Peek();
  switch (t.kind) {
    case Tok::kString: v->type = StaticType::kString; v->s = t.text; break;
    case Tok::kInt: v->type = StaticType::kInt; v->i = t.int_value; break;
    case Tok::kFloat: v->type = StaticType::kFloat; v->f = t.float_value; break;
    case Tok::kDuration: v->type = StaticType::kDuration; v->i = t.duration_ns; break;
    case Tok::kTrue: v->type = StaticType::kBool; v->b = true; break;
    case Tok::kFalse: v->type = StaticType::kBool; v->b = false; break;
    case Tok::kNil: v->type = StaticType::kNil; break;
    case Tok::kStatusOk: v->type = StaticType::kStatus; v->i = static_cast<int64_t>(Status::kOk); break;
    case Tok::kStatusError: v->type = StaticType::kStatus; v->i = static_cast<int64_t>(Status::kError); break;
    case Tok::kStatusUnset: v->type = StaticType::kStatus; v->i = static_cast<int64_t>(Status::kUnset); break;
    case Tok::kKindUnspecified: v->type = StaticType::kKind; v->i = static_cast<int64_t>(Kind::kUnspecified); break;
    case Tok::kKindInternal: v->type = StaticType::kKind; v->i = static_cast<int64_t>(Kind::kInternal); break;
    case Tok::kKindServer: v->type = StaticType::kKind; v->i = static_cast<int64_t>(Kind::kServer); break;
    case Tok::kKindClient: v->type = StaticType::kKind; v->i = static_cast<int64_t>(Kind::kClient); break;
    case Tok::kKindProducer: v->type = StaticType::kKind; v->i = static_cast<int64_t>(Kind::kProducer); break;
    case Tok::kKindConsumer: v->type = StaticType::kKind; v->i = static_cast<int64_t>(Kind::kConsumer); break;
    default: return false;
  }
  ++pos_;
  return true;
}

}  // namespace parser_internal

absl::StatusOr<Query> Parse(std::string_view query) {
  auto tokens = Lex(query);
  if (!tokens.ok()) return tokens.status();
  return parser_internal::Parser(std::move(*tokens)).Run();
}

}  // namespace signaldb::traceql
