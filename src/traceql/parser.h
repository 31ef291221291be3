// The TraceQL parser: a hand-written recursive-descent parser over the
// lexer's tokens, building ast.h. Grammar (precedence low to high):
//
//   query      := root [ "with" "(" hint { "," hint } ")" ]
//   root       := pipeline [ "|" metrics { second } ] | scalarRoot | math { second }
//   math       := product { (+ -) product };  product := mathAtom { (* /) mathAtom }
//   mathAtom   := "(" pipeline "|" metrics { second } ")" | "(" math ")" | ["-"] number
//   second     := ["|"] (topk(N) | bottomk(N) | comparison number)
//   pipeline   := stage { "|" stage }        (not starting with coalesce())
//   stage      := spansets | scalarFilter | by(f) | coalesce() | select(f, ...)
//   spansets   := and { "||" and };  and := rel { "&&" rel }
//   rel        := primary { (> < >> << ~ !> !< !>> !<< !~ &> &< &>> &<< &~) primary }
//   primary    := "{" [ field ] "}" | "(" pipeline ")"
//   field      := or;  or := and { "||" and };  and := cmp { "&&" cmp }
//   cmp        := sum [ (= != < <= > >= =~ !~) sum ];  sum := prod { (+ -) prod }
//   prod       := unary { (* / %) unary };  unary := ("!" | "-") prod | pow
//   pow        := atom [ "^" unary ]
//   atom       := static | attribute | intrinsic | "(" field ")"
//
// Errors are InvalidArgument in Tempo's form: "parse error at line L, col C:
// syntax error: unexpected X" (X as Tempo names tokens: IDENTIFIER, $end,
// CLOSE_BRACE, ...), pointing at the first token no parse could take.
//
// Thread-safety: Parse() is a pure function.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "traceql/ast.h"

namespace signaldb::traceql {

// Parses a whole query. Parsing checks syntax only; Validate() checks types.
absl::StatusOr<Query> Parse(std::string_view query);

}  // namespace signaldb::traceql
