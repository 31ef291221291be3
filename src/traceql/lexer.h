// The TraceQL lexer: turns query text into tokens with their line and
// column, the way Tempo's lexer splits it (facts in
// ../shared/reference/tempo-api.md §4.1):
//
// - Go-like literals: "..." strings with Go escapes, `...` raw strings,
//   integers, floats (`.3`, `1.`, `1e3`), and durations (`1h15m30.9s`,
//   `100ms`, `2d`, `1w`; Prometheus units first, then Go's `time` units).
// - Comments `// ...` and `/* ... */` are skipped.
// - Attributes are single tokens: `.name`, `span.name`, `resource.name`,
//   `event.name`, `link.name`, `instrumentation.name`, `parent.name`,
//   `parent.span.name`, `parent.resource.name`. A name runs until
//   whitespace or one of `{ } ( ) = ~ ! < > & | ^ ,`, and may contain
//   quoted segments (`span."with space".x`, escapes `\"` and `\\` only).
// - Scoped intrinsics are single tokens too: `span:duration`, `trace:id`, ...
// - Operators are matched longest first (`!>>` before `!>` before `!`).
//
// Thread-safety: a Lexer is used by one thread; Lex() is a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb::traceql {

enum class Tok {
  kEnd,
  // Literals and names.
  kIdent,      // a bare word that is not a keyword (always a syntax error in TraceQL)
  kString,
  kInt,
  kFloat,
  kDuration,
  kAttribute,  // .x, span.x, ... (see Token::scope, Token::parent)
  kScopedIntrinsic,  // span:duration, trace:id, ... (Token::text is the whole word)
  // Punctuation and operators.
  kComma, kOpenBrace, kCloseBrace, kOpenParen, kCloseParen,
  kEq, kNeq, kRegex, kNotRegex, kGt, kGte, kLt, kLte,
  kAdd, kSub, kDiv, kMod, kMul, kPow,
  kAnd, kOr, kNot, kPipe,
  kDesc, kAnce, kSibling,                                   // >> << ~
  kNotChild, kNotParent, kNotDesc, kNotAnce,                // !> !< !>> !<<  (!~ is kNotRegex)
  kUnionChild, kUnionParent, kUnionDesc, kUnionAnce, kUnionSibling,  // &> &< &>> &<< &~
  // Keywords.
  kTrue, kFalse, kNil,
  kStatusOk, kStatusError, kStatusUnset,
  kKindUnspecified, kKindInternal, kKindServer, kKindClient, kKindProducer, kKindConsumer,
  kIntrinsic,  // duration, name, status, ... (Token::text)
  kCount, kAvg, kMax, kMin, kSum,
  kBy, kCoalesce, kSelect, kWith,
  kMetricsFn,  // rate, count_over_time, ..., compare (Token::text)
  kTopK, kBottomK,
};

// Scope of an attribute token.
enum class Scope { kNone, kSpan, kResource, kEvent, kLink, kInstrumentation };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier / string value / attribute name / keyword as written
  int64_t int_value = 0;
  double float_value = 0;
  int64_t duration_ns = 0;
  Scope scope = Scope::kNone;
  bool parent = false;  // parent.x, parent.span.x, parent.resource.x
  int line = 1;
  int col = 1;
};

// How a token is named in "unexpected X" messages (Tempo's token names:
// IDENTIFIER, STRING, INTEGER, ..., or the operator itself).
std::string TokenName(const Token& t);

// Splits `query` into tokens ending with one kEnd. InvalidArgument with
// "parse error at line L, col C: ..." on text no token can start with
// (an unterminated string, a bad escape, a stray character).
absl::StatusOr<std::vector<Token>> Lex(std::string_view query);

// A Go-style duration (`1h15m`, `1.5s`, `300ms`, `2d`, `1w`, `1y`) in
// nanoseconds, or false.
bool ParseDuration(std::string_view text, int64_t* ns);

}  // namespace signaldb::traceql
