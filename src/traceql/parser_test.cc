// The TraceQL lexer and parser: what must parse (and into which tree: the
// precedence and associativity of every operator level), what must fail,
// and the messages and positions of failures.
#include "traceql/parser.h"
#include "traceql/validate.h"

#include <string>
#include <vector>

#include "common/strings.h"
#include "gtest/gtest.h"

namespace signaldb::traceql {
namespace {

// An S-expression of the tree, to compare shapes.
std::string Dump(const Field& f);
std::string Dump(const Spanset& s);
std::string Dump(const Pipeline& p);
std::string Dump(const Scalar& s);

std::string Dump(const Static& v) {
  switch (v.type) {
    case StaticType::kNil: return "nil";
    case StaticType::kInt: return StrCat(v.i);
    case StaticType::kFloat: return StrCat("f", v.f);
    case StaticType::kString: return StrCat("\"", v.s, "\"");
    case StaticType::kBool: return v.b ? "true" : "false";
    case StaticType::kDuration: return StrCat(v.i, "ns");
    case StaticType::kStatus: return StrCat("status", v.i);
    case StaticType::kKind: return StrCat("kind", v.i);
  }
  return "?";
}

std::string Dump(const Field& f) {
  switch (f.kind) {
    case Field::Kind::kStatic: return Dump(f.value);
    case Field::Kind::kAttribute: {
      static const char* kScopes[] = {"", "span", "resource", "event", "link", "instrumentation"};
      return StrCat(f.parent ? "parent." : "", kScopes[static_cast<int>(f.scope)], ".", f.name);
    }
    case Field::Kind::kIntrinsic: return StrCat("#", static_cast<int>(f.intrinsic));
    case Field::Kind::kUnary: return StrCat("(", OpText(f.op), " ", Dump(*f.lhs), ")");
    case Field::Kind::kBinary: return StrCat("(", OpText(f.op), " ", Dump(*f.lhs), " ", Dump(*f.rhs), ")");
  }
  return "?";
}

std::string Dump(const Scalar& s) {
  static const char* kFns[] = {"count", "avg", "max", "min", "sum"};
  switch (s.kind) {
    case Scalar::Kind::kAggregate:
      return StrCat(kFns[static_cast<int>(s.fn)], "(", s.arg ? Dump(*s.arg) : "", ")");
    case Scalar::Kind::kStatic: return Dump(s.value);
    case Scalar::Kind::kBinary: return StrCat("(", OpText(s.op), " ", Dump(*s.lhs), " ", Dump(*s.rhs), ")");
    case Scalar::Kind::kPipeline: return StrCat("[", Dump(*s.pipeline), " | ", Dump(*s.lhs), "]");
  }
  return "?";
}

std::string Dump(const Spanset& s) {
  switch (s.kind) {
    case Spanset::Kind::kFilter: return StrCat("{", s.filter ? Dump(*s.filter) : "", "}");
    case Spanset::Kind::kOperation:
      return StrCat("(", SpansetOpText(s.op), " ", Dump(*s.lhs), " ", Dump(*s.rhs), ")");
    case Spanset::Kind::kPipeline: return StrCat("[", Dump(*s.pipeline), "]");
  }
  return "?";
}

std::string Dump(const Pipeline& p) {
  std::vector<std::string> parts;
  for (const auto& st : p.stages) {
    switch (st.kind) {
      case Stage::Kind::kSpanset: parts.push_back(Dump(*st.spanset)); break;
      case Stage::Kind::kScalarFilter:
        parts.push_back(StrCat(Dump(*st.scalar_filter->lhs), " ", OpText(st.scalar_filter->op), " ",
                               Dump(*st.scalar_filter->rhs)));
        break;
      case Stage::Kind::kBy: parts.push_back(StrCat("by(", Dump(*st.fields[0]), ")")); break;
      case Stage::Kind::kCoalesce: parts.push_back("coalesce()"); break;
      case Stage::Kind::kSelect: {
        std::vector<std::string> f;
        for (const auto& x : st.fields) f.push_back(Dump(*x));
        parts.push_back(StrCat("select(", Join(f, ", "), ")"));
      }
    }
  }
  return Join(parts, " | ");
}

std::string DumpSecondStages(const std::vector<SecondStage>& stages) {
  std::string out;
  for (const auto& s : stages) {
    out += s.kind == SecondStage::Kind::kFilter ? StrCat(" ", OpText(s.op), s.value)
                                                : StrCat(s.kind == SecondStage::Kind::kTopK ? " topk" : " bottomk", s.n);
  }
  return out;
}

std::string Dump(const MetricsExpr& e) {
  switch (e.kind) {
    case MetricsExpr::Kind::kQuery:
      return StrCat("[", Dump(*e.pipeline), " |> fn", static_cast<int>(e.metrics->fn),
                    DumpSecondStages(e.second_stage), "]");
    case MetricsExpr::Kind::kScalar: return StrCat(e.value);
    case MetricsExpr::Kind::kBinary: return StrCat("(", OpText(e.op), " ", Dump(*e.lhs), " ", Dump(*e.rhs), ")");
  }
  return "?";
}

std::string Dump(const Query& q) {
  std::string out;
  if (q.pipeline) out = Dump(*q.pipeline);
  if (q.math) out = Dump(*q.math);
  if (q.scalar_root) {
    out = StrCat(Dump(*q.scalar_root->lhs), " ", OpText(q.scalar_root->op), " ", Dump(*q.scalar_root->rhs));
  }
  if (q.metrics) {
    out += StrCat(" |> fn", static_cast<int>(q.metrics->fn));
    if (q.metrics->attr) out += StrCat("(", Dump(*q.metrics->attr), ")");
    for (double x : q.metrics->quantiles) out += StrCat(" q", x);
    if (q.metrics->compare) out += StrCat(" cmp", Dump(*q.metrics->compare), " ", q.metrics->compare_top);
    for (const auto& b : q.metrics->by) out += StrCat(" by ", Dump(*b));
  }
  out += DumpSecondStages(q.second_stage);
  for (const auto& [k, v] : q.hints) out += StrCat(" with ", k, "=", Dump(v));
  return out;
}

std::string Parsed(const std::string& q) {
  auto r = Parse(q);
  EXPECT_TRUE(r.ok()) << q << ": " << r.status();
  return r.ok() ? Dump(*r) : "";
}

std::string ParseError(const std::string& q) {
  auto r = Parse(q);
  EXPECT_FALSE(r.ok()) << q << " parsed as " << (r.ok() ? Dump(*r) : "");
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(TraceqlParserTest, FieldOperatorPrecedence) {
  EXPECT_EQ(Parsed("{ .a || .b && .c }"), "{(|| .a (&& .b .c))}");
  EXPECT_EQ(Parsed("{ .a && .b || .c }"), "{(|| (&& .a .b) .c)}");
  EXPECT_EQ(Parsed("{ .a = 1 && .b != 2 }"), "{(&& (= .a 1) (!= .b 2))}");
  EXPECT_EQ(Parsed("{ .a + 1 * 2 > 3 }"), "{(> (+ .a (* 1 2)) 3)}");
  EXPECT_EQ(Parsed("{ 1 - 2 - 3 = .x }"), "{(= (- (- 1 2) 3) .x)}");
  EXPECT_EQ(Parsed("{ 2 ^ 3 ^ 2 = .x }"), "{(= (^ 2 (^ 3 2)) .x)}");
  EXPECT_EQ(Parsed("{ -.a + 1 = 2 }"), "{(= (+ (- .a) 1) 2)}");
  EXPECT_EQ(Parsed("{ -.a * 2 = 2 }"), "{(= (- (* .a 2)) 2)}");
  EXPECT_EQ(Parsed("{ !.a }"), "{(! .a)}");
  EXPECT_EQ(Parsed("{ !true && false }"), "{(&& (! true) false)}");
  EXPECT_EQ(Parsed("{ !(\"test\" != .c || ((true && .b) || 3 < .a)) }"),
            "{(! (|| (!= \"test\" .c) (|| (&& true .b) (< 3 .a))))}");
  EXPECT_EQ(Parsed("{ (.a + 1) * 2 = 4 }"), "{(= (* (+ .a 1) 2) 4)}");
  EXPECT_EQ(Parsed("{ .a % 3 = 1 }"), "{(= (% .a 3) 1)}");
  EXPECT_EQ(Parsed("{ .a =~ \"x.*\" && .b !~ \"y\" }"), "{(&& (=~ .a \"x.*\") (!~ .b \"y\"))}");
}

TEST(TraceqlParserTest, StaticsAndDurations) {
  EXPECT_EQ(Parsed("{ .a = 1.5 }"), "{(= .a f1.5)}");
  EXPECT_EQ(Parsed("{ .a = .5 }"), "{(= .a f0.5)}");
  EXPECT_EQ(Parsed("{ .a = 1e3 }"), "{(= .a f1000)}");
  EXPECT_EQ(Parsed("{ duration > 100ms }"), "{(> #1 100000000ns)}");
  EXPECT_EQ(Parsed("{ duration > 1h15m30.9s }"), "{(> #1 4530900000000ns)}");
  EXPECT_EQ(Parsed("{ duration < 2d }"), "{(< #1 172800000000000ns)}");
  EXPECT_EQ(Parsed("{ duration < 1w }"), "{(< #1 604800000000000ns)}");
  EXPECT_EQ(Parsed("{ duration < 3us && duration > 2\xc2\xb5s }"), "{(&& (< #1 3000ns) (> #1 2000ns))}");
  EXPECT_EQ(Parsed("{ duration > 1.5s }"), "{(> #1 1500000000ns)}");
  EXPECT_EQ(Parsed("{ .s = \"tab\\t quote\\\" hex\\x41 uni\\u00e9\" }"), "{(= .s \"tab\t quote\" hexA uni\xc3\xa9\")}");
  EXPECT_EQ(Parsed("{ .s = `raw \\n` }"), "{(= .s \"raw \\n\")}");
  EXPECT_EQ(Parsed("{ status = error && kind = server }"), "{(&& (= #3 status2) (= #5 kind2))}");
  EXPECT_EQ(Parsed("{ .a = nil || .b != nil }"), "{(|| (= .a nil) (!= .b nil))}");
  EXPECT_EQ(Parsed("{ true }"), "{true}");
  EXPECT_EQ(Parsed("{}"), "{}");
}

TEST(TraceqlParserTest, AttributesAndIntrinsics) {
  EXPECT_EQ(Parsed("{ .http.status_code = 200 }"), "{(= .http.status_code 200)}");
  EXPECT_EQ(Parsed("{ span.http.method = \"GET\" }"), "{(= span.http.method \"GET\")}");
  EXPECT_EQ(Parsed("{ resource.service.name = \"a\" }"), "{(= resource.service.name \"a\")}");
  EXPECT_EQ(Parsed("{ event.foo = 1 && link.bar = 2 && instrumentation.x = 3 }"),
            "{(&& (&& (= event.foo 1) (= link.bar 2)) (= instrumentation.x 3))}");
  EXPECT_EQ(Parsed("{ parent.a = 1 && parent.span.b = 2 && parent.resource.c = 3 }"),
            "{(&& (&& (= parent..a 1) (= parent.span.b 2)) (= parent.resource.c 3))}");
  // Names run until a delimiter: dashes, pluses, digits and emoji included.
  EXPECT_EQ(Parsed("{ .foo-bar+baz.3 = 1 }"), "{(= .foo-bar+baz.3 1)}");
  EXPECT_EQ(Parsed("{ .\xf0\x9f\x98\x9d = 1 }"), "{(= .\xf0\x9f\x98\x9d 1)}");
  EXPECT_EQ(Parsed("{ span.\"with space\" = 1 }"), "{(= span.with space 1)}");
  EXPECT_EQ(Parsed("{ .foo.\"bar baz\".qux = 1 }"), "{(= .foo.bar baz.qux 1)}");
  EXPECT_EQ(Parsed("{ .\"q\\\"uote\\\\\" = 1 }"), "{(= .q\"uote\\ 1)}");
  EXPECT_EQ(Parsed("{.a=1}"), "{(= .a 1)}");
  EXPECT_EQ(Parsed("{ span:duration > 1s && trace:rootService = \"x\" && span:id = \"ab\" }"),
            "{(&& (&& (> #1 1000000000ns) (= #9 \"x\")) (= #12 \"ab\"))}");
  for (const char* q : {"{ trace:duration > 2s }", "{ trace:rootName = \"a\" }", "{ trace:id = \"ab\" }",
                        "{ span:name = \"a\" }", "{ span:kind = client }", "{ span:status = error }",
                        "{ span:statusMessage = \"m\" }", "{ span:parentID = \"ab\" }", "{ span:childCount > 1 }",
                        "{ event:name = \"exception\" }", "{ event:timeSinceStart > 1s }",
                        "{ link:traceID = \"ab\" }", "{ link:spanID = \"ab\" }", "{ instrumentation:name = \"a\" }",
                        "{ instrumentation:version = \"1\" }", "{ rootName = \"a\" }", "{ rootServiceName = \"a\" }",
                        "{ traceDuration > 1s }", "{ statusMessage = \"\" }", "{ nestedSetLeft > 3 }",
                        "{ childCount = 1 }", "{ parent = nil }"}) {
    EXPECT_TRUE(Parse(q).ok()) << q << ": " << Parse(q).status();
  }
  // Comments are skipped.
  EXPECT_EQ(Parsed("{ .a = 1 // trailing\n && /* inline */ .b = 2 }"), "{(&& (= .a 1) (= .b 2))}");
}

TEST(TraceqlParserTest, SpansetOperatorsAndPipelines) {
  EXPECT_EQ(Parsed("{ .a } && { .b }"), "(&& {.a} {.b})");
  EXPECT_EQ(Parsed("{ .a } || { .b } && { .c }"), "(|| {.a} (&& {.b} {.c}))");
  EXPECT_EQ(Parsed("{ .a } && { .b } > { .c }"), "(&& {.a} (> {.b} {.c}))");
  EXPECT_EQ(Parsed("{ .a } > { .b } >> { .c }"), "(>> (> {.a} {.b}) {.c})");
  for (const char* op : {">", "<", ">>", "<<", "~", "!>", "!<", "!>>", "!<<", "!~", "&>", "&<", "&>>", "&<<", "&~"}) {
    EXPECT_EQ(Parsed(StrCat("{ .a } ", op, " { .b }")), StrCat("(", op, " {.a} {.b})"));
  }
  EXPECT_EQ(Parsed("({ .a } || { .b }) && { .c }"), "(&& (|| {.a} {.b}) {.c})");
  EXPECT_EQ(Parsed("{ .a } | { .b }"), "{.a} | {.b}");
  EXPECT_EQ(Parsed("{ .a } | count() > 2"), "{.a} | count() > 2");
  EXPECT_EQ(Parsed("{ .a } | avg(duration) >= 1s | { .b }"), "{.a} | avg(#1) >= 1000000000ns | {.b}");
  EXPECT_EQ(Parsed("count() = 1 | { true }"), "count() = 1 | {true}");
  EXPECT_EQ(Parsed("max(duration) > 3s | { status = error || .http.status = 500 }"),
            "max(#1) > 3000000000ns | {(|| (= #3 status2) (= .http.status 500))}");
  EXPECT_EQ(Parsed("{ true } | max((1 + .a) * 2) = 1"), "{true} | max((* (+ 1 .a) 2)) = 1");
  EXPECT_EQ(Parsed("{ } | by(resource.service.name) | count() > 1"), "{} | by(resource.service.name) | count() > 1");
  EXPECT_EQ(Parsed("{ } | by(.a) | coalesce()"), "{} | by(.a) | coalesce()");
  EXPECT_EQ(Parsed("{ } | select(.a, span.b, duration)"), "{} | select(.a, span.b, #1)");
  EXPECT_EQ(Parsed("select(.a)"), "select(.a)");
  EXPECT_EQ(Parsed("({ .a } | count() > 1 | { .b }) >> ({ .c } | count() > 1)"),
            "(>> [{.a} | count() > 1 | {.b}] [{.c} | count() > 1])");
  EXPECT_EQ(Parsed("({ .a } | count()) > ({ .b } | count())"), "[{.a} | count()] > [{.b} | count()]");
  EXPECT_EQ(Parsed("({ .a } | count()) + ({ .b } | avg(duration)) = 2"),
            "(+ [{.a} | count()] [{.b} | avg(#1)]) = 2");
}

TEST(TraceqlParserTest, MetricsSecondStageAndHints) {
  EXPECT_EQ(Parsed("{ } | rate()"), "{} |> fn0");
  EXPECT_EQ(Parsed("{ } | rate() by (resource.service.name)"), "{} |> fn0 by resource.service.name");
  EXPECT_EQ(Parsed("{ } | count_over_time() by (name, span.x) with(sample=0.1)"),
            "{} |> fn1 by #2 by span.x with sample=f0.1");
  EXPECT_EQ(Parsed("{ } | min_over_time(duration)"), "{} |> fn2(#1)");
  EXPECT_EQ(Parsed("{ } | max_over_time(duration)"), "{} |> fn3(#1)");
  EXPECT_EQ(Parsed("{ } | sum_over_time(span.bytes)"), "{} |> fn4(span.bytes)");
  EXPECT_EQ(Parsed("{ } | avg_over_time(duration)"), "{} |> fn5(#1)");
  EXPECT_EQ(Parsed("{ } | quantile_over_time(duration, 0, 0.9, 1) by (span.http.path)"),
            "{} |> fn6(#1) q0 q0.9 q1 by span.http.path");
  EXPECT_EQ(Parsed("{ } | histogram_over_time(duration)"), "{} |> fn7(#1)");
  EXPECT_EQ(Parsed("{ .a } | compare({ status = error }, 5)"), "{.a} |> fn8 cmp{(= #3 status2)} 5");
  EXPECT_EQ(Parsed("{ } | rate() by (.a) | topk(5)"), "{} |> fn0 by .a topk5");
  EXPECT_EQ(Parsed("{ } | rate() | bottomk(2)"), "{} |> fn0 bottomk2");
  EXPECT_EQ(Parsed("{ } | rate() > 10"), "{} |> fn0 >10");
  EXPECT_EQ(Parsed("{ } | rate() > 10 < 20"), "{} |> fn0 >10 <20");
  EXPECT_EQ(Parsed("{ } | rate() | > 0.5 | topk(3)"), "{} |> fn0 >0.5 topk3");
  EXPECT_EQ(Parsed("{ } | rate() with (exemplars = true, most_recent = true)"),
            "{} |> fn0 with exemplars=true with most_recent=true");
  EXPECT_EQ(Parsed("{ .a } with (most_recent = true)"), "{.a} with most_recent=true");
}

// Metrics math: precedence, folded numbers, stages inside and after, and
// the single parenthesised query that is just that query.
TEST(TraceqlParserTest, MetricsMath) {
  EXPECT_EQ(Parsed("({ } | rate()) + ({ .a } | count_over_time())"), "(+ [{} |> fn0] [{.a} |> fn1])");
  EXPECT_EQ(Parsed("({ status = error } | count_over_time()) / ({ } | count_over_time())"),
            "(/ [{(= #3 status2)} |> fn1] [{} |> fn1])");
  EXPECT_EQ(Parsed("({} | rate()) + ({} | rate()) * 2"), "(+ [{} |> fn0] (* [{} |> fn0] 2))");
  EXPECT_EQ(Parsed("({} | rate()) - ({} | rate()) - ({} | rate())"), "(- (- [{} |> fn0] [{} |> fn0]) [{} |> fn0])");
  EXPECT_EQ(Parsed("(({} | rate()) + ({} | rate())) / ({} | rate())"), "(/ (+ [{} |> fn0] [{} |> fn0]) [{} |> fn0])");
  EXPECT_EQ(Parsed("({} | rate()) * (2 + 3)"), "(* [{} |> fn0] 5)");
  EXPECT_EQ(Parsed("2 * 3 * ({} | rate())"), "(* 6 [{} |> fn0])");
  EXPECT_EQ(Parsed("-1 * ({} | rate()) / .5"), "(/ (* -1 [{} |> fn0]) 0.5)");
  EXPECT_EQ(Parsed("100 * ({ status = error } | count_over_time()) / ({ } | count_over_time())"),
            "(/ (* 100 [{(= #3 status2)} |> fn1]) [{} |> fn1])");
  EXPECT_EQ(Parsed("({ .a } >> { .b } | rate() by (.c)) / ({} | rate())"),
            "(/ [(>> {.a} {.b}) |> fn0] [{} |> fn0])");
  EXPECT_EQ(Parsed("({} | rate() | topk(2)) / ({} | rate() > 1)"), "(/ [{} |> fn0 topk2] [{} |> fn0 >1])");
  EXPECT_EQ(Parsed("({} | rate()) / ({} | rate()) > 0.5 | topk(1) with(exemplars=5)"),
            "(/ [{} |> fn0] [{} |> fn0]) >0.5 topk1 with exemplars=5");
  // One query in parentheses is that query; its stages come first.
  EXPECT_EQ(Parsed("({} | rate() by (.a))"), "{} |> fn0 by .a");
  EXPECT_EQ(Parsed("({} | rate() | topk(2)) > 3"), "{} |> fn0 topk2 >3");
  // Tempo's errors for what is not metrics math.
  EXPECT_EQ(ParseError("{} | count_over_time() / {} | count_over_time()"),
            "parse error at line 1, col 24: syntax error: unexpected DIV");
  EXPECT_EQ(ParseError("({} | count_over_time()) /"), "parse error at line 1, col 27: syntax error: unexpected $end");
  EXPECT_EQ(ParseError("({} | rate()) * 10s"), "parse error at line 1, col 17: syntax error: unexpected DURATION");
  EXPECT_EQ(ParseError("({} | rate()) % 2"), "parse error at line 1, col 15: syntax error: unexpected MOD");
  EXPECT_EQ(ParseError("({} | rate()) ^ 2"), "parse error at line 1, col 15: syntax error: unexpected POW");
  for (const char* q : {"(1 + 2)", "2 * 3", "({ } | rate()) + ({ } | count())", "({} | rate()) ({} | rate())",
                        "({} | rate()) + { }", "({} | rate()) * \"a\"", "(({} | rate())"}) {
    EXPECT_FALSE(Parse(q).ok()) << q;
  }
}

TEST(TraceqlParserTest, WhatMustNotParse) {
  for (const char* q : {
           "", "true", "[ true ]", "( true )", "{ . }", "{ < }", "{ .a < }", "{ .a < 3", "{ (.a < 3 }",
           "{ attribute = 4 }", "{ .attribute == 4 }", "{ span. }", "{ true } + { true }", "{ true } - { true }",
           "{ true } * { true }", "{ true } / { true }", "{ true } ^ { true }", "{ true } = { true }",
           "{ true } <= { true }", "{ true } >= { true }", "avg(.field) + 1", "sum(3) - 2", "select(.a",
           "select()", "coalesce() | { true }", "count() > 3 && { true }", "{ true } | count()",
           "{ true } | notAnAggregate() = 1", "{ true } | count = 1", "{ true } | max() = 1", "{ true } | by()",
           "({ true }) + (count()) = 1", "({ true }) && (count())", "({ true } | count()) && ({ true } | count()) = 1",
           "({ true }) + ({ true }) = 1", "({ true } | count()) + ({ true } | count())",
           "(by(namespace) | count()) > 2 * 2", "(by(namespace) | count()) * 2 > 2", "2 < (by(namespace) | count())",
           "{ trace:status = error }", "{ trace:kind = server }", "{ trace:name = \"a\" }",
           "{ trace:rootServiceName = \"a\" }", "{ span:rootName = \"bar\" }", "{ .a = 'GET' }",
           "{ .a = \"unterminated }", "{ .a = 1 } | rate(", "{ } | quantile_over_time(duration)", "{ } | rate() | topk()",
           "{ } | rate() with (sample)", "{ .a = \"\\q\" }", "{ .a } { .b }", "{ .a } |",
       }) {
    EXPECT_FALSE(Parse(q).ok()) << q;
  }
}

TEST(TraceqlParserTest, ErrorsNameTheTokenAndPosition) {
  EXPECT_EQ(ParseError("{ .a = 1 "), "parse error at line 1, col 10: syntax error: unexpected $end");
  EXPECT_EQ(ParseError("{ .a = 1 } }"), "parse error at line 1, col 12: syntax error: unexpected CLOSE_BRACE");
  EXPECT_EQ(ParseError("{ attribute = 4 }"), "parse error at line 1, col 3: syntax error: unexpected IDENTIFIER");
  EXPECT_EQ(ParseError("{\n  .a = 1 &&\n  foo }"), "parse error at line 3, col 3: syntax error: unexpected IDENTIFIER");
  EXPECT_EQ(ParseError("{ . }"), "parse error at line 1, col 3: syntax error: unexpected END_ATTRIBUTE, expecting IDENTIFIER");
  EXPECT_EQ(ParseError("{ .a = \"x }"), "parse error at line 1, col 8: literal not terminated");
  EXPECT_EQ(ParseError("{ true } | count()"), "parse error at line 1, col 19: syntax error: unexpected $end");
  EXPECT_EQ(ParseError("{ .é = 1 } && x"), "parse error at line 1, col 15: syntax error: unexpected IDENTIFIER");
}

TEST(TraceqlLexerTest, Durations) {
  int64_t ns = 0;
  EXPECT_TRUE(ParseDuration("1y", &ns));
  EXPECT_EQ(ns, 365LL * 86400 * 1000000000);
  EXPECT_TRUE(ParseDuration("1h30m", &ns));
  EXPECT_EQ(ns, 5400LL * 1000000000);
  EXPECT_TRUE(ParseDuration("1.5h", &ns));
  EXPECT_EQ(ns, 5400LL * 1000000000);
  EXPECT_TRUE(ParseDuration("250ns", &ns));
  EXPECT_EQ(ns, 250);
  EXPECT_TRUE(ParseDuration("0", &ns));
  EXPECT_EQ(ns, 0);
  EXPECT_FALSE(ParseDuration("1x", &ns));
  EXPECT_FALSE(ParseDuration("h", &ns));
  EXPECT_FALSE(ParseDuration("1..5s", &ns));
}

}  // namespace
}  // namespace signaldb::traceql

namespace signaldb::traceql {
namespace {

absl::Status ParseAndValidate(const std::string& q) {
  auto parsed = Parse(q);
  if (!parsed.ok()) return parsed.status();
  return Validate(*parsed);
}

TEST(TraceqlValidateTest, AcceptsWellTypedQueries) {
  for (const char* q : {
           "{ true }", "{ !true }", "{ 1 = 2 }", "{ -1 = 2 }", "{ \"test\" =~ \"test\" }", "{ .a }", "{ !.a }",
           "{ .a && false }", "{ .a = 2 }", "{ -.a = 2 }", "{ .a =~ \"t.*\" }", "{ .a != \"test\" }",
           "{ resource.a != 3 }", "{ !(\"test\" != .c || ((true && .b) || 3 < .a)) }", "{ status = ok }",
           "{ status != error }", "{ statusMessage =~ \".*\" }", "{ kind = consumer }", "{ traceDuration > 1s }",
           "{ rootServiceName = \"foo\" }", "{ duration > 1s }", "{ 1 < 1h }", "{ 1 <= 1.1 }",
           "{ event.foo = \"bar\" }", "{ trace:duration > 2s }", "{ span:id = \"61626364656667\" }",
           "{ event:timeSinceStart > 1s }", "{ 1 + 1 = 2 }", "{ .a ^ 1 = 2 }", "{ duration > 1s * 2s }",
           "{ 1 * 1h = 1 }", "{ .http.status >= \"200\" }", "{ .a = nil }", "{ .a != nil }",
           "{ span:childCount > 2 }", "{ nestedSetLeft > 3 }", "{ true } && { true }", "{ true } !~ { true }",
           "avg(.field) > 1", "max(duration) >= 1s", "{ true } | max((1 + .a) * 2) = 1",
           "max(duration) > 3s | { status = error || .http.status = 500 }", "select(.a)",
           "{} | select(.a, .b, duration)", "{ true } | count() = 1 | { true }", "{ true } | by(1 + .a) | coalesce()",
           "{ true } | by(name) | count() > 2", "{} | rate()", "{} | count_over_time() by (name) with(sample=0.1)",
           "{} | quantile_over_time(duration, 0, 0.9, 1) by (span.http.path)", "{} | histogram_over_time(duration)",
           "{ .a } | compare({ status = error }, 10)", "{} | rate() by (resource.service.name) | topk(5)",
           "{ parent.a != 3 }",
       }) {
    EXPECT_TRUE(ParseAndValidate(q).ok()) << q << ": " << ParseAndValidate(q);
  }
}

TEST(TraceqlValidateTest, RejectsWhatTempoRejects) {
  for (const char* q : {
           "{ status }", "{ kind }", "{ ok }", "{ 1.1 }", "{ 1h }", "{ \"foo\" }", "{ 1 + 1 }", "{ 1 + \"foo\" = 1 }",
           "{ 1 - true = 1 }", "{ 1 / ok = 1 }", "{ 1 ^ name = 1 }", "{ 1 = \"foo\" }", "{ 1 != true }",
           "{ 1 > ok }", "{ 1 = name }", "{ 1 =~ 2}", "{ 1 !~ 2}", "{ 1 && \"foo\" }", "{ 1 || ok }",
           "{ true || 1.1 }", "{ status > ok }", "{ kind < consumer }", "{ traceDuration > \"test\" }",
           "{ rootServiceName = 1 }", "{ rootName != 3.2 }", "{ span.foo =~ \"[\" }", "{ span.foo !~ \"[\" }",
           "{ -true }", "{ -\"foo\" = \"bar\" }", "{ -ok = status }", "{ -name = \"foo\" }", "{ !\"foo\" = \"bar\" }",
           "{ !ok = status }", "{ !consumer = kind }", "{ !name = \"foo\" }", "{ !1 = 1 }", "{ !1h = 1 }",
           "{ !1.1 = 1.1 }", "min(1 = 3) = 1", "sum(3) = 2", "sum(3) = min(14)", "min(2h) < max(duration)",
           "min(3) = max(duration)", "min(1.1 - 3) > 1", "max(1h + 2h) > 1", "{ true } | by(1)",
           "{ true } | by(\"foo\")", "{ nestedSetLeft = \"foo\" }", "{ nestedSetRight = false }",
           "{ nestedSetParent > \"foo\" }", "max(name) = \"foo\"", "avg(\"foo\") = \"bar\"", "max(status) = ok",
           "max(kind) = consumer", "max(duration) < ok", "avg(childCount) > \"foo\"", "select(1 + \"string\")",
           "select(1 + .a)", "{ 1 = nil }", "{ } | quantile_over_time(duration, 1.5)", "{ } | sum_over_time(name)",
           "{ } | rate() | topk(0)", "{ } | rate() by (1)",
           // Parsed, but not run: Tempo answers these as unsupported too.
           "min(.field) < max(duration)", "3 = 2", "avg(.field) > 1 - 3", "{ parent = nil }",
           // Root scalar filters compare numbers; their pipelines are checked.
           "({ .a } | count()) > \"x\"", "({ .a } | avg(name)) > 1", "({ 1 } | count()) > 1",
       }) {
    EXPECT_FALSE(ParseAndValidate(q).ok()) << q;
  }
  EXPECT_EQ(std::string(ParseAndValidate("{ .a = 1 && 1 = \"x\" }").message()),
            "invalid TraceQL at line 1, col 15: binary operation = cannot compare a number with a string");
  EXPECT_EQ(ParseAndValidate("{ span.foo =~ \"[\" }").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAndValidate("3 = 2").code(), absl::StatusCode::kFailedPrecondition);
  // Root scalar filters over wrapped pipelines run (Tempo refuses them).
  EXPECT_TRUE(ParseAndValidate("({ .a } | count()) > ({ .b } | count())").ok());
  EXPECT_TRUE(ParseAndValidate("({ .a } | avg(duration)) + ({ } | count()) >= 2").ok());
}

TEST(TraceqlValidateTest, MetricsMathChecksEachQuery) {
  EXPECT_TRUE(ParseAndValidate("({ status = error } | rate() by (name)) / ({ } | rate())").ok());
  EXPECT_EQ(std::string(ParseAndValidate("({} | compare({ .a })) / ({} | rate())").message()),
            "compare() cannot be used in metrics math");
  EXPECT_EQ(std::string(ParseAndValidate("({} | rate() | topk(0)) / ({} | rate())").message()),
            "topk() and bottomk() need a positive count");
  EXPECT_EQ(std::string(ParseAndValidate("({} | rate()) / ({ 1 = \"a\" } | rate())").message()),
            "invalid TraceQL at line 1, col 22: binary operation = cannot compare a number with a string");
  EXPECT_FALSE(ParseAndValidate("({} | rate()) / ({} | quantile_over_time(duration, 2))").ok());
}

// compare()'s arguments, with Tempo's texts for the bad ones.
TEST(TraceqlValidateTest, CompareArguments) {
  auto message = [](const std::string& q) { return std::string(ParseAndValidate(q).message()); };
  for (const char* q : {"{ } | compare({ status = error })", "{ .a } | compare({ status = error && .b > 1 }, 3)",
                        "{ } | compare({ }, 5, 1700000000000000000, 1700000001000000000)"}) {
    EXPECT_TRUE(ParseAndValidate(q).ok()) << q << ": " << ParseAndValidate(q);
  }
  EXPECT_EQ(Parsed("{ } | compare({ status = error }, 5, 10, 20)"), "{} |> fn8 cmp{(= #3 status2)} 5");
  EXPECT_EQ(message("{ } | compare({ status = error }, 0)"),
            "compare() top number of values must be integer greater than 0");
  EXPECT_EQ(message("{ } | compare({ status = error }, 5, 20, 10)"),
            "compare() end timestamp must be greater than start timestamp");
  EXPECT_EQ(message("{ } | compare({ status = error }, 5, 0, 10)"),
            "compare() timestamps must be positive integer unix nanoseconds");
  EXPECT_EQ(message("{ } | compare(({ .a } | count() > 1))"), "compare() takes a spanset filter { ... }");
  EXPECT_EQ(message("{ } | compare({ .a }) | topk(2)"),
            "compare() cannot be followed by topk(), bottomk() or a comparison");
  EXPECT_EQ(message("{ } | compare({ 1 + 1 })"),
            "invalid TraceQL at line 1, col 19: a spanset filter must be a condition, not a number");
  EXPECT_EQ(ParseError("{ } | compare({ .a }, 5, 10)"),
            "parse error at line 1, col 28: syntax error: unexpected CLOSE_PARENS");
  EXPECT_EQ(ParseError("{ } | compare({ .a } > { .b })"),
            "parse error at line 1, col 22: syntax error: unexpected GT");
}

}  // namespace
}  // namespace signaldb::traceql
