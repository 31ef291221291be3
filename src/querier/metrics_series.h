// The in-memory form of TraceQL metrics results between the first stage
// and the answer: series with one value per step (NaN where there is none)
// and their exemplars. Second stages, metrics math and compare() work on
// series sets; ToProto() turns one into Tempo's QueryRangeResponse series.
//
// Exemplars are chosen the same way whichever path produced the spans
// (PickExemplars): the range is cut into max(1, N/2) equal time slots and a
// series keeps at most one span per trace, at most two per slot and at most
// N in all (Tempo's limitedBucketSet in pkg/traceql/util.go cuts the range
// the same way; Tempo takes a random span of each trace, we take the
// preferred one: the largest value, the smallest for min_over_time, the
// earliest span for counting functions), so exemplars spread over the
// range.
//
// Thread-safety: plain values; one thread at a time.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "opentelemetry/proto/common/v1/common.pb.h"
#include "tempopb/tempo.pb.h"
#include "traceql/ast.h"

namespace signaldb::querier {

// The buckets of a metrics request: [start + i*step, start + (i+1)*step).
struct MetricsRange {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t step_ns = 0;
  int64_t Buckets() const { return (end_ns - start_ns + step_ns - 1) / step_ns; }
  // The bucket of a time in the range, or -1.
  int64_t BucketOf(int64_t ns) const {
    if (ns < start_ns || ns >= end_ns) return -1;
    return (ns - start_ns) / step_ns;
  }
};

// A span an exemplar may point at.
struct ExemplarSpan {
  std::string trace_id;  // hex, as stored
  std::string span_id;   // hex, as stored
  int64_t start_ns = 0;
  double value = NAN;    // what the exemplar carries (NaN for counting functions)
};

// Which spans a series prefers as exemplars.
enum class ExemplarPreference { kEarliest, kHighest, kLowest };

struct Series {
  std::vector<opentelemetry::proto::common::v1::KeyValue> labels;
  std::vector<double> values;  // one per bucket; NaN: no sample
  std::vector<ExemplarSpan> exemplars;
  bool keep_without_samples = false;  // compare()'s too-many-values marker
};

// Series by the identity of their labels (LabelKey), in a stable order.
using SeriesSet = std::map<std::string, Series>;

// A byte string identifying a label set (order matters, as in Tempo).
std::string LabelKey(const std::vector<opentelemetry::proto::common::v1::KeyValue>& labels);
opentelemetry::proto::common::v1::KeyValue StringLabel(const std::string& key, const std::string& value);

// The first `limit` exemplars of `candidates` by the rules above, ordered
// by time. Candidates outside the range are dropped.
std::vector<ExemplarSpan> PickExemplars(std::vector<ExemplarSpan> candidates, const MetricsRange& range,
                                        uint32_t limit, ExemplarPreference preference);
// The exemplar slot of a time (the rule PickExemplars uses; exposed so SQL
// that pre-selects candidates can use the same numbers).
struct ExemplarSlots {
  int64_t first_ms = 0;  // the range's start in milliseconds
  int64_t width_ms = 0;  // 0: one slot
  int64_t count = 1;
};
ExemplarSlots SlotsFor(const MetricsRange& range, uint32_t limit);

// Second stages in order: comparisons drop the samples that fail them
// (series left without samples go), topk/bottomk keep the N series with the
// highest/lowest mean sample (series without samples rank last), as Tempo.
void ApplySecondStage(const std::vector<traceql::SecondStage>& stages, SeriesSet* set);

// Tempo's answer: a sample per bucket with a value, exemplars only in
// buckets with a sample (labels trace:id without leading zeros and span:id,
// as Tempo's storage renders them), series without samples left out.
void AppendSeries(const SeriesSet& set, const MetricsRange& range, tempopb::QueryRangeResponse* out);

}  // namespace signaldb::querier
