// The root forms of a query, metrics functions, metrics math, second
// stages and hints (parser_impl.h). Metrics math:
//
//   sum := product { (+ | -) product };  product := atom { (* | /) atom }
//   atom := "(" pipeline "|" metrics [second stages] ")" | "(" sum ")" | ["-"] number
#include "traceql/parser_impl.h"

namespace signaldb::traceql::parser_internal {

// Each root form in turn; the error reported is the furthest any got.
absl::StatusOr<Query> Parser::Run() {
  using Root = bool (Parser::*)(Query*);
  for (Root root : {&Parser::RootPipeline, &Parser::RootScalarFilter, &Parser::RootMath}) {
    pos_ = 0;
    Query q;
    if (!(this->*root)(&q)) continue;
    if (Is(Tok::kWith) && !ParseHints(&q)) continue;
    if (!Is(Tok::kEnd)) {
      Fail();
      continue;
    }
    return q;
  }
  return Error();
}

// A spanset pipeline, optionally ending in a metrics function.
bool Parser::RootPipeline(Query* q) {
  q->pipeline = ParsePipeline(/*scalar_tail=*/nullptr);
  return q->pipeline && ParseMetricsAndSecondStage(q);
}

// A root scalar filter over wrapped pipelines: ({ } | count()) > 2
bool Parser::RootScalarFilter(Query* q) {
  q->scalar_root = ParseScalarRoot();
  return q->scalar_root != nullptr;
}

// Metrics math, then second stages. A single parenthesised metrics query
// is that query, as in Tempo.
bool Parser::RootMath(Query* q) {
  auto e = ParseMathSum();
  if (!e) return false;
  if (!HasQuery(*e)) {
    pos_ = 0;  // numbers alone: the other forms' errors say more
    return Fail();
  }
  if (!ParseSecondStages(&q->second_stage)) return false;
  if (e->kind != MetricsExpr::Kind::kQuery) {
    q->math = std::move(e);
    return true;
  }
  q->pipeline = std::move(e->pipeline);
  q->metrics = std::move(e->metrics);
  q->second_stage.insert(q->second_stage.begin(), e->second_stage.begin(), e->second_stage.end());
  return true;
}

bool Parser::HasQuery(const MetricsExpr& e) {
  if (e.kind == MetricsExpr::Kind::kBinary) return HasQuery(*e.lhs) || HasQuery(*e.rhs);
  return e.kind == MetricsExpr::Kind::kQuery;
}

std::unique_ptr<MetricsExpr> Parser::MathLevel(std::initializer_list<std::pair<Tok, Op>> ops,
                                               std::unique_ptr<MetricsExpr> (Parser::*operand)()) {
  return BinaryLevel(ops, operand, [](Op op, std::unique_ptr<MetricsExpr> lhs, std::unique_ptr<MetricsExpr> rhs,
                                      const Token&) { return CombineMath(op, std::move(lhs), std::move(rhs)); });
}

std::unique_ptr<MetricsExpr> Parser::ParseMathSum() {
  return MathLevel({{Tok::kAdd, Op::kAdd}, {Tok::kSub, Op::kSub}}, &Parser::ParseMathProduct);
}

std::unique_ptr<MetricsExpr> Parser::ParseMathProduct() {
  return MathLevel({{Tok::kMul, Op::kMul}, {Tok::kDiv, Op::kDiv}}, &Parser::ParseMathAtom);
}

// Numbers on both sides fold into one (division by zero gives NaN, as
// Tempo's metrics arithmetic does).
std::unique_ptr<MetricsExpr> Parser::CombineMath(Op op, std::unique_ptr<MetricsExpr> lhs,
                                                std::unique_ptr<MetricsExpr> rhs) {
  auto e = std::make_unique<MetricsExpr>();
  if (lhs->kind == MetricsExpr::Kind::kScalar && rhs->kind == MetricsExpr::Kind::kScalar) {
    e->value = MetricsArithmetic(op, lhs->value, rhs->value);
    return e;
  }
  e->kind = MetricsExpr::Kind::kBinary;
  e->op = op;
  e->lhs = std::move(lhs);
  e->rhs = std::move(rhs);
  return e;
}

std::unique_ptr<MetricsExpr> Parser::ParseMathAtom() {
  auto e = std::make_unique<MetricsExpr>();
  if (Accept(Tok::kOpenParen)) {
    const size_t start = pos_;
    // A metrics query in parentheses...
    Query q;
    q.pipeline = ParsePipeline(nullptr);
    if (q.pipeline && Is(Tok::kPipe) && Is(Tok::kMetricsFn, 1) && ParseMetricsAndSecondStage(&q) &&
        Accept(Tok::kCloseParen)) {
      e->kind = MetricsExpr::Kind::kQuery;
      e->pipeline = std::move(q.pipeline);
      e->metrics = std::move(q.metrics);
      e->second_stage = std::move(q.second_stage);
      return e;
    }
    // ... or math in parentheses.
    pos_ = start;
    auto inner = ParseMathSum();
    if (!inner || !Expect(Tok::kCloseParen)) return nullptr;
    return inner;
  }
  // Numbers; durations are not numbers here.
  const bool negative = Is(Tok::kSub) && (Is(Tok::kInt, 1) || Is(Tok::kFloat, 1));
  if (negative) ++pos_;
  if (Is(Tok::kInt) || Is(Tok::kFloat)) {
    e->value = Is(Tok::kInt) ? static_cast<double>(Peek().int_value) : Peek().float_value;
    if (negative) e->value = -e->value;
    ++pos_;
    return e;
  }
  Fail();
  return nullptr;
}

bool Parser::ParseMetricsAndSecondStage(Query* q) {
  if (!Is(Tok::kPipe) || !Is(Tok::kMetricsFn, 1)) return true;
  ++pos_;
  Metrics m;
  if (!ParseMetrics(&m)) return false;
  q->metrics = std::move(m);
  return ParseSecondStages(&q->second_stage);
}

// topk(N), bottomk(N) and comparisons, each optionally after a pipe.
bool Parser::ParseSecondStages(std::vector<SecondStage>* out) {
  while (true) {
    const bool piped = Is(Tok::kPipe) && (Is(Tok::kTopK, 1) || Is(Tok::kBottomK, 1) ||
                                          ScalarCompareOf(Peek(1).kind).has_value());
    if (piped) ++pos_;
    SecondStage s;
    if (Is(Tok::kTopK) || Is(Tok::kBottomK)) {
      s.kind = Is(Tok::kTopK) ? SecondStage::Kind::kTopK : SecondStage::Kind::kBottomK;
      ++pos_;
      if (!Expect(Tok::kOpenParen)) return false;
      if (!Is(Tok::kInt)) return Fail("INTEGER");
      s.n = Peek().int_value;
      ++pos_;
      if (!Expect(Tok::kCloseParen)) return false;
    } else if (auto op = ScalarCompareOf(Peek().kind)) {
      s.kind = SecondStage::Kind::kFilter;
      s.op = *op;
      ++pos_;
      if (!ParseNumber(&s.value)) return false;
    } else {
      if (piped) return Fail();
      return true;
    }
    out->push_back(s);
  }
}

bool Parser::ParseNumber(double* v) {
  const bool negative = Accept(Tok::kSub);
  if (Is(Tok::kInt)) *v = static_cast<double>(Peek().int_value);
  else if (Is(Tok::kFloat)) *v = Peek().float_value;
  else return Fail();
  ++pos_;
  if (negative) *v = -*v;
  return true;
}

bool Parser::ParseMetrics(Metrics* m) {
  for (MetricsFn fn : {MetricsFn::kRate, MetricsFn::kCountOverTime, MetricsFn::kMinOverTime, MetricsFn::kMaxOverTime,
                       MetricsFn::kSumOverTime, MetricsFn::kAvgOverTime, MetricsFn::kQuantileOverTime,
                       MetricsFn::kHistogramOverTime, MetricsFn::kCompare}) {
    if (Peek().text == MetricsFnName(fn)) m->fn = fn;  // the lexer only makes kMetricsFn of these names
  }
  ++pos_;
  if (!Expect(Tok::kOpenParen)) return false;
  switch (m->fn) {
    case MetricsFn::kRate:
    case MetricsFn::kCountOverTime:
      break;
    case MetricsFn::kCompare: {
      m->compare = ParseSpansetPrimary();
      if (!m->compare) return false;
      if (Accept(Tok::kComma)) {
        if (!Is(Tok::kInt)) return Fail("INTEGER");
        m->compare_top = Peek().int_value;
        ++pos_;
        if (Accept(Tok::kComma)) {
          for (int64_t* out : {&m->compare_start, &m->compare_end}) {
            if (out == &m->compare_end && !Expect(Tok::kComma)) return false;
            if (!Is(Tok::kInt)) return Fail("INTEGER");
            *out = Peek().int_value;
            ++pos_;
          }
        }
      }
      break;
    }
    default: {
      m->attr = ParseField();
      if (!m->attr) return false;
      if (m->fn == MetricsFn::kQuantileOverTime) {
        if (!Is(Tok::kComma)) return Fail("COMMA");
        while (Accept(Tok::kComma)) {
          double q = 0;
          if (!ParseNumber(&q)) return false;
          m->quantiles.push_back(q);
        }
      }
    }
  }
  if (!Expect(Tok::kCloseParen)) return false;
  if (Accept(Tok::kBy)) {
    if (!Expect(Tok::kOpenParen)) return false;
    do {
      auto f = ParseField();
      if (!f) return false;
      m->by.push_back(std::move(f));
    } while (Accept(Tok::kComma));
    if (!Expect(Tok::kCloseParen)) return false;
  }
  return true;
}

bool Parser::ParseHints(Query* q) {
  ++pos_;  // with
  if (!Expect(Tok::kOpenParen)) return false;
  do {
    // Hint names are plain words; a keyword may be one too.
    const Token& name = Peek();
    if (name.kind == Tok::kString || name.kind == Tok::kInt || name.kind == Tok::kFloat ||
        name.kind == Tok::kDuration || name.kind == Tok::kAttribute || name.text.empty()) {
      return Fail("IDENTIFIER");
    }
    ++pos_;
    if (!Expect(Tok::kEq)) return false;
    Static value;
    if (!ParseStatic(&value)) return Fail();
    q->hints[name.text] = std::move(value);
  } while (Accept(Tok::kComma));
  return Expect(Tok::kCloseParen);
}

}  // namespace signaldb::traceql::parser_internal
