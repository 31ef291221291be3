// Spanset operators over one hand-built trace:
//   r (root)
//   ├── a
//   │   └── b
//   └── c
// with a span d whose parent never arrived.
#include "traceql/evaluate.h"

#include "gtest/gtest.h"
#include "traceql/parser.h"

namespace signaldb::traceql {
namespace {

// The result of `query` (two filters A op B) when A matches the spans named
// in `a` and B those in `b`; span names in result order.
std::string Eval(const std::string& query, const std::string& a, const std::string& b) {
  auto q = Parse(query);
  EXPECT_TRUE(q.ok()) << q.status();
  const Spanset& root = *q->pipeline->stages[0].spanset;
  EXPECT_EQ(FilterLeaves(root).size(), 2u);
  const std::vector<std::pair<std::string, std::string>> tree = {{"r", ""}, {"a", "r"}, {"b", "a"}, {"c", "r"},
                                                                 {"d", "x"}};
  std::vector<SpanRow> spans;
  for (const auto& [id, parent] : tree) {
    spans.push_back({id, parent, {a.find(id) != std::string::npos, b.find(id) != std::string::npos}});
  }
  auto out = EvaluateSpansets(root, spans);
  EXPECT_TRUE(out.ok()) << out.status();
  std::string names;
  for (size_t i : *out) names += spans[i].span_id;
  return names;
}

TEST(TraceqlEvaluateTest, StructuralOperators) {
  EXPECT_EQ(Eval("{ .x } > { .y }", "r", "abcd"), "ac");
  EXPECT_EQ(Eval("{ .x } > { .y }", "b", "abcd"), "");
  EXPECT_EQ(Eval("{ .x } >> { .y }", "r", "bd"), "b");
  EXPECT_EQ(Eval("{ .x } < { .y }", "b", "ar"), "a");
  EXPECT_EQ(Eval("{ .x } << { .y }", "b", "rcd"), "r");
  EXPECT_EQ(Eval("{ .x } ~ { .y }", "a", "bcd"), "c");
  EXPECT_EQ(Eval("{ .x } ~ { .y }", "a", "a"), "");  // not its own sibling
  EXPECT_EQ(Eval("{ .x } !> { .y }", "r", "abcd"), "bd");
  EXPECT_EQ(Eval("{ .x } !>> { .y }", "a", "bcd"), "cd");
  EXPECT_EQ(Eval("{ .x } !< { .y }", "b", "ar"), "r");
  EXPECT_EQ(Eval("{ .x } !<< { .y }", "b", "rac"), "c");
  EXPECT_EQ(Eval("{ .x } !~ { .y }", "a", "bc"), "b");
  EXPECT_EQ(Eval("{ .x } !> { .y }", "", "ab"), "ab");  // no A at all
  EXPECT_EQ(Eval("{ .x } &> { .y }", "r", "ab"), "ra");
  EXPECT_EQ(Eval("{ .x } &>> { .y }", "ra", "b"), "rab");
  EXPECT_EQ(Eval("{ .x } &< { .y }", "b", "ar"), "ab");
  EXPECT_EQ(Eval("{ .x } &<< { .y }", "b", "r"), "rb");
  EXPECT_EQ(Eval("{ .x } &~ { .y }", "a", "c"), "ac");
  EXPECT_EQ(Eval("{ .x } &> { .y }", "b", "a"), "");
}

TEST(TraceqlEvaluateTest, AndOrOnSpansets) {
  EXPECT_EQ(Eval("{ .x } && { .y }", "a", "c"), "ac");
  EXPECT_EQ(Eval("{ .x } && { .y }", "", "c"), "");
  EXPECT_EQ(Eval("{ .x } || { .y }", "", "c"), "c");
  EXPECT_EQ(Eval("{ .x } || { .y }", "ab", "b"), "ab");
}

// A wrapped pipeline's operand is the spans of the spansets the caller's
// evaluator gives for it (spans: r a b c d).
TEST(TraceqlEvaluateTest, WrappedPipelines) {
  const std::vector<std::pair<std::string, std::string>> tree = {{"r", ""}, {"a", "r"}, {"b", "a"}, {"c", "r"},
                                                                 {"d", "x"}};
  auto run = [&](const std::string& query, std::vector<std::vector<size_t>> sets, const std::string& b) {
    auto q = Parse(query);
    EXPECT_TRUE(q.ok()) << q.status();
    std::vector<SpanRow> spans;
    for (const auto& [id, parent] : tree) spans.push_back({id, parent, {b.find(id) != std::string::npos}});
    size_t calls = 0;
    auto out = EvaluateSpansets(*q->pipeline->stages[0].spanset, spans,
                                [&](const Pipeline&) -> absl::StatusOr<std::vector<std::vector<size_t>>> {
                                  ++calls;
                                  return sets;
                                });
    EXPECT_EQ(calls, 1u);
    if (!out.ok()) return std::string(absl::StatusCodeToString(out.status().code()));
    std::string names;
    for (size_t i : *out) names += tree[i].first;
    return names;
  };
  // && and || pool every spanset; && needs one on each side.
  EXPECT_EQ(run("({ .a } | by(.x)) && { .b }", {{1}, {3}}, "b"), "abc");
  EXPECT_EQ(run("({ .a } | by(.x)) && { .b }", {}, "b"), "");
  EXPECT_EQ(run("({ .a } | by(.x)) || { .b }", {}, "b"), "b");
  // Structural operators: one spanset per side, else Tempo's error.
  EXPECT_EQ(run("({ .a } | count() > 1) > { .b }", {{1, 3}}, "b"), "b");
  EXPECT_EQ(run("{ .b } >> ({ .a } | count() > 1)", {{0}}, "ab"), "");
  EXPECT_EQ(run("({ .a } | by(.x)) > { .b }", {{1}, {3}}, "b"), "INVALID_ARGUMENT");
  EXPECT_EQ(run("({ .a } | by(.x)) > { .b }", {{1}, {3}}, ""), "");
}

TEST(TraceqlEvaluateTest, PruningConditions) {
  auto q = Parse("({ .a } > { .b }) && ({ .c } !~ { .d } || { .e })");
  ASSERT_TRUE(q.ok());
  const Spanset& root = *q->pipeline->stages[0].spanset;
  EXPECT_FALSE(OnlyFilters(root));
  EXPECT_EQ(TraceNecessaryCondition(root, {"A", "B", "C", "D", "E"}), "((A AND B) AND (D OR E))");
  // A wrapped pipeline needs its first stage's filters, where it stands.
  auto w = Parse("(({ .a } | count() > 1) && { .b }) || ({ .c } !> ({ .d } && { .e } | by(.f)))");
  ASSERT_TRUE(w.ok()) << w.status();
  const Spanset& wroot = *w->pipeline->stages[0].spanset;
  EXPECT_EQ(ConditionFilterLeaves(wroot).size(), 5u);
  EXPECT_EQ(FilterLeaves(wroot).size(), 2u);
  EXPECT_EQ(TraceNecessaryCondition(wroot, {"A", "B", "C", "D", "E"}), "((A AND B) OR (D AND E))");
  auto n = Parse("(count() > 1) && { .b }");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(TraceNecessaryCondition(*n->pipeline->stages[0].spanset, {"B"}), "(true AND B)");
  auto p = Parse("{ .a } && ({ .b } || { .c })");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(OnlyFilters(*p->pipeline->stages[0].spanset));
}

}  // namespace
}  // namespace signaldb::traceql
