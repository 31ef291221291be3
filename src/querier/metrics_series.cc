#include "querier/metrics_series.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "querier/source.h"

namespace signaldb::querier {
namespace {

namespace pb = opentelemetry::proto::common::v1;

// True when `a` is a better exemplar than `b`; ties are broken by time,
// then ids, so the choice is the same however the candidates arrive.
bool Prefer(const ExemplarSpan& a, const ExemplarSpan& b, ExemplarPreference p) {
  if (p != ExemplarPreference::kEarliest) {
    const bool an = std::isnan(a.value), bn = std::isnan(b.value);
    if (an != bn) return bn;
    if (!an && a.value != b.value) return p == ExemplarPreference::kHighest ? a.value > b.value : a.value < b.value;
  }
  return std::tie(a.start_ns, a.trace_id, a.span_id) < std::tie(b.start_ns, b.trace_id, b.span_id);
}

int64_t SlotOf(const ExemplarSlots& slots, int64_t start_ns) {
  if (slots.width_ms == 0) return 0;
  return std::min(slots.count - 1, (start_ns / 1000000 - slots.first_ms) / slots.width_ms);
}

// The mean of a series' samples (NaN without any), what topk and bottomk
// rank series by, as Tempo does.
double MeanOf(const Series& s) {
  double sum = 0;
  int n = 0;
  for (double v : s.values) {
    if (std::isnan(v)) continue;
    sum += v;
    ++n;
  }
  return n == 0 ? NAN : sum / n;
}

bool HasSamples(const Series& s) {
  return std::any_of(s.values.begin(), s.values.end(), [](double v) { return !std::isnan(v); });
}

}  // namespace

std::string LabelKey(const std::vector<pb::KeyValue>& labels) {
  std::string key;
  for (const auto& kv : labels) {
    const std::string one = kv.SerializeAsString();
    key += std::to_string(one.size());
    key += ':';
    key += one;
  }
  return key;
}

pb::KeyValue StringLabel(const std::string& key, const std::string& value) {
  pb::KeyValue kv;
  kv.set_key(key);
  kv.mutable_value()->set_string_value(value);
  return kv;
}

ExemplarSlots SlotsFor(const MetricsRange& range, uint32_t limit) {
  ExemplarSlots s;
  s.count = std::max<int64_t>(1, limit / 2);
  s.first_ms = range.start_ns / 1000000;
  s.width_ms = (range.end_ns / 1000000 - s.first_ms) / s.count;
  return s;
}

std::vector<ExemplarSpan> PickExemplars(std::vector<ExemplarSpan> candidates, const MetricsRange& range,
                                        uint32_t limit, ExemplarPreference preference) {
  if (limit == 0) return {};
  auto better = [&](const ExemplarSpan& a, const ExemplarSpan& b) { return Prefer(a, b, preference); };
  std::sort(candidates.begin(), candidates.end(), better);
  const ExemplarSlots slots = SlotsFor(range, limit);
  std::set<std::string> traces;
  std::map<int64_t, int> per_slot;
  std::vector<ExemplarSpan> out;
  for (auto& c : candidates) {
    if (out.size() >= limit) break;
    if (range.BucketOf(c.start_ns) < 0) continue;
    // Best first: the first span of a trace is its preferred one.
    if (!traces.insert(c.trace_id).second) continue;
    if (per_slot[SlotOf(slots, c.start_ns)]++ >= 2) continue;
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const ExemplarSpan& a, const ExemplarSpan& b) {
    return std::tie(a.start_ns, a.trace_id, a.span_id) < std::tie(b.start_ns, b.trace_id, b.span_id);
  });
  return out;
}

void ApplySecondStage(const std::vector<traceql::SecondStage>& stages, SeriesSet* set) {
  for (const auto& st : stages) {
    if (st.kind == traceql::SecondStage::Kind::kFilter) {
      for (auto it = set->begin(); it != set->end();) {
        for (double& v : it->second.values) {
          if (!std::isnan(v) && !CompareNumbers(v, st.op, st.value)) v = NAN;
        }
        it = HasSamples(it->second) ? std::next(it) : set->erase(it);
      }
      continue;
    }
    const bool top = st.kind == traceql::SecondStage::Kind::kTopK;
    std::vector<std::pair<double, SeriesSet::iterator>> order;
    for (auto it = set->begin(); it != set->end(); ++it) order.emplace_back(MeanOf(it->second), it);
    std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      if (std::isnan(a.first) != std::isnan(b.first)) return !std::isnan(a.first);
      return top ? a.first > b.first : a.first < b.first;
    });
    SeriesSet kept;
    for (size_t k = 0; k < order.size() && k < static_cast<size_t>(st.n); ++k) {
      kept.insert(set->extract(order[k].second));
    }
    set->swap(kept);
  }
}

void AppendSeries(const SeriesSet& set, const MetricsRange& range, tempopb::QueryRangeResponse* out) {
  for (const auto& [key, s] : set) {
    if (!HasSamples(s) && !s.keep_without_samples) continue;
    auto* ts = out->add_series();
    for (const auto& kv : s.labels) *ts->add_labels() = kv;
    for (size_t b = 0; b < s.values.size(); ++b) {
      if (std::isnan(s.values[b])) continue;
      auto* sample = ts->add_samples();
      sample->set_timestamp_ms((range.start_ns + static_cast<int64_t>(b) * range.step_ns) / 1000000);
      sample->set_value(s.values[b]);
    }
    for (const auto& e : s.exemplars) {
      const int64_t b = range.BucketOf(e.start_ns);
      if (b < 0 || static_cast<size_t>(b) >= s.values.size() || std::isnan(s.values[b])) continue;
      auto* ex = ts->add_exemplars();
      *ex->add_labels() = StringLabel("trace:id", TempoTraceId(e.trace_id));
      *ex->add_labels() = StringLabel("span:id", e.span_id);
      ex->set_value(e.value);
      ex->set_timestamp_ms(e.start_ns / 1000000);
    }
  }
}

}  // namespace signaldb::querier
