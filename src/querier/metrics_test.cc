// TraceQL metrics through the querier (Querier::MetricsRange) over the three
// traces of test_traces.h, in 10 s buckets from kT0: T1's three spans fall
// in the first, T2's two in the second, the orphan in the third. Every
// expected series and exemplar is worked out by hand from those spans.
#include <algorithm>
#include <cmath>

#include "common/strings.h"
#include "gtest/gtest.h"
#include "querier/querier.h"
#include "querier/test_traces.h"
#include "traceql/parser.h"
#include "traceql/validate.h"

namespace signaldb::querier {
namespace {

using namespace test_data;  // NOLINT: the shared traces and their ids

// Span ids as stored and as exemplars carry them: 7 zero bytes and the id.
std::string SpanHex(int id) { return StrCat("000000000000000", id); }

std::string Number(double v) { return std::isnan(v) ? "NaN" : StrCat(v); }

std::string LabelText(const opentelemetry::proto::common::v1::KeyValue& l) {
  const auto& v = l.value();
  if (v.has_double_value()) return StrCat(l.key(), "=", v.double_value());
  if (v.has_int_value()) return StrCat(l.key(), "=", v.int_value());
  return StrCat(l.key(), "=", v.string_value());
}

class MetricsTest : public ThreeTracesTest {
 protected:
  static constexpr int64_t kStep = 10000 * static_cast<int64_t>(kMs);

  absl::StatusOr<tempopb::QueryRangeResponse> Range(const std::string& q, uint32_t exemplars = 0) {
    auto parsed = traceql::Parse(q);
    if (!parsed.ok()) return parsed.status();
    if (auto st = traceql::Validate(*parsed); !st.ok()) return st;
    const MetricsRequest req{static_cast<int64_t>(kT0), static_cast<int64_t>(kT0) + 3 * kStep, kStep, exemplars};
    return querier_->MetricsRange({}, *parsed, req);
  }

  // "label=value,...: t0:v0 t1:v1 ..." per series (t in seconds after kT0), sorted.
  std::vector<std::string> Series(const std::string& q) {
    auto r = Range(q);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& ts : r->series()) {
      std::string line;
      for (const auto& l : ts.labels()) line += LabelText(l) + ",";
      line += ":";
      for (const auto& smp : ts.samples()) {
        line += StrCat(" ", (smp.timestamp_ms() - static_cast<int64_t>(kT0 / kMs)) / 1000, ":", smp.value());
      }
      out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // "labels: trace/span@ms=value ..." per series with exemplars (ms after
  // kT0; traces as Tempo prints them), sorted.
  std::vector<std::string> Exemplars(const std::string& q, uint32_t limit) {
    auto r = Range(q, limit);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& ts : r->series()) {
      if (ts.exemplars_size() == 0) continue;
      std::string line;
      for (const auto& l : ts.labels()) line += LabelText(l) + ",";
      line += ":";
      for (const auto& e : ts.exemplars()) {
        EXPECT_EQ(e.labels_size(), 2);
        EXPECT_EQ(e.labels(0).key(), "trace:id");
        EXPECT_EQ(e.labels(1).key(), "span:id");
        line += StrCat(" ", e.labels(0).value().string_value(), "/", e.labels(1).value().string_value(), "@",
                       e.timestamp_ms() - static_cast<int64_t>(kT0 / kMs), "=", Number(e.value()));
      }
      out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

using V = std::vector<std::string>;

TEST_F(MetricsTest, FunctionsByAndSecondStages) {
  EXPECT_EQ(Series("{ } | count_over_time()"), (V{"__name__=count_over_time,: 0:3 10:2 20:1"}));
  EXPECT_EQ(Series("{ } | rate() by (resource.service.name)"),
            (V{"resource.service.name=cache,: 0:0 10:0.1 20:0", "resource.service.name=frontend,: 0:0.1 10:0.1 20:0",
               "resource.service.name=payments,: 0:0.2 10:0 20:0.1"}));
  EXPECT_EQ(Series("{ status = error } | count_over_time() by (name)"),
            (V{"name=charge,: 0:1 10:0 20:0", "name=orphan,: 0:0 10:0 20:1"}));
  // by() of other scopes reads that scope: the parent span's service (roots
  // and the orphan have none).
  EXPECT_EQ(Series("{ } | count_over_time() by (parent.resource.service.name)"),
            (V{"parent.resource.service.name=frontend,: 0:1 10:1 20:0",
               "parent.resource.service.name=nil,: 0:1 10:1 20:1",
               "parent.resource.service.name=payments,: 0:1 10:0 20:0"}));
  EXPECT_EQ(Series("{ } | max_over_time(duration)"), (V{"__name__=max_over_time,: 0:0.2 10:0.03 20:0.001"}));
  EXPECT_EQ(Series("{ } | min_over_time(duration)"), (V{"__name__=min_over_time,: 0:0.005 10:0.002 20:0.001"}));
  EXPECT_EQ(Series("{ resource.service.name = \"payments\" } | sum_over_time(span.http.status_code)"),
            (V{"__name__=sum_over_time,: 0:500 20:503"}));
  EXPECT_EQ(Series("{ } | quantile_over_time(duration, 0.5)"),
            (V{"__name__=quantile_over_time,p=0.5,: 0:0.05 10:0.016 20:0.001"}));
  // Durations 200, 50, 5 | 30, 2 | 1 ms into Tempo's buckets: the next power
  // of two in nanoseconds, labelled in seconds (1 ms = 10^6 ns goes to
  // 2^20 ns = 0.001048576 s; 200 ms to 2^28 ns = 0.268435456 s).
  EXPECT_EQ(Series("{ } | histogram_over_time(duration)"),
            (V{"__name__=histogram_over_time,__bucket=0.001048576,: 0:0 10:0 20:1",
               "__name__=histogram_over_time,__bucket=0.002097152,: 0:0 10:1 20:0",
               "__name__=histogram_over_time,__bucket=0.008388608,: 0:1 10:0 20:0",
               "__name__=histogram_over_time,__bucket=0.033554432,: 0:0 10:1 20:0",
               "__name__=histogram_over_time,__bucket=0.067108864,: 0:1 10:0 20:0",
               "__name__=histogram_over_time,__bucket=0.268435456,: 0:1 10:0 20:0"}));
  // Second stages: means frontend 0.0667, payments 0.1, cache 0.0333.
  EXPECT_EQ(Series("{ } | rate() by (resource.service.name) | topk(1)"),
            (V{"resource.service.name=payments,: 0:0.2 10:0 20:0.1"}));
  EXPECT_EQ(Series("{ } | rate() by (resource.service.name) | bottomk(2)"),
            (V{"resource.service.name=cache,: 0:0 10:0.1 20:0", "resource.service.name=frontend,: 0:0.1 10:0.1 20:0"}));
  EXPECT_EQ(Series("{ } | rate() by (resource.service.name) > 0.15"), (V{"resource.service.name=payments,: 0:0.2"}));
  EXPECT_EQ(Series("{ } | count_over_time() | >= 2 | < 3"), (V{"__name__=count_over_time,: 10:2"}));
}

const std::string kT1Hex = "11111111111111111111111111111111";
const std::string kT2Hex = "abc";  // leading zeros dropped, as Tempo prints trace ids
const std::string kT3Hex = "33333333333333333333333333333333";

std::string Ex(const std::string& trace, int span, int ms, const std::string& value) {
  return StrCat(" ", trace, "/", SpanHex(span), "@", ms, "=", value);
}

// With 100 exemplars the range has 50 slots of 600 ms: T1's spans share
// slot 0, T2's slot 16, the orphan slot 33, so every trace gives one.
TEST_F(MetricsTest, ExemplarsOnePerTraceWithTheFunctionsValue) {
  // Counting functions: the earliest span of each trace, value NaN (Tempo's exemplarNaN).
  EXPECT_EQ(Exemplars("{ } | count_over_time()", 100),
            (V{StrCat("__name__=count_over_time,:", Ex(kT1Hex, 1, 0, "NaN"), Ex(kT2Hex, 5, 10000, "NaN"),
                      Ex(kT3Hex, 7, 20000, "NaN"))}));
  // Per series of by(): the payments series takes T1's charge (earlier than db).
  EXPECT_EQ(Exemplars("{ } | rate() by (resource.service.name)", 100),
            (V{StrCat("resource.service.name=cache,:", Ex(kT2Hex, 6, 10001, "NaN")),
               StrCat("resource.service.name=frontend,:", Ex(kT1Hex, 1, 0, "NaN"), Ex(kT2Hex, 5, 10000, "NaN")),
               StrCat("resource.service.name=payments,:", Ex(kT1Hex, 2, 10, "NaN"), Ex(kT3Hex, 7, 20000, "NaN"))}));
  // Values are the function's argument in seconds: the slowest span of each
  // trace for max_over_time, the fastest for min_over_time.
  EXPECT_EQ(Exemplars("{ } | max_over_time(duration)", 100),
            (V{StrCat("__name__=max_over_time,:", Ex(kT1Hex, 1, 0, "0.2"), Ex(kT2Hex, 5, 10000, "0.03"),
                      Ex(kT3Hex, 7, 20000, "0.001"))}));
  EXPECT_EQ(Exemplars("{ } | min_over_time(duration)", 100),
            (V{StrCat("__name__=min_over_time,:", Ex(kT1Hex, 3, 20, "0.005"), Ex(kT2Hex, 6, 10001, "0.002"),
                      Ex(kT3Hex, 7, 20000, "0.001"))}));
  EXPECT_EQ(Exemplars("{ resource.service.name = \"payments\" } | avg_over_time(span.http.status_code)", 100),
            (V{StrCat("__name__=avg_over_time,:", Ex(kT1Hex, 2, 10, "500"), Ex(kT3Hex, 7, 20000, "503"))}));
  // Histogram exemplars sit in the bucket series of their span, value NaN.
  EXPECT_EQ(Exemplars("{ } | histogram_over_time(duration)", 100),
            (V{StrCat("__name__=histogram_over_time,__bucket=0.001048576,:", Ex(kT3Hex, 7, 20000, "NaN")),
               StrCat("__name__=histogram_over_time,__bucket=0.002097152,:", Ex(kT2Hex, 6, 10001, "NaN")),
               StrCat("__name__=histogram_over_time,__bucket=0.008388608,:", Ex(kT1Hex, 3, 20, "NaN")),
               StrCat("__name__=histogram_over_time,__bucket=0.033554432,:", Ex(kT2Hex, 5, 10000, "NaN")),
               StrCat("__name__=histogram_over_time,__bucket=0.067108864,:", Ex(kT1Hex, 2, 10, "NaN")),
               StrCat("__name__=histogram_over_time,__bucket=0.268435456,:", Ex(kT1Hex, 1, 0, "NaN"))}));
  // Quantile exemplars go to the smallest quantile whose value over the
  // range reaches theirs: durations 1, 2, 5, 30, 50, 200 ms give p50 =
  // 17.5 ms and p90 = 125 ms, so 1 ms goes to p50, 30 and 200 ms to p90.
  // With by(): the quantile thresholds' statement binds no label keys.
  EXPECT_FALSE(Exemplars("{ } | quantile_over_time(duration, 0.5) by (resource.service.name)", 100).empty());
  EXPECT_EQ(Exemplars("{ } | quantile_over_time(duration, 0.5, 0.9)", 100),
            (V{StrCat("__name__=quantile_over_time,p=0.5,:", Ex(kT3Hex, 7, 20000, "0.001")),
               StrCat("__name__=quantile_over_time,p=0.9,:", Ex(kT1Hex, 1, 0, "0.2"), Ex(kT2Hex, 5, 10000, "0.03"))}));
}

TEST_F(MetricsTest, ExemplarsSpreadOverSlotsAndLimits) {
  // 1 exemplar: one slot, the single preferred span.
  EXPECT_EQ(Exemplars("{ } | count_over_time()", 1), (V{StrCat("__name__=count_over_time,:", Ex(kT1Hex, 1, 0, "NaN"))}));
  // 3 exemplars: one slot (3 / 2), at most two spans in it.
  EXPECT_EQ(Exemplars("{ } | count_over_time()", 3),
            (V{StrCat("__name__=count_over_time,:", Ex(kT1Hex, 1, 0, "NaN"), Ex(kT2Hex, 5, 10000, "NaN"))}));
  // 4 exemplars: two slots of 15 s, T1 and T2 in the first, the orphan in the second.
  EXPECT_EQ(Exemplars("{ } | count_over_time()", 4),
            (V{StrCat("__name__=count_over_time,:", Ex(kT1Hex, 1, 0, "NaN"), Ex(kT2Hex, 5, 10000, "NaN"),
                      Ex(kT3Hex, 7, 20000, "NaN"))}));
  // None asked for: none given.
  EXPECT_EQ(Exemplars("{ } | count_over_time()", 0), V{});
  // Exemplars only stay where their series keeps a sample (Tempo's ToProto).
  EXPECT_EQ(Exemplars("{ } | count_over_time() > 1", 100),
            (V{StrCat("__name__=count_over_time,:", Ex(kT1Hex, 1, 0, "NaN"), Ex(kT2Hex, 5, 10000, "NaN"))}));
}

TEST(ExemplarLimitTest, HintsOverrideTheParameterUpToTheMaximum) {
  auto limit = [](const std::string& q, uint32_t requested) {
    auto parsed = traceql::Parse(q);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed.ok() ? ExemplarLimit(*parsed, requested) : 12345u;
  };
  EXPECT_EQ(limit("{ } | rate()", 0), 100u);  // absent (or 0): Tempo's maximum
  EXPECT_EQ(limit("{ } | rate()", 7), 7u);
  EXPECT_EQ(limit("{ } | rate()", 500), 100u);
  EXPECT_EQ(limit("{ } | rate() with(exemplars=5)", 7), 5u);
  EXPECT_EQ(limit("{ } | rate() with(exemplars=0)", 7), 0u);
  EXPECT_EQ(limit("{ } | rate() with(exemplars=1000)", 7), 100u);
  EXPECT_EQ(limit("{ } | rate() with(exemplars=false)", 7), 0u);
  EXPECT_EQ(limit("{ } | rate() with(exemplars=true)", 7), 7u);
}

V Sorted(V v) {
  std::sort(v.begin(), v.end());
  return v;
}

// compare() over the payments spans: charge (T1, 0 s) and the orphan (T3,
// 20 s) are errors, the selection; db (T1, 0 s) is the baseline. Top 1
// value per attribute: the selection's two names and two status codes tie
// at one span each, the first by text stays and the attribute is flagged.
TEST_F(MetricsTest, CompareCountsEveryAttributeValuePerSide) {
  const std::string b0 = ": 0:1 10:0 20:0", both = ": 0:1 10:0 20:1";
  EXPECT_EQ(Series("{ resource.service.name = \"payments\" } | compare({ status = error }, 1)"),
            Sorted(V{
                "__meta_type=baseline,kind=unspecified," + b0,
                "__meta_type=baseline,name=db," + b0,
                "__meta_type=baseline,resource.service.name=payments," + b0,
                "__meta_type=baseline,rootName=GET /checkout," + b0,
                "__meta_type=baseline,rootServiceName=frontend," + b0,
                "__meta_type=baseline,status=unset," + b0,
                "__meta_type=baseline_total,kind=nil," + b0,
                "__meta_type=baseline_total,name=nil," + b0,
                "__meta_type=baseline_total,resource.service.name=nil," + b0,
                "__meta_type=baseline_total,rootName=nil," + b0,
                "__meta_type=baseline_total,rootServiceName=nil," + b0,
                "__meta_type=baseline_total,status=nil," + b0,
                "__meta_type=selection,kind=unspecified," + both,
                "__meta_type=selection,name=charge," + b0,
                "__meta_type=selection,resource.service.name=payments," + both,
                "__meta_type=selection,rootName=GET /checkout," + b0,  // the orphan's root never arrived
                "__meta_type=selection,rootServiceName=frontend," + b0,
                "__meta_type=selection,span.amount=9.5," + b0,
                "__meta_type=selection,span.http.status_code=500," + b0,
                "__meta_type=selection,status=error," + both,
                "__meta_type=selection_total,kind=nil," + both,
                "__meta_type=selection_total,name=nil," + both,
                "__meta_type=selection_total,resource.service.name=nil," + both,
                "__meta_type=selection_total,rootName=nil," + b0,
                "__meta_type=selection_total,rootServiceName=nil," + b0,
                "__meta_type=selection_total,span.amount=nil," + b0,
                "__meta_type=selection_total,span.http.status_code=nil," + both,
                "__meta_type=selection_total,status=nil," + both,
                "__meta_error=__too_many_values__,name=nil,:",
                "__meta_error=__too_many_values__,span.http.status_code=nil,:",
            }));
  // The typed values of the answer.
  auto r = Range("{ resource.service.name = \"payments\" } | compare({ status = error })");
  ASSERT_TRUE(r.ok()) << r.status();
  int typed = 0;
  for (const auto& ts : r->series()) {
    if (ts.labels(1).key() == "span.http.status_code" && ts.labels(0).value().string_value() == "selection") {
      EXPECT_TRUE(ts.labels(1).value().has_int_value());
      ++typed;
    }
    if (ts.labels(1).key() == "span.amount" && ts.labels(0).value().string_value() == "selection") {
      EXPECT_TRUE(ts.labels(1).value().has_double_value());
      ++typed;
    }
  }
  EXPECT_EQ(typed, 3);  // 500, 503 and 9.5
}

// With a window (15 s to 30 s after kT0) only the orphan is selected; the
// charge error falls back to the baseline.
TEST_F(MetricsTest, CompareWindowNarrowsTheSelection) {
  V status;
  const std::string q = StrCat("{ } | compare({ status = error }, 10, ", kT0 + 15000 * kMs, ", ", kT0 + 30000 * kMs, ")");
  for (const auto& line : Series(q)) {
    if (line.find(",status=") != std::string::npos) status.push_back(line);
  }
  EXPECT_EQ(status, Sorted(V{"__meta_type=baseline,status=error,: 0:1 10:0 20:0",
                             "__meta_type=baseline,status=unset,: 0:2 10:2 20:0",
                             "__meta_type=baseline_total,status=nil,: 0:3 10:2 20:0",
                             "__meta_type=selection,status=error,: 0:0 10:0 20:1",
                             "__meta_type=selection_total,status=nil,: 0:0 10:0 20:1"}));
}

// Compare exemplars sit on the totals of the attributes their span has.
TEST_F(MetricsTest, CompareExemplarsOnTotals) {
  const V got = Exemplars("{ resource.service.name = \"payments\" } | compare({ status = error })", 100);
  EXPECT_NE(std::find(got.begin(), got.end(),
                      StrCat("__meta_type=baseline_total,status=nil,:", Ex(kT1Hex, 3, 20, "NaN"))),
            got.end());
  EXPECT_NE(std::find(got.begin(), got.end(),
                      StrCat("__meta_type=selection_total,status=nil,:", Ex(kT1Hex, 2, 10, "NaN"),
                             Ex(kT3Hex, 7, 20000, "NaN"))),
            got.end());
  EXPECT_NE(std::find(got.begin(), got.end(),
                      StrCat("__meta_type=selection_total,span.amount=nil,:", Ex(kT1Hex, 2, 10, "NaN"))),
            got.end());
  for (const auto& line : got) EXPECT_NE(line.find("_total,"), std::string::npos) << line;
  EXPECT_EQ(got.size(), 14u);  // 6 baseline totals, 8 selection totals
}

// Metrics math over counts of 3, 2, 1 spans (all), 1, 0, 1 (errors) and
// per service frontend 1, 1, 0 / payments 2, 0, 1 / cache 0, 1, 0.
TEST_F(MetricsTest, MathJoinsSeriesOnTheirLabels) {
  const std::string third = StrCat(1.0 / 3), two_thirds = StrCat(2.0 / 3);
  // Both sides ungrouped: one series, named after both.
  EXPECT_EQ(Series("({ status = error } | count_over_time()) / ({ } | count_over_time())"),
            (V{StrCat("__name__=(count_over_time / count_over_time),: 0:", third, " 10:0 20:1")}));
  // A grouped side against an ungrouped one: every group, labels kept, no name.
  EXPECT_EQ(Series("({ } | count_over_time() by (resource.service.name)) / ({ } | count_over_time())"),
            (V{"resource.service.name=cache,: 0:0 10:0.5 20:0",
               StrCat("resource.service.name=frontend,: 0:", third, " 10:0.5 20:0"),
               StrCat("resource.service.name=payments,: 0:", two_thirds, " 10:0 20:1")}));
  // The other way round; dividing by 0 leaves no sample.
  EXPECT_EQ(Series("({ } | count_over_time()) / ({ } | count_over_time() by (resource.service.name))"),
            (V{"resource.service.name=cache,: 10:2", "resource.service.name=frontend,: 0:3 10:2",
               "resource.service.name=payments,: 0:1.5 20:1"}));
  // Grouped on both sides: equal labels pair up, the rest goes.
  EXPECT_EQ(Series("({ status = error } | count_over_time() by (resource.service.name)) / "
                   "({ } | count_over_time() by (resource.service.name))"),
            (V{"resource.service.name=payments,: 0:0.5 20:1"}));
  // A missing sample counts as 0 between series (payments has no span at 10 s).
  EXPECT_EQ(Series("({ resource.service.name = \"payments\" } | max_over_time(duration)) + ({ } | count_over_time())"),
            (V{"__name__=(max_over_time + count_over_time),: 0:3.05 10:2 20:1.001"}));
  // Stages inside the parentheses apply first (topk keeps payments), the
  // root's after the arithmetic.
  EXPECT_EQ(Series("({ } | count_over_time() by (resource.service.name) | topk(1)) / ({ } | count_over_time())"),
            (V{StrCat("resource.service.name=payments,: 0:", two_thirds, " 10:0 20:1")}));
  EXPECT_EQ(Series("({ status = error } | count_over_time()) / ({ } | count_over_time()) > 0.5"),
            (V{"__name__=(count_over_time / count_over_time),: 20:1"}));
}

TEST_F(MetricsTest, MathWithNumbers) {
  EXPECT_EQ(Series("({ } | count_over_time()) * 2"), (V{"__name__=count_over_time,: 0:6 10:4 20:2"}));
  EXPECT_EQ(Series("2 - ({ } | count_over_time())"), (V{"__name__=count_over_time,: 0:-1 10:0 20:1"}));
  EXPECT_EQ(Series("({ } | count_over_time()) * (2 + 3)"), (V{"__name__=count_over_time,: 0:15 10:10 20:5"}));
  EXPECT_EQ(Series("100 * ({ status = error } | count_over_time()) / ({ } | count_over_time())"),
            (V{StrCat("__name__=(count_over_time / count_over_time),: 0:", 100.0 / 3, " 10:0 20:100")}));
  // A number leaves a missing sample missing.
  EXPECT_EQ(Series("({ resource.service.name = \"payments\" } | max_over_time(duration)) * 1000"),
            (V{"__name__=max_over_time,: 0:50 20:1"}));
  EXPECT_EQ(Series("({ } | count_over_time()) / 0"), V{});
}

TEST_F(MetricsTest, MathKeepsTheExemplarsOfBothSides) {
  EXPECT_EQ(Exemplars("({ status = error } | count_over_time()) / ({ } | count_over_time())", 100),
            (V{StrCat("__name__=(count_over_time / count_over_time),:", Ex(kT1Hex, 2, 10, "NaN"),
                      Ex(kT3Hex, 7, 20000, "NaN"), Ex(kT1Hex, 1, 0, "NaN"), Ex(kT2Hex, 5, 10000, "NaN"),
                      Ex(kT3Hex, 7, 20000, "NaN"))}));
}

// Metrics over spanset operators and pipeline stages: the spans are found
// over whole traces (T1's db arrived in a later request and file than its
// ancestors), then counted like those of a filter.
TEST_F(MetricsTest, OverSpansetOperatorsAndPipelines) {
  // charge and db descend from the frontend root; the orphan's parent never arrived.
  EXPECT_EQ(Series("{ resource.service.name = \"frontend\" } >> { resource.service.name = \"payments\" } | "
                   "count_over_time()"),
            (V{"__name__=count_over_time,: 0:2 10:0 20:0"}));
  EXPECT_EQ(Series("{ name = \"GET /checkout\" } > { } | rate() by (name)"), (V{"name=charge,: 0:0.1 10:0 20:0"}));
  // && needs both in one trace (T1: charge and db; T3 has no db), || either.
  EXPECT_EQ(Series("{ status = error } && { name = \"db\" } | count_over_time()"),
            (V{"__name__=count_over_time,: 0:2 10:0 20:0"}));
  EXPECT_EQ(Series("{ name = \"redis\" } || { name = \"orphan\" } | count_over_time() by (resource.service.name)"),
            (V{"resource.service.name=cache,: 0:0 10:1 20:0", "resource.service.name=payments,: 0:0 10:0 20:1"}));
  // Stages before the function: a scalar filter (T1 has two payments
  // spans, T3 one), a later filter, by() then a scalar filter per group,
  // select() (no effect on which spans count).
  EXPECT_EQ(Series("{ resource.service.name = \"payments\" } | count() > 1 | count_over_time()"),
            (V{"__name__=count_over_time,: 0:2 10:0 20:0"}));
  EXPECT_EQ(Series("{ } | { status = error } | max_over_time(duration)"),
            (V{"__name__=max_over_time,: 0:0.05 20:0.001"}));
  EXPECT_EQ(Series("{ } | by(resource.service.name) | count() > 1 | rate()"), (V{"__name__=rate,: 0:0.2 10:0 20:0"}));
  EXPECT_EQ(Series("{ } | select(span.http.status_code) | count_over_time()"),
            (V{"__name__=count_over_time,: 0:3 10:2 20:1"}));
  // A pipeline starting without a spanset expression takes every span of
  // the trace (T1 and T2 have more than one); a spanset operator after the
  // first stage; by() of an expression (T1's spans over 10 ms, the root and
  // charge, form a group of two).
  EXPECT_EQ(Series("count() > 1 | count_over_time()"), (V{"__name__=count_over_time,: 0:3 10:2 20:0"}));
  EXPECT_EQ(Series("{ } | { name = \"charge\" } > { name = \"db\" } | count_over_time()"),
            (V{"__name__=count_over_time,: 0:1 10:0 20:0"}));
  EXPECT_EQ(Series("{ } | by(duration > 10ms) | count() > 1 | count_over_time()"),
            (V{"__name__=count_over_time,: 0:2 10:0 20:0"}));
  // The nested set intrinsics in a plain filter: the roots of T1 and T2
  // (T3's orphan has no root: 0).
  EXPECT_EQ(Series("{ nestedSetParent = -1 } | count_over_time()"), (V{"__name__=count_over_time,: 0:1 10:1 20:0"}));
  // Exemplars, compare() and math take the same spans.
  EXPECT_EQ(Exemplars("{ resource.service.name = \"frontend\" } >> { resource.service.name = \"payments\" } | "
                      "max_over_time(duration)",
                      100),
            (V{StrCat("__name__=max_over_time,:", Ex(kT1Hex, 2, 10, "0.05"))}));
  V status;
  for (const auto& line : Series("{ resource.service.name = \"frontend\" } >> { } | compare({ status = error })")) {
    if (line.find(",status=") != std::string::npos) status.push_back(line);
  }
  EXPECT_EQ(status, Sorted(V{"__meta_type=baseline,status=unset,: 0:1 10:1 20:0",
                             "__meta_type=baseline_total,status=nil,: 0:1 10:1 20:0",
                             "__meta_type=selection,status=error,: 0:1 10:0 20:0",
                             "__meta_type=selection_total,status=nil,: 0:1 10:0 20:0"}));
  EXPECT_EQ(Series("({ name = \"GET /checkout\" } >> { } | count_over_time()) / ({ } | count_over_time())"),
            (V{StrCat("__name__=(count_over_time / count_over_time),: 0:", 2.0 / 3, " 10:0 20:0")}));
}

// A wrapped pipeline as a spanset operand (T1's two payments spans, with
// its error span; T3 has one payments span): the spans of the result count.
TEST_F(MetricsTest, OverWrappedPipelines) {
  EXPECT_EQ(Series("({ resource.service.name = \"payments\" } | count() > 1) && { status = error } | "
                   "count_over_time()"),
            (V{"__name__=count_over_time,: 0:2 10:0 20:0"}));
}

}  // namespace
}  // namespace signaldb::querier
