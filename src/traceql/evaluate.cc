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

class Evaluator {
 public:
  explicit Evaluator(const std::vector<SpanRow>& spans) : spans_(spans) {
    for (size_t i = 0; i < spans.size(); ++i) index_.emplace(spans[i].span_id, i);
    parent_.assign(spans.size(), kNone);
    for (size_t i = 0; i < spans.size(); ++i) {
      auto it = index_.find(spans[i].parent_id);
      if (!spans[i].parent_id.empty() && it != index_.end() && it->second != i) parent_[i] = it->second;
    }
  }

  absl::StatusOr<std::vector<bool>> Eval(const Spanset& s) {
    const size_t n = spans_.size();
    switch (s.kind) {
      case Spanset::Kind::kFilter: {
        const size_t leaf = next_leaf_++;
        std::vector<bool> out(n);
        for (size_t i = 0; i < n; ++i) out[i] = leaf < spans_[i].matches.size() && spans_[i].matches[leaf];
        return out;
      }
      case Spanset::Kind::kPipeline:
        return absl::FailedPreconditionError("pipelines inside spanset expressions are not supported yet");
      case Spanset::Kind::kOperation: break;
    }
    ASSIGN_OR_RETURN(std::vector<bool> a, Eval(*s.lhs));
    ASSIGN_OR_RETURN(std::vector<bool> b, Eval(*s.rhs));
    const bool any_a = std::find(a.begin(), a.end(), true) != a.end();
    const bool any_b = std::find(b.begin(), b.end(), true) != b.end();
    std::vector<bool> out(n);
    if (s.op == SpansetOp::kAnd || s.op == SpansetOp::kUnion) {
      if (s.op == SpansetOp::kAnd && (!any_a || !any_b)) return out;
      for (size_t i = 0; i < n; ++i) out[i] = a[i] || b[i];
      return out;
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

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  const std::vector<SpanRow>& spans_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<size_t> parent_;
  size_t next_leaf_ = 0;
};

std::string Necessary(const Spanset& s, const std::vector<std::string>& any, size_t* leaf) {
  switch (s.kind) {
    case Spanset::Kind::kFilter: return any[(*leaf)++];
    case Spanset::Kind::kPipeline: return "true";
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

absl::StatusOr<std::vector<size_t>> EvaluateSpansets(const Spanset& root, const std::vector<SpanRow>& spans) {
  Evaluator ev(spans);
  ASSIGN_OR_RETURN(std::vector<bool> hit, ev.Eval(root));
  std::vector<size_t> out;
  for (size_t i = 0; i < hit.size(); ++i) {
    if (hit[i]) out.push_back(i);
  }
  return out;
}

}  // namespace signaldb::traceql
