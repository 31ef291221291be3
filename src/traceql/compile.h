// Compiles TraceQL spanset-filter conditions to DuckDB SQL over rows of the
// `traces` table (schema v3: span attributes in typed maps, resource and
// scope attributes as OTLP JSON).
//
// Every user-supplied value — strings, numbers, regexes and attribute names
// alike — becomes a bound parameter ($n); nothing from the query is spliced
// into the SQL text.
//
// Semantics follow Tempo: a comparison holds only when the attribute exists
// with a value of a comparable type (`.x != "a"` does not match spans
// without x); int, float and duration compare as numbers; regexes are fully
// anchored (RE2, as DuckDB's regexp_full_match); an unscoped `.x` matches a
// span or resource attribute; `= nil` / `!= nil` test existence. Every
// condition is two-valued (never SQL NULL), so `!` negates as TraceQL does.
//
// Thread-safety: a SqlBuilder is used by one thread.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "traceql/ast.h"

namespace signaldb::traceql {

// Collects the bound parameters of one statement.
class SqlBuilder {
 public:
  // "$n::TYPE" for a new parameter holding `value`.
  std::string Bind(engine::Param value);
  const std::vector<engine::Param>& params() const { return params_; }
  std::vector<engine::Param>& params() { return params_; }

 private:
  std::vector<engine::Param> params_;
};

// Columns a compiled condition may read besides the table's own: the
// trace-level values computed with window functions over the trace.
struct TraceColumns {
  bool root_name = false;      // __root_name
  bool root_service = false;   // __root_service
  bool trace_duration = false; // __trace_duration
  bool child_count = false;    // __child_count: spans whose parent is this span
  bool parent = false;         // __parent_<column>: the parent span's attribute columns
  bool nested_set = false;     // __nested_left, __nested_right, __nested_parent (see WithTraceColumns)
  // Whether a span's condition reads other spans of its trace.
  bool other_spans() const {
    return root_name || root_service || trace_duration || child_count || parent || nested_set;
  }
};

// A boolean SQL expression for the condition of a spanset filter; a null
// filter ({ }) is "true". FailedPrecondition for parts not supported yet
// (event/link values outside comparisons).
absl::StatusOr<std::string> CompileCondition(const Field* filter, SqlBuilder* sql, TraceColumns* needs);

// A field expression's value per row: as DOUBLE (InvalidArgument unless it
// is numeric), or as text. Attributes in arithmetic read their int or
// double value.
absl::StatusOr<std::string> CompileNumber(const Field& field, SqlBuilder* sql, TraceColumns* needs);
absl::StatusOr<std::string> CompileText(const Field& field, SqlBuilder* sql, TraceColumns* needs);

// The SQL that adds the trace-level columns `needs` asks for to rows of
// `source` (a subquery or table name): SELECT *, ... OVER (PARTITION BY trace_id).
//
// The nested set model (nestedSetLeft/Right/Parent) is Tempo's
// (vparquet4 assignNestedSetModelBoundsAndServiceStats): a depth-first walk
// from each root span (no parent id) in turn, one counter starting at 1 and
// incremented on entering a span (its left bound) and on leaving it (its
// right bound); a span's nestedSetParent is its parent's left bound, -1 for
// a root. Spans not reachable from a root (their parent never arrived) have
// 0 for all three, and so does every span of a trace without a root. Tempo
// walks children in storage order; here siblings (and roots) are walked by
// start time, then span id. In SQL: a recursive walk gives each span its
// path from the root; with p its rank in preorder (from 0) and d its depth,
// left = 1 + 2p - d and right = left + 2 * (size of its subtree) - 1.
std::string WithTraceColumns(const std::string& source, const TraceColumns& needs);

// One attribute the query reads, to be shown on matched spans (Tempo shows
// the attributes a query evaluated).
// Value kinds of an attribute, as a bit set.
inline constexpr uint8_t kStringKind = 1, kIntKind = 2, kDoubleKind = 4, kBoolKind = 8, kAnyKind = 15;

struct AttributeRef {
  Scope scope = Scope::kNone;  // kNone: span, then resource
  std::string name;
  // The kinds a filter can match it as (compared with a string: strings
  // only, with a number: ints and doubles, ...); other kinds read as NULL.
  uint8_t kinds = kAnyKind;
};
// The span, resource and unscoped attributes `filter` reads, in order of
// first appearance, without duplicates.
std::vector<AttributeRef> ReferencedAttributes(const Field* filter);

// SQL columns giving the value of an attribute on each row, for showing it
// on matched spans and labelling series: its string value, int value (as
// text), double value (as text with 17 significant digits, so it reads back
// exactly) and bool value; all NULL when absent. (Plain columns: DuckDB
// cannot type JSON functions of parameters when preparing.) The attribute is
// read as conditions read it.
inline constexpr size_t kAttributeValueColumns = 4;
std::vector<std::string> AttributeValueColumns(const AttributeRef& ref, SqlBuilder* sql);

// The same four columns for any field expression, as by() and select()
// show it: an attribute as above; a condition as its bool; a status or kind
// as its name; a number as an int when the expression is an integer
// whatever the span (int and duration statics and intrinsics combined with
// + - * %), else as a double; other values as strings.
absl::StatusOr<std::vector<std::string>> CompileValueColumns(const Field& field, SqlBuilder* sql,
                                                         TraceColumns* needs);

}  // namespace signaldb::traceql
