// Metrics math (metrics_eval.h): `(query) op (query)` and numbers, with
// Tempo's rules for joining series (pkg/traceql/ast_metrics_math.go):
//
// - Series are matched on their labels without __name__. When the right
//   side has a series without labels (an ungrouped query), every series of
//   the left side is matched, each with its own partner or else that one;
//   otherwise every series of the right side is. Series without a partner
//   are dropped.
// - Per step, a missing sample counts as 0 and division by zero gives no
//   sample (traceql::MetricsArithmetic).
// - The result keeps the labels of its left series (of the right one when
//   the left has none) and, when both sides are named, is named
//   __name__="(left op right)". Exemplars of both sides are kept.
//
// A number applies to every sample of the other side (a missing sample
// stays missing) and leaves its labels alone.
#include <cmath>

#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/metrics_eval.h"

namespace signaldb::querier {
namespace {

namespace pb = opentelemetry::proto::common::v1;

// A series of one side: its labels without __name__ (the join key), its
// name, and the series.
struct Side {
  std::string name;
  std::vector<pb::KeyValue> labels;
  const Series* series = nullptr;
};

std::map<std::string, Side> ByKey(const SeriesSet& set) {
  std::map<std::string, Side> out;
  for (const auto& [key, s] : set) {
    Side side;
    side.series = &s;
    for (const auto& kv : s.labels) {
      if (kv.key() == "__name__") side.name = kv.value().string_value();
      else side.labels.push_back(kv);
    }
    out[LabelKey(side.labels)] = std::move(side);
  }
  return out;
}

SeriesSet Join(traceql::Op op, const SeriesSet& lhs, const SeriesSet& rhs) {
  const std::map<std::string, Side> left = ByKey(lhs), right = ByKey(rhs);
  const std::string unlabelled = LabelKey({});
  const auto& target = right.count(unlabelled) ? left : right;
  auto match = [&](const std::map<std::string, Side>& side, const std::string& key) -> const Side* {
    if (auto it = side.find(key); it != side.end()) return &it->second;
    if (auto it = side.find(unlabelled); it != side.end()) return &it->second;
    return nullptr;
  };
  SeriesSet out;
  for (const auto& [key, unused] : target) {
    const Side* l = match(left, key);
    const Side* r = match(right, key);
    if (l == nullptr || r == nullptr) continue;
    Series s;
    if (!l->name.empty() && !r->name.empty()) {
      s.labels.push_back(StringLabel("__name__", StrCat("(", l->name, " ", traceql::OpText(op), " ", r->name, ")")));
    }
    const auto& labels = l->labels.empty() ? r->labels : l->labels;
    s.labels.insert(s.labels.end(), labels.begin(), labels.end());
    const size_t n = std::min(l->series->values.size(), r->series->values.size());
    for (size_t b = 0; b < n; ++b) {
      s.values.push_back(traceql::MetricsArithmetic(op, l->series->values[b], r->series->values[b]));
    }
    s.exemplars = l->series->exemplars;
    s.exemplars.insert(s.exemplars.end(), r->series->exemplars.begin(), r->series->exemplars.end());
    out[LabelKey(s.labels)] = std::move(s);
  }
  return out;
}

// `set op number` (or `number op set` when `number_left`).
void WithNumber(traceql::Op op, double number, bool number_left, SeriesSet* set) {
  for (auto& [key, s] : *set) {
    for (double& v : s.values) {
      if (std::isnan(v)) continue;
      v = number_left ? traceql::MetricsArithmetic(op, number, v) : traceql::MetricsArithmetic(op, v, number);
    }
  }
}

}  // namespace

absl::StatusOr<SeriesSet> EvaluateMath(MetricsContext& ctx, const traceql::MetricsExpr& e) {
  using Kind = traceql::MetricsExpr::Kind;
  switch (e.kind) {
    case Kind::kQuery: {
      ASSIGN_OR_RETURN(SeriesSet set, EvaluateLeaf(ctx, *e.pipeline, *e.metrics));
      ApplySecondStage(e.second_stage, &set);
      return set;
    }
    case Kind::kScalar:
      return absl::InvalidArgumentError("metrics math needs a metrics query, not only numbers");
    case Kind::kBinary:
      break;
  }
  if (e.lhs->kind == Kind::kScalar || e.rhs->kind == Kind::kScalar) {
    const bool number_left = e.lhs->kind == Kind::kScalar;
    ASSIGN_OR_RETURN(SeriesSet set, EvaluateMath(ctx, number_left ? *e.rhs : *e.lhs));
    WithNumber(e.op, number_left ? e.lhs->value : e.rhs->value, number_left, &set);
    return set;
  }
  ASSIGN_OR_RETURN(SeriesSet lhs, EvaluateMath(ctx, *e.lhs));
  ASSIGN_OR_RETURN(SeriesSet rhs, EvaluateMath(ctx, *e.rhs));
  return Join(e.op, lhs, rhs);
}

}  // namespace signaldb::querier
