// The TraceQL parser's class (parser.h is the interface): its methods are
// defined in parser.cc (pipelines, spanset expressions, scalar filters,
// field expressions) and parser_metrics.cc (the root forms, metrics
// functions, metrics math, second stages and hints). Internal to traceql.
//
// Thread-safety: a Parser is used by one thread, once.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/strings.h"
#include "traceql/ast.h"
#include "traceql/lexer.h"

namespace signaldb::traceql::parser_internal {

// The spanset operator a token denotes.
inline std::optional<SpansetOp> SpansetOpOf(Tok t) {
  switch (t) {
    case Tok::kGt: return SpansetOp::kChild;
    case Tok::kLt: return SpansetOp::kParent;
    case Tok::kDesc: return SpansetOp::kDescendant;
    case Tok::kAnce: return SpansetOp::kAncestor;
    case Tok::kSibling: return SpansetOp::kSibling;
    case Tok::kNotChild: return SpansetOp::kNotChild;
    case Tok::kNotParent: return SpansetOp::kNotParent;
    case Tok::kNotDesc: return SpansetOp::kNotDescendant;
    case Tok::kNotAnce: return SpansetOp::kNotAncestor;
    case Tok::kNotRegex: return SpansetOp::kNotSibling;
    case Tok::kUnionChild: return SpansetOp::kUnionChild;
    case Tok::kUnionParent: return SpansetOp::kUnionParent;
    case Tok::kUnionDesc: return SpansetOp::kUnionDescendant;
    case Tok::kUnionAnce: return SpansetOp::kUnionAncestor;
    case Tok::kUnionSibling: return SpansetOp::kUnionSibling;
    default: return std::nullopt;
  }
}

// Comparison operators of scalar filters and second stages.
inline std::optional<Op> ScalarCompareOf(Tok t) {
  switch (t) {
    case Tok::kEq: return Op::kEq;
    case Tok::kNeq: return Op::kNeq;
    case Tok::kLt: return Op::kLt;
    case Tok::kLte: return Op::kLte;
    case Tok::kGt: return Op::kGt;
    case Tok::kGte: return Op::kGte;
    default: return std::nullopt;
  }
}

// The aggregate a token names.
inline std::optional<AggregateFn> AggregateOf(Tok t) {
  switch (t) {
    case Tok::kCount: return AggregateFn::kCount;
    case Tok::kAvg: return AggregateFn::kAvg;
    case Tok::kMax: return AggregateFn::kMax;
    case Tok::kMin: return AggregateFn::kMin;
    case Tok::kSum: return AggregateFn::kSum;
    default: return std::nullopt;
  }
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}
  absl::StatusOr<Query> Run();

 private:
  // ---- token helpers ----
  const Token& Peek(size_t ahead = 0) const { return t_[std::min(pos_ + ahead, t_.size() - 1)]; }
  bool Is(Tok k, size_t ahead = 0) const { return Peek(ahead).kind == k; }
  bool Accept(Tok k) {
    if (!Is(k)) return false;
    ++pos_;
    return true;
  }
  bool Expect(Tok k) { return Accept(k) || Fail(); }
  // Records a syntax error at the current token (the furthest one wins)
  // and returns false.
  bool Fail(std::string expecting = "") {
    if (!has_error_ || pos_ >= error_pos_) {
      if (!has_error_ || pos_ > error_pos_) error_expecting_.clear();
      has_error_ = true;
      error_pos_ = pos_;
      if (!expecting.empty()) error_expecting_ = std::move(expecting);
    }
    return false;
  }
  absl::Status Error() const {
    const Token& t = t_[std::min(error_pos_, t_.size() - 1)];
    // An attribute with no name ends before it starts, as Tempo reports it.
    const std::string name = t.kind == Tok::kAttribute && t.text.empty() ? "END_ATTRIBUTE" : TokenName(t);
    std::string msg = StrCat("parse error at line ", t.line, ", col ", t.col, ": syntax error: unexpected ", name);
    if (!error_expecting_.empty()) msg += StrCat(", expecting ", error_expecting_);
    return absl::InvalidArgumentError(msg);
  }

  // One level of left-associative binary operators: operands from
  // `operand`, joined into one node by `combine(op, lhs, rhs, at)`.
  template <typename Node, typename Combine>
  std::unique_ptr<Node> BinaryLevel(std::initializer_list<std::pair<Tok, Op>> ops,
                                    std::unique_ptr<Node> (Parser::*operand)(), Combine combine) {
    auto lhs = (this->*operand)();
    while (lhs) {
      Op op = Op::kNone;
      for (auto [tok, o] : ops) {
        if (Is(tok)) op = o;
      }
      if (op == Op::kNone) break;
      const Token at = Peek();
      ++pos_;
      auto rhs = (this->*operand)();
      if (!rhs) return nullptr;
      lhs = combine(op, std::move(lhs), std::move(rhs), at);
    }
    return lhs;
  }

  // ---- pipelines ----
  std::unique_ptr<Pipeline> ParsePipeline(std::unique_ptr<Scalar>* scalar_tail);
  bool ScalarFollows() const;
  bool ParseStage(Stage* stage);

  // ---- spanset expressions ----
  std::unique_ptr<Spanset> SpansetLevel(Tok tok, SpansetOp op, std::unique_ptr<Spanset> (Parser::*operand)());
  std::unique_ptr<Spanset> ParseSpansetOr();
  std::unique_ptr<Spanset> ParseSpansetAnd();
  std::unique_ptr<Spanset> ParseSpansetRelation();
  static std::unique_ptr<Spanset> Combine(SpansetOp op, std::unique_ptr<Spanset> lhs, std::unique_ptr<Spanset> rhs);
  std::unique_ptr<Spanset> ParseSpansetPrimary();

  // ---- scalar filters ----
  std::unique_ptr<ScalarFilter> ParseScalarFilter();
  static int ScalarPrecedence(Tok t);
  static Op ArithmeticOp(Tok t);
  std::unique_ptr<Scalar> ParseScalar(int min_prec, bool wrapped = false);
  std::unique_ptr<Scalar> ParseScalarAtom();
  std::unique_ptr<Scalar> ParseAggregate();
  std::unique_ptr<Scalar> ParseWrappedScalarPipeline();
  std::unique_ptr<ScalarFilter> ParseScalarRoot();

  // ---- roots ----
  bool RootPipeline(Query* q);
  bool RootScalarFilter(Query* q);
  bool RootMath(Query* q);

  // ---- metrics math ----
  static bool HasQuery(const MetricsExpr& e);
  std::unique_ptr<MetricsExpr> MathLevel(std::initializer_list<std::pair<Tok, Op>> ops,
                                         std::unique_ptr<MetricsExpr> (Parser::*operand)());
  std::unique_ptr<MetricsExpr> ParseMathSum();
  std::unique_ptr<MetricsExpr> ParseMathProduct();
  static std::unique_ptr<MetricsExpr> CombineMath(Op op, std::unique_ptr<MetricsExpr> lhs,
                                                  std::unique_ptr<MetricsExpr> rhs);
  std::unique_ptr<MetricsExpr> ParseMathAtom();

  // ---- metrics, second stage, hints ----
  bool ParseMetricsAndSecondStage(Query* q);
  bool ParseSecondStages(std::vector<SecondStage>* out);
  bool ParseNumber(double* v);
  bool ParseMetrics(Metrics* m);
  bool ParseHints(Query* q);

  // ---- field expressions ----
  std::unique_ptr<Field> ParseField();
  std::unique_ptr<Field> Binary(Op op, std::unique_ptr<Field> lhs, std::unique_ptr<Field> rhs, const Token& at);
  std::unique_ptr<Field> FieldLevel(std::initializer_list<std::pair<Tok, Op>> ops,
                                    std::unique_ptr<Field> (Parser::*operand)());
  std::unique_ptr<Field> ParseFieldOr();
  std::unique_ptr<Field> ParseFieldAnd();
  std::unique_ptr<Field> ParseFieldCompare();
  std::unique_ptr<Field> ParseFieldSum();
  std::unique_ptr<Field> ParseFieldProduct();
  std::unique_ptr<Field> ParseFieldUnary();
  std::unique_ptr<Field> ParseFieldPow();
  std::unique_ptr<Field> ParseFieldAtom();
  bool ParseStatic(Static* v);

  // ---- state ----
  std::vector<Token> t_;
  size_t pos_ = 0;
  bool has_error_ = false;
  size_t error_pos_ = 0;
  std::string error_expecting_;
};

}  // namespace signaldb::traceql::parser_internal
