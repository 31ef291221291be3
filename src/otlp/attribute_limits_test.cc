// Attribute limits in the wire decoders: truncate and reject for every
// signal's attribute lists and for resources and scopes, and nothing changed
// when nothing is over a limit.
#include "otlp/attribute_limits.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "otlp/logs_decoder.h"
#include "otlp/metrics_decoder.h"
#include "otlp/otlp_json.h"
#include "otlp/test_util.h"
#include "otlp/trace_decoder.h"
#include "schema/tables.h"

namespace signaldb::otlp {
namespace {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::trace::v1::Span;
using ::testing::HasSubstr;

constexpr AttributeLimits kTruncate{.max_attributes = 3, .max_value_length = 8, .reject = false};
constexpr AttributeLimits kReject{.max_attributes = 3, .max_value_length = 8, .reject = true};

void AddString(pb::KeyValues* kvs, const std::string& key, const std::string& value) {
  auto* kv = kvs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}
void AddInts(pb::KeyValues* kvs, int n) {
  for (int i = 0; i < n; ++i) {
    auto* kv = kvs->Add();
    kv->set_key("k" + std::to_string(i));
    kv->mutable_value()->set_int_value(i);
  }
}
std::vector<std::string> Keys(const pb::KeyValues& kvs) {
  std::vector<std::string> out;
  for (const auto& kv : kvs) out.push_back(kv.key());
  return out;
}
pb::KeyValues ParseKvs(std::string_view json) {
  pb::KeyValues kvs;
  EXPECT_TRUE(ParseKeyValuesJson(json, &kvs).ok()) << json;
  return kvs;
}
Span* AddSpan(opentelemetry::proto::trace::v1::ScopeSpans* ss, int i) {
  auto* s = ss->add_spans();
  s->set_trace_id(std::string(16, '\x01'));
  s->set_span_id(std::string(8, static_cast<char>(i + 1)));
  s->set_name("op" + std::to_string(i));
  return s;
}
std::string StringAt(const columnar::Batch& b, const char* col, size_t row = 0) {
  return std::string(b.column(static_cast<size_t>(b.schema().IndexOf(col))).StringAt(row));
}
int64_t IntAt(const columnar::Batch& b, const char* col, size_t row = 0) {
  return b.column(static_cast<size_t>(b.schema().IndexOf(col))).ints[row];
}

TEST(CutUtf8Test, CutsAtCharacterBoundaries) {
  EXPECT_EQ(CutUtf8("abc", 5), "abc");
  EXPECT_EQ(CutUtf8("abcdef", 3), "abc");
  // "é" is two bytes, "€" three: a cut inside either backs off before it.
  EXPECT_EQ(CutUtf8("a\xc3\xa9z", 2), "a");
  EXPECT_EQ(CutUtf8("a\xc3\xa9z", 3), "a\xc3\xa9");
  EXPECT_EQ(CutUtf8("\xe2\x82\xac\xe2\x82\xac", 5), "\xe2\x82\xac");
  EXPECT_EQ(CutUtf8("\xe2\x82\xac", 2), "");
}

TEST(AttributeLimitsTest, TruncatesSpanAttributesEventsAndLinks) {
  ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  Span* span = AddSpan(ss, 0);
  AddString(span->mutable_attributes(), "long",
            "a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9z");  // 10 bytes: cut to 7
  AddString(span->mutable_attributes(), "a-key-longer-than-eight", "v");
  AddInts(span->mutable_attributes(), 3);  // 5 attributes: two dropped
  auto* bytes = span->add_attributes();
  bytes->set_key("late");
  bytes->mutable_value()->set_bytes_value("dropped anyway");
  span->set_dropped_attributes_count(1);
  auto* ev = span->add_events();
  ev->set_name("ev");
  AddInts(ev->mutable_attributes(), 5);
  auto* arr = ev->mutable_attributes(0)->mutable_value()->mutable_array_value();
  arr->add_values()->set_string_value("nested string too long");
  auto* link = span->add_links();
  link->set_trace_id(std::string(16, '\x02'));
  link->set_span_id(std::string(8, '\x03'));
  AddInts(link->mutable_attributes(), 4);
  link->set_dropped_attributes_count(2);
  AddSpan(ss, 1);  // within the limits

  columnar::Batch b(&schema::Traces());
  auto r = DecodeTracesProto(req.SerializeAsString(), &b, &kTruncate);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->accepted, 2u);
  EXPECT_EQ(r->rejected, 0u);
  EXPECT_EQ(r->truncated, 1u);
  EXPECT_TRUE(r->limited());
  EXPECT_THAT(r->truncation, HasSubstr("1 spans stored truncated"));
  EXPECT_THAT(r->truncation, HasSubstr("max_attributes_per_record (3)"));
  EXPECT_THAT(r->truncation, HasSubstr("max_attribute_value_length (8 bytes)"));
  ASSERT_EQ(b.num_rows(), 2u);
  const auto& strs = b.column(schema::kSpanAttributesString);
  ASSERT_EQ(strs.entry_offsets[1], 2u);
  EXPECT_EQ(strs.MapKeys().StringAt(0), "long");
  EXPECT_EQ(strs.MapValues().StringAt(0), "a\xc3\xa9\xc3\xa9\xc3\xa9");
  EXPECT_EQ(strs.MapKeys().StringAt(1), "a-key-lo");
  EXPECT_EQ(strs.MapValues().StringAt(1), "v");
  const auto& ints = b.column(schema::kSpanAttributesInt);
  ASSERT_EQ(ints.entry_offsets[1], 1u);
  EXPECT_EQ(ints.MapKeys().StringAt(0), "k0");
  EXPECT_EQ(b.column(schema::kSpanAttributesOther).StringAt(0), "[]");
  EXPECT_EQ(b.column(schema::kDroppedAttributesCount).ints[0], 1 + 3);  // sent + k1, k2, late

  Span decoded;
  ASSERT_TRUE(
      ParseEventsJson(b.column(schema::kEvents).StringAt(0), decoded.mutable_events()).ok());
  EXPECT_EQ(Keys(decoded.events(0).attributes()), (std::vector<std::string>{"k0", "k1", "k2"}));
  EXPECT_EQ(decoded.events(0).dropped_attributes_count(), 2u);
  EXPECT_EQ(decoded.events(0).attributes(0).value().array_value().values(0).string_value(),
            "nested s");
  ASSERT_TRUE(ParseLinksJson(b.column(schema::kLinks).StringAt(0), decoded.mutable_links()).ok());
  EXPECT_EQ(decoded.links(0).attributes_size(), 3);
  EXPECT_EQ(decoded.links(0).dropped_attributes_count(), 3u);  // 2 sent + 1
  // The span within the limits is untouched.
  EXPECT_EQ(b.column(schema::kDroppedAttributesCount).ints[1], 0);
}

TEST(AttributeLimitsTest, RejectsSpansOverALimitInAnyList) {
  ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  AddInts(AddSpan(ss, 0)->mutable_attributes(), 4);                   // count
  AddString(AddSpan(ss, 1)->mutable_attributes(), "k", "nine byte");  // length
  AddInts(AddSpan(ss, 2)->add_events()->mutable_attributes(), 4);     // event
  auto* link = AddSpan(ss, 3)->add_links();
  link->set_trace_id(std::string(16, '\x02'));
  link->set_span_id(std::string(8, '\x03'));
  AddString(link->mutable_attributes(), "long-link-key", "v");       // link key
  AddInts(AddSpan(ss, 4)->mutable_attributes(), 3);                  // at the limit: kept
  AddString(AddSpan(ss, 5)->mutable_attributes(), "k", "8 bytes!");  // at the limit: kept

  columnar::Batch b(&schema::Traces());
  auto r = DecodeTracesProto(req.SerializeAsString(), &b, &kReject);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->accepted, 2u);
  EXPECT_EQ(r->rejected, 4u);
  EXPECT_EQ(r->limit_rejected, 4u);
  EXPECT_EQ(r->truncated, 0u);
  EXPECT_TRUE(r->truncation.empty());
  EXPECT_EQ(r->first_error, "span has 4 attributes, over max_attributes_per_record (3)");
  ASSERT_EQ(b.num_rows(), 2u);
  ASSERT_TRUE(b.Consistent());
  EXPECT_EQ(b.column(schema::kSpanName).StringAt(0), "op4");
  EXPECT_EQ(b.column(schema::kSpanName).StringAt(1), "op5");

  // Each kind of finding names its list and limit.
  auto first_error = [&](int span) {
    ExportTraceServiceRequest one;
    *one.add_resource_spans()->add_scope_spans()->add_spans() = ss->spans(span);
    columnar::Batch out(&schema::Traces());
    return DecodeTracesProto(one.SerializeAsString(), &out, &kReject)->first_error;
  };
  EXPECT_EQ(first_error(1),
            "span attribute 'k' has a value of 9 bytes, over max_attribute_value_length (8)");
  EXPECT_EQ(first_error(2), "span event has 4 attributes, over max_attributes_per_record (3)");
  EXPECT_EQ(first_error(3),
            "span link attribute 'long-link-key' has a key of 13 bytes, over "
            "max_attribute_value_length (8)");
}

TEST(AttributeLimitsTest, ResourceAndScopeOverALimit) {
  // Long enough for the key service.name (keys are cut too).
  const AttributeLimits truncate{.max_attributes = 3, .max_value_length = 12};
  const AttributeLimits reject{.max_attributes = 3, .max_value_length = 12, .reject = true};
  ExportTraceServiceRequest req;
  auto* big = req.add_resource_spans();
  AddString(big->mutable_resource()->mutable_attributes(), "service.name", "checkout-service");
  AddInts(big->mutable_resource()->mutable_attributes(), 3);
  big->mutable_resource()->set_dropped_attributes_count(5);
  auto* ss = big->add_scope_spans();
  AddSpan(ss, 0);
  AddSpan(ss, 1);
  auto* other = req.add_resource_spans();
  auto* scoped = other->add_scope_spans();
  AddInts(scoped->mutable_scope()->mutable_attributes(), 4);
  AddSpan(scoped, 2);
  AddSpan(other->add_scope_spans(), 3);  // a sibling scope within the limits

  {
    columnar::Batch b(&schema::Traces());
    auto r = DecodeTracesProto(req.SerializeAsString(), &b, &truncate);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->accepted, 4u);
    EXPECT_EQ(r->truncated, 3u);  // every span under the cut resource and scope
    ASSERT_EQ(b.num_rows(), 4u);
    auto res = ParseKvs(b.column(schema::kResourceAttributes).StringAt(0));
    EXPECT_EQ(Keys(res), (std::vector<std::string>{"service.name", "k0", "k1"}));
    EXPECT_EQ(res[0].value().string_value(), "checkout-ser");
    // service_name follows the stored attribute.
    EXPECT_EQ(b.column(schema::kServiceName).StringAt(0), "checkout-ser");
    EXPECT_EQ(b.column(schema::kResourceDroppedAttributesCount).ints[0], 5 + 1);
    EXPECT_EQ(ParseKvs(b.column(schema::kScopeAttributes).StringAt(2)).size(), 3);
    EXPECT_EQ(IntAt(b, "scope_dropped_attributes_count", 2), 1);
    EXPECT_EQ(ParseKvs(b.column(schema::kScopeAttributes).StringAt(3)).size(), 0);
  }
  {
    columnar::Batch b(&schema::Traces());
    auto r = DecodeTracesProto(req.SerializeAsString(), &b, &reject);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->accepted, 1u);
    EXPECT_EQ(r->rejected, 3u);
    EXPECT_EQ(r->first_error,
              "resource has 4 attributes, over max_attributes_per_record (3); every span under it "
              "is rejected");
    ASSERT_EQ(b.num_rows(), 1u);
    EXPECT_EQ(b.column(schema::kSpanName).StringAt(0), "op3");
  }
}

TEST(AttributeLimitsTest, RepeatedKeysAfterCuttingAreRepeats) {
  ExportTraceServiceRequest req;
  Span* span = AddSpan(req.add_resource_spans()->add_scope_spans(), 0);
  AddString(span->mutable_attributes(), "prefix-12-a", "x");
  AddString(span->mutable_attributes(), "prefix-12-b", "y");  // "prefix-1" again once cut
  columnar::Batch b(&schema::Traces());
  AttributeLimits limits{.max_attributes = 0, .max_value_length = 8};
  auto r = DecodeTracesProto(req.SerializeAsString(), &b, &limits);
  ASSERT_TRUE(r.ok());
  const auto& strs = b.column(schema::kSpanAttributesString);
  ASSERT_EQ(strs.entry_offsets[1], 1u);
  EXPECT_EQ(strs.MapKeys().StringAt(0), "prefix-1");
  EXPECT_EQ(strs.MapValues().StringAt(0), "x");
  EXPECT_EQ(b.column(schema::kDroppedAttributesCount).ints[0], 1);
}

// A key cut into a repeat of an earlier key was still over the length limit:
// noted (the record rejected under "reject", reported as truncated otherwise).
TEST(AttributeLimitsTest, AKeyCutIntoARepeatStillCounts) {
  ExportTraceServiceRequest req;
  Span* span = AddSpan(req.add_resource_spans()->add_scope_spans(), 0);
  AddString(span->mutable_attributes(), "abcd", "1");
  AddString(span->mutable_attributes(), "abcdE", "2");  // "abcd" once cut
  AttributeLimits reject{.max_attributes = 0, .max_value_length = 4, .reject = true};
  columnar::Batch rejected(&schema::Traces());
  auto r = DecodeTracesProto(req.SerializeAsString(), &rejected, &reject);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rejected, 1u);
  EXPECT_EQ(rejected.num_rows(), 0u);
  AttributeLimits truncate{.max_attributes = 0, .max_value_length = 4, .reject = false};
  columnar::Batch truncated(&schema::Traces());
  r = DecodeTracesProto(req.SerializeAsString(), &truncated, &truncate);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->truncated, 1u);  // so the WAL records the limits it was stored under
  EXPECT_EQ(truncated.num_rows(), 1u);
}

TEST(AttributeLimitsTest, LogRecords) {
  ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  auto* sl = rl->add_scope_logs();
  auto* over = sl->add_log_records();
  AddInts(over->mutable_attributes(), 2);
  AddString(over->mutable_attributes(), "msg", "a long message");
  AddInts(over->mutable_attributes(), 1);
  over->set_dropped_attributes_count(2);
  over->mutable_body()->set_string_value("bodies are not attributes");
  auto* fine = sl->add_log_records();
  AddInts(fine->mutable_attributes(), 3);

  {
    columnar::Batch b(&schema::Logs());
    auto r = DecodeLogsProto(req.SerializeAsString(), &b, &kTruncate);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->accepted, 2u);
    EXPECT_EQ(r->truncated, 1u);
    EXPECT_THAT(r->truncation, HasSubstr("1 log records stored truncated"));
    auto attrs = ParseKvs(StringAt(b, "log_attributes"));
    EXPECT_EQ(Keys(attrs), (std::vector<std::string>{"k0", "k1", "msg"}));
    EXPECT_EQ(attrs[2].value().string_value(), "a long m");
    EXPECT_EQ(IntAt(b, "dropped_attributes_count"), 3);
    EXPECT_EQ(StringAt(b, "body"), R"({"stringValue":"bodies are not attributes"})");
    EXPECT_EQ(ParseKvs(StringAt(b, "log_attributes", 1)).size(), 3);
  }
  {
    columnar::Batch b(&schema::Logs());
    auto r = DecodeLogsProto(req.SerializeAsString(), &b, &kReject);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->accepted, 1u);
    EXPECT_EQ(r->rejected, 1u);
    EXPECT_EQ(r->first_error, "log record has 4 attributes, over max_attributes_per_record (3)");
    ASSERT_EQ(b.num_rows(), 1u);
    ASSERT_TRUE(b.Consistent());
  }
  {
    // A resource over a limit rejects all its records.
    AddString(rl->mutable_resource()->mutable_attributes(), "host", "a-very-long-host-name");
    columnar::Batch b(&schema::Logs());
    auto r = DecodeLogsProto(req.SerializeAsString(), &b, &kReject);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->accepted, 0u);
    EXPECT_EQ(r->rejected, 2u);
    EXPECT_THAT(r->first_error, HasSubstr("every log record under it is rejected"));
  }
}

TEST(AttributeLimitsTest, MetricDataPointsAndExemplars) {
  ExportMetricsServiceRequest req;
  auto* sm = req.add_resource_metrics()->add_scope_metrics();
  auto* gauge = sm->add_metrics();
  gauge->set_name("g");
  auto* over = gauge->mutable_gauge()->add_data_points();
  over->set_as_double(1);
  AddInts(over->mutable_attributes(), 5);
  auto* fine = gauge->mutable_gauge()->add_data_points();
  fine->set_as_double(2);
  AddInts(fine->mutable_attributes(), 1);
  auto* hist = sm->add_metrics();
  hist->set_name("h");
  auto* hp = hist->mutable_histogram()->add_data_points();
  hp->set_count(1);
  auto* ex = hp->add_exemplars();
  ex->set_as_double(3);
  AddString(ex->mutable_filtered_attributes(), "user", "someone@example.com");
  auto* summary = sm->add_metrics();
  summary->set_name("s");
  AddString(summary->mutable_summary()->add_data_points()->mutable_attributes(), "path",
            "/a/very/long/path");

  auto make = [] {
    std::vector<columnar::Batch> out;
    for (const auto* s :
         {&schema::MetricsGauge(), &schema::MetricsSum(), &schema::MetricsHistogram(),
          &schema::MetricsExponentialHistogram(), &schema::MetricsSummary()}) {
      out.emplace_back(s);
    }
    return out;
  };
  {
    auto b = make();
    auto r = DecodeMetricsProto(req.SerializeAsString(), &b, &kTruncate);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->accepted, 4u);
    EXPECT_EQ(r->truncated, 3u);
    EXPECT_THAT(r->truncation, HasSubstr("3 data points stored truncated"));
    EXPECT_EQ(ParseKvs(StringAt(b[kGauge], "attributes")).size(), 3);
    EXPECT_EQ(ParseKvs(StringAt(b[kGauge], "attributes", 1)).size(), 1);
    EXPECT_THAT(StringAt(b[kHistogram], "exemplars"), HasSubstr(R"("stringValue":"someone@")"));
    EXPECT_EQ(ParseKvs(StringAt(b[kSummary], "attributes"))[0].value().string_value(), "/a/very/");
  }
  {
    auto b = make();
    auto r = DecodeMetricsProto(req.SerializeAsString(), &b, &kReject);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->accepted, 1u);
    EXPECT_EQ(r->rejected, 3u);
    EXPECT_EQ(r->first_error, "data point has 5 attributes, over max_attributes_per_record (3)");
    EXPECT_EQ(b[kGauge].num_rows(), 1u);
    EXPECT_EQ(b[kHistogram].num_rows(), 0u);
    EXPECT_EQ(b[kSummary].num_rows(), 0u);
    for (const auto& batch : b) EXPECT_TRUE(batch.Consistent());
  }
}

// Limits of 0 (or none met) change nothing: the rows are those decoded
// without limits, and the result says the limits did not apply.
TEST(AttributeLimitsTest, NoLimitOrNoneExceededChangesNothing) {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  AddInts(rs->mutable_resource()->mutable_attributes(), 50);
  Span* span = AddSpan(rs->add_scope_spans(), 0);
  AddInts(span->mutable_attributes(), 2000);
  AddString(span->mutable_attributes(), "big", std::string(100000, 'x'));
  AddInts(span->add_events()->mutable_attributes(), 70);
  const std::string bytes = req.SerializeAsString();
  columnar::Batch want(&schema::Traces());
  ASSERT_TRUE(DecodeTracesProto(bytes, &want).ok());
  for (AttributeLimits limits :
       {AttributeLimits{}, AttributeLimits{.reject = true},
        AttributeLimits{.max_attributes = 2001, .max_value_length = 100000, .reject = true}}) {
    columnar::Batch got(&schema::Traces());
    auto r = DecodeTracesProto(bytes, &got, &limits);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->limited());
    EXPECT_EQ(r->accepted, 1u);
    std::string diff;
    EXPECT_TRUE(SameBatches(want, got, &diff)) << diff;
  }
}

// Whether a request is malformed does not depend on the limits: attributes
// dropped by the count limit are still checked.
TEST(AttributeLimitsTest, MalformedRequestsFailUnderLimitsToo) {
  ExportTraceServiceRequest req;
  Span* span = AddSpan(req.add_resource_spans()->add_scope_spans(), 0);
  AddInts(span->mutable_attributes(), 3);
  auto* arr = span->add_attributes();
  arr->set_key("arr");
  arr->mutable_value()->mutable_array_value()->add_values()->set_string_value("text");
  AddInts(span->add_events()->mutable_attributes(), 5);
  const std::string bytes = req.SerializeAsString();
  const AttributeLimits one{.max_attributes = 1, .max_value_length = 2};
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    columnar::Batch a(&schema::Traces()), b(&schema::Traces());
    EXPECT_EQ(DecodeTracesProto(bytes.substr(0, cut), &a).ok(),
              DecodeTracesProto(bytes.substr(0, cut), &b, &one).ok())
        << "cut " << cut;
  }
  // Invalid UTF-8 inside an attribute beyond the count limit.
  std::string bad = bytes;
  const size_t at = bad.find("text");
  ASSERT_NE(at, std::string::npos);
  bad[at] = '\xff';
  columnar::Batch c(&schema::Traces());
  EXPECT_FALSE(DecodeTracesProto(bad, &c, &one).ok());
}

}  // namespace
}  // namespace signaldb::otlp
