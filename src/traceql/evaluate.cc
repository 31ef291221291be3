#include "traceql/evaluate.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "common/status_macros.h"
#include "common/strings.h"

namespace signaldb::traceql {
namespace {

void Leaves(const Spanset& s, std::vector<const Spanset*>* out) {
  switch (s.kind) {
    case Spanset::Kind::kFilter: out->push_back(&s); break;
    case Spanset::Kind::kOperation:
      Leaves(*s.lhs, out);
      Leaves(*s.rhs, out);
      break;
    case Spanset::Kind::kPipeline: break;
  }
}

// The filters the necessary condition reads: the expression's own, and in
// place of a wrapped pipeline those of its first stage (when it starts with
// a spanset expression).
void ConditionLeaves(const Spanset& s, std::vector<const Spanset*>* out) {
  switch (s.kind) {
    case Spanset::Kind::kFilter: out->push_back(&s); break;
    case Spanset::Kind::kOperation:
      ConditionLeaves(*s.lhs, out);
      ConditionLeaves(*s.rhs, out);
      break;
    case Spanset::Kind::kPipeline: {
      const Stage& first = s.pipeline->stages.at(0);
      if (first.kind == Stage::Kind::kSpanset) ConditionLeaves(*first.spanset, out);
      break;
    }
  }
}

bool Negated(SpansetOp op) {
  return op == SpansetOp::kNotChild || op == SpansetOp::kNotParent || op == SpansetOp::kNotDescendant ||
         op == SpansetOp::kNotAncestor || op == SpansetOp::kNotSibling;
}

bool IsUnion(SpansetOp op) {
  return op == SpansetOp::kUnionChild || op == SpansetOp::kUnionParent || op == SpansetOp::kUnionDescendant ||
         op == SpansetOp::kUnionAncestor || op == SpansetOp::kUnionSibling;
}

// The relation an operator tests, whatever its negated or union form.
enum class Relation { kChild, kParent, kDescendant, kAncestor, kSibling };

Relation RelationOf(SpansetOp op) {
  switch (op) {
    case SpansetOp::kChild: case SpansetOp::kNotChild: case SpansetOp::kUnionChild: return Relation::kChild;
    case SpansetOp::kParent: case SpansetOp::kNotParent: case SpansetOp::kUnionParent: return Relation::kParent;
    case SpansetOp::kDescendant: case SpansetOp::kNotDescendant: case SpansetOp::kUnionDescendant:
      return Relation::kDescendant;
    case SpansetOp::kAncestor: case SpansetOp::kNotAncestor: case SpansetOp::kUnionAncestor:
      return Relation::kAncestor;
    default: return Relation::kSibling;
  }
}

// An operand's result: its spans, and how many spansets hold them (a
// filter or an operation gives at most one; a wrapped pipeline may give
// several, after by()).
struct Operand {
  std::vector<bool> spans;
  size_t sets = 0;
};

class Evaluator {
 public:
  Evaluator(const std::vector<SpanRow>& spans, const PipelineResults& pipelines)
      : spans_(spans), pipelines_(pipelines) {
    for (size_t i = 0; i < spans.size(); ++i) index_.emplace(spans[i].span_id, i);
    parent_.assign(spans.size(), kNone);
    for (size_t i = 0; i < spans.size(); ++i) {
      auto it = index_.find(spans[i].parent_id);
      if (!spans[i].parent_id.empty() && it != index_.end() && it->second != i) parent_[i] = it->second;
    }
  }

  absl::StatusOr<std::vector<bool>> Eval(const Spanset& s) {
    ASSIGN_OR_RETURN(Operand out, EvalOperand(s));
    return std::move(out.spans);
  }

 private:
  absl::StatusOr<Operand> EvalOperand(const Spanset& s) {
    const size_t n = spans_.size();
    Operand result;
    switch (s.kind) {
      case Spanset::Kind::kFilter: {
        const size_t leaf = next_leaf_++;
        result.spans.assign(n, false);
        for (size_t i = 0; i < n; ++i) {
          result.spans[i] = leaf < spans_[i].matches.size() && spans_[i].matches[leaf];
          if (result.spans[i]) result.sets = 1;
        }
        return result;
      }
      case Spanset::Kind::kPipeline: {
        // As Tempo: the wrapped pipeline runs on the spanset the expression
        // is evaluated on; its spansets are the operand.
        if (!pipelines_) return absl::InternalError("a wrapped pipeline without an evaluator");
        ASSIGN_OR_RETURN(std::vector<std::vector<size_t>> sets, pipelines_(*s.pipeline));
        result.spans.assign(n, false);
        for (const auto& set : sets) {
          if (set.empty()) continue;
          ++result.sets;
          for (size_t i : set) {
            if (i < n) result.spans[i] = true;
          }
        }
        return result;
      }
      case Spanset::Kind::kOperation: break;
    }
    ASSIGN_OR_RETURN(std::vector<bool> out, Operation(s));
    result.sets = std::find(out.begin(), out.end(), true) != out.end() ? 1 : 0;
    result.spans = std::move(out);
    return result;
  }

  absl::StatusOr<std::vector<bool>> Operation(const Spanset& s) {
    const size_t n = spans_.size();
    ASSIGN_OR_RETURN(Operand lhs, EvalOperand(*s.lhs));
    ASSIGN_OR_RETURN(Operand rhs, EvalOperand(*s.rhs));
    const std::vector<bool>& a = lhs.spans;
    const std::vector<bool>& b = rhs.spans;
    std::vector<bool> out(n);
    // && and || pool every spanset of both sides into one (Tempo's
    // uniqueSpans): the sides' own attributes (count() ...) are not kept.
    if (s.op == SpansetOp::kAnd || s.op == SpansetOp::kUnion) {
      if (s.op == SpansetOp::kAnd && (lhs.sets == 0 || rhs.sets == 0)) return out;
      for (size_t i = 0; i < n; ++i) out[i] = a[i] || b[i];
      return out;
    }
    // Tempo's joinSpansets: relations are defined between one spanset on
    // each side only (checked when both sides have one).
    if (lhs.sets > 0 && rhs.sets > 0 && (lhs.sets > 1 || rhs.sets > 1)) {
      return absl::InvalidArgumentError(
          "spanset operators are not supported for multiple spansets per trace. consider using coalesce()");
    }
    const Relation rel = RelationOf(s.op);
    // For each B span: does some A span stand in the relation to it? And,
    // for the union forms, which A spans take part.
    std::vector<bool> a_used(n);
    for (size_t j = 0; j < n; ++j) {
      if (!b[j]) continue;
      bool holds = false;
      switch (rel) {
        case Relation::kChild:
          if (parent_[j] != kNone && a[parent_[j]]) {
            holds = true;
            a_used[parent_[j]] = true;
          }
          break;
        case Relation::kParent:
          for (size_t i = 0; i < n; ++i) {
            if (a[i] && parent_[i] == j) {
              holds = true;
              a_used[i] = true;
            }
          }
          break;
        case Relation::kDescendant:
          for (size_t p = parent_[j], hops = 0; p != kNone && hops <= n; p = parent_[p], ++hops) {
            if (a[p]) {
              holds = true;
              a_used[p] = true;
            }
          }
          break;
        case Relation::kAncestor:
          for (size_t i = 0; i < n; ++i) {
            if (!a[i]) continue;
            for (size_t p = parent_[i], hops = 0; p != kNone && hops <= n; p = parent_[p], ++hops) {
              if (p == j) {
                holds = true;
                a_used[i] = true;
                break;
              }
            }
          }
          break;
        case Relation::kSibling:
          for (size_t i = 0; i < n; ++i) {
            if (a[i] && i != j && parent_[i] != kNone && parent_[i] == parent_[j]) {
              holds = true;
              a_used[i] = true;
            }
          }
          break;
      }
      if (Negated(s.op)) out[j] = !holds;
      else out[j] = holds;
    }
    if (IsUnion(s.op)) {
      bool any = false;
      for (size_t i = 0; i < n; ++i) any = any || out[i];
      if (any) {
        for (size_t i = 0; i < n; ++i) out[i] = out[i] || a_used[i];
      }
    }
    return out;
  }

  static constexpr size_t kNone = static_cast<size_t>(-1);
  const std::vector<SpanRow>& spans_;
  const PipelineResults& pipelines_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<size_t> parent_;
  size_t next_leaf_ = 0;
};

std::string Necessary(const Spanset& s, const std::vector<std::string>& any, size_t* leaf) {
  switch (s.kind) {
    case Spanset::Kind::kFilter: return any[(*leaf)++];
    case Spanset::Kind::kPipeline: {
      // A wrapped pipeline has a result only when its first stage has one
      // (Tempo's Pipeline.evaluate stops at the first empty stage), on a
      // part of the trace: its necessary condition holds for the trace.
      const Stage& first = s.pipeline->stages.at(0);
      if (first.kind != Stage::Kind::kSpanset) return "true";
      return Necessary(*first.spanset, any, leaf);
    }
    case Spanset::Kind::kOperation: break;
  }
  const std::string a = Necessary(*s.lhs, any, leaf);
  const std::string b = Necessary(*s.rhs, any, leaf);
  if (s.op == SpansetOp::kUnion) return StrCat("(", a, " OR ", b, ")");
  if (Negated(s.op)) return b;  // no A span at all still lets every B span through
  return StrCat("(", a, " AND ", b, ")");
}

}  // namespace

std::vector<const Spanset*> FilterLeaves(const Spanset& root) {
  std::vector<const Spanset*> out;
  Leaves(root, &out);
  return out;
}

std::vector<const Spanset*> ConditionFilterLeaves(const Spanset& root) {
  std::vector<const Spanset*> out;
  ConditionLeaves(root, &out);
  return out;
}

std::string TraceNecessaryCondition(const Spanset& root, const std::vector<std::string>& any_match) {
  size_t leaf = 0;
  return Necessary(root, any_match, &leaf);
}

bool OnlyFilters(const Spanset& root) {
  switch (root.kind) {
    case Spanset::Kind::kFilter: return true;
    case Spanset::Kind::kPipeline: return false;
    case Spanset::Kind::kOperation:
      return (root.op == SpansetOp::kAnd || root.op == SpansetOp::kUnion) && OnlyFilters(*root.lhs) &&
             OnlyFilters(*root.rhs);
  }
  return false;
}

absl::StatusOr<std::vector<size_t>> EvaluateSpansets(const Spanset& root, const std::vector<SpanRow>& spans,
                                                     const PipelineResults& pipelines) {
  Evaluator ev(spans, pipelines);
  ASSIGN_OR_RETURN(std::vector<bool> hit, ev.Eval(root));
  std::vector<size_t> out;
  for (size_t i = 0; i < hit.size(); ++i) {
    if (hit[i]) out.push_back(i);
  }
  return out;
}

}  // namespace signaldb::traceql
