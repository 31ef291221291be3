// Logs and metrics decoding: every field lands in its column.
#include <cmath>

#include "gtest/gtest.h"
#include "otlp/logs_decoder.h"
#include "otlp/metrics_decoder.h"
#include "otlp/test_util.h"
#include "schema/tables.h"

namespace signaldb::otlp {
namespace {

namespace mpb = opentelemetry::proto::metrics::v1;
using columnar::Batch;

std::string Str(const Batch& b, const char* col, size_t row = 0) {
  return std::string(b.column(b.schema().IndexOf(col)).StringAt(row));
}
int64_t Int(const Batch& b, const char* col, size_t row = 0) { return b.column(b.schema().IndexOf(col)).ints[row]; }
double Dbl(const Batch& b, const char* col, size_t row = 0) { return b.column(b.schema().IndexOf(col)).doubles[row]; }
bool Valid(const Batch& b, const char* col, size_t row = 0) { return b.column(b.schema().IndexOf(col)).IsValid(row); }

TEST(LogsDecoderTest, EveryField) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  rl->set_schema_url("res-schema");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("logger");
  auto* rec = sl->add_log_records();
  rec->set_time_unix_nano(1700000000123456789ULL);
  rec->set_observed_time_unix_nano(1700000001000000000ULL);
  rec->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR);
  rec->set_severity_text("ERROR");
  rec->mutable_body()->mutable_kvlist_value()->add_values()->set_key("k");
  rec->set_trace_id(std::string(16, '\x01'));
  rec->set_span_id(std::string(8, '\x02'));
  rec->set_flags(1);
  rec->set_event_name("order.failed");
  rec->set_dropped_attributes_count(2);
  auto* bad = sl->add_log_records();
  bad->set_trace_id("short");
  auto* no_time = sl->add_log_records();
  no_time->set_observed_time_unix_nano(1700000002000000000ULL);

  Batch batch(&schema::Logs());
  auto r = DecodeLogs(req, &batch);
  EXPECT_EQ(r.accepted, 2u);
  EXPECT_EQ(r.rejected, 1u);
  ASSERT_TRUE(batch.Consistent());
  EXPECT_EQ(Int(batch, "time_unix_nano"), 1700000000123456789LL);
  EXPECT_EQ(Int(batch, "timestamp"), 1700000000123456LL);
  EXPECT_EQ(Int(batch, "severity_number"), 17);
  EXPECT_EQ(Str(batch, "body"), R"({"kvlistValue":{"values":[{"key":"k"}]}})");
  EXPECT_EQ(Str(batch, "trace_id"), "01010101010101010101010101010101");
  EXPECT_EQ(Str(batch, "event_name"), "order.failed");
  EXPECT_EQ(Str(batch, "service_name"), "unknown_service");
  EXPECT_EQ(Str(batch, "resource_schema_url"), "res-schema");
  // Without an event time, the observed time places the record.
  EXPECT_EQ(Int(batch, "timestamp", 1), 1700000002000000LL);
  EXPECT_FALSE(Valid(batch, "body", 1));
}

// The wire decoder (ingest path) agrees with the reference decoder, on a
// request using every field and on every truncation of it.
TEST(LogsWireDecoderTest, AgreesWithReferenceDecoder) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  for (int r = 0; r < 2; ++r) {
    auto* rl = req.add_resource_logs();
    rl->set_schema_url("res-schema");
    auto* svc = rl->mutable_resource()->add_attributes();
    svc->set_key("service.name");
    svc->mutable_value()->set_string_value("svc" + std::to_string(r));
    rl->mutable_resource()->set_dropped_attributes_count(1);
    auto* sl = rl->add_scope_logs();
    sl->set_schema_url("scope-schema");
    sl->mutable_scope()->set_name("logger");
    sl->mutable_scope()->set_version("2");
    auto* sa = sl->mutable_scope()->add_attributes();
    sa->set_key("k");
    sa->mutable_value()->set_double_value(1.5);
    for (int i = 0; i < 3; ++i) {
      auto* rec = sl->add_log_records();
      rec->set_time_unix_nano(i == 1 ? 0 : 1700000000000000000ULL + i);
      rec->set_observed_time_unix_nano(1700000000500000000ULL);
      rec->set_severity_number(static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(9 + i));
      rec->set_severity_text("INFO \"quoted\"");
      if (i == 0) rec->mutable_body()->set_string_value("hello\nworld");
      if (i == 1) {
        auto* kv = rec->mutable_body()->mutable_kvlist_value()->add_values();
        kv->set_key("nested");
        kv->mutable_value()->mutable_array_value()->add_values()->set_bytes_value(std::string("\x00\x01", 2));
      }
      auto* a = rec->add_attributes();
      a->set_key("n");
      a->mutable_value()->set_int_value(-i);
      rec->set_dropped_attributes_count(static_cast<uint32_t>(i));
      rec->set_flags(1);
      if (i != 2) rec->set_trace_id(std::string(16, static_cast<char>(i + 1)));
      if (i != 2) rec->set_span_id(std::string(8, static_cast<char>(i + 1)));
      rec->set_event_name(i == 0 ? "ev" : "");
    }
    sl->add_log_records()->set_trace_id("bad");  // rejected by both
  }
  ExpectWireAgreesWithReference(
      req, [] { return Batch(&schema::Logs()); },
      [](const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& r, Batch* out) {
        return DecodeLogs(r, out);
      },
      [](std::string_view b, Batch* out) { return DecodeLogsProto(b, out); }, 5);
}

opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest RichMetrics() {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto* sm = req.add_resource_metrics()->add_scope_metrics();
  auto* g = sm->add_metrics();
  g->set_name("temp");
  g->set_unit("Cel");
  auto* gp = g->mutable_gauge()->add_data_points();
  gp->set_as_double(std::nan(""));
  gp->set_time_unix_nano(1700000000000000000ULL);
  auto* ex = gp->add_exemplars();
  ex->set_as_int(7);
  ex->set_trace_id(std::string(16, '\x0a'));
  g->mutable_gauge()->add_data_points()->set_as_int(9007199254740993LL);
  auto* s = sm->add_metrics();
  s->set_name("requests");
  s->mutable_sum()->set_is_monotonic(true);
  s->mutable_sum()->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  s->mutable_sum()->add_data_points()->set_as_double(-HUGE_VAL);
  auto* h = sm->add_metrics();
  h->set_name("latency");
  auto* hp = h->mutable_histogram()->add_data_points();
  hp->set_count(3);
  hp->set_sum(1.5);
  hp->add_bucket_counts(1);
  hp->add_bucket_counts(2);
  hp->add_explicit_bounds(HUGE_VAL);
  auto* hbad = h->mutable_histogram()->add_data_points();
  hbad->add_bucket_counts(1);
  hbad->add_explicit_bounds(1);
  hbad->add_explicit_bounds(2);
  auto* e = sm->add_metrics();
  e->set_name("exp");
  auto* ep = e->mutable_exponential_histogram()->add_data_points();
  ep->set_scale(-2);
  ep->set_zero_count(4);
  ep->set_zero_threshold(0.001);
  ep->mutable_positive()->set_offset(-3);
  ep->mutable_positive()->add_bucket_counts(5);
  auto* q = sm->add_metrics();
  q->set_name("rpc");
  auto* qp = q->mutable_summary()->add_data_points();
  qp->set_count(10);
  qp->set_sum(100);
  auto* qv = qp->add_quantile_values();
  qv->set_quantile(0.99);
  qv->set_value(42);
  sm->add_metrics()->mutable_gauge()->add_data_points();  // no name: rejected

  // More fields for the wire decoder comparison.
  auto* rm = req.mutable_resource_metrics(0);
  rm->set_schema_url("res-schema");
  auto* kv = rm->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("meter-svc");
  sm->mutable_scope()->set_name("meter");
  sm->mutable_scope()->set_version("3");
  sm->set_schema_url("scope-schema");
  g->set_description("temperature");
  auto* md = g->add_metadata();
  md->set_key("origin");
  md->mutable_value()->set_string_value("sensor");
  ex->set_span_id(std::string(8, '\x0b'));
  ex->set_time_unix_nano(5);
  auto* fa = ex->add_filtered_attributes();
  fa->set_key("f");
  fa->mutable_value()->set_bool_value(true);
  auto* ex2 = gp->add_exemplars();
  ex2->set_as_double(-0.5);
  hp->set_min(0.25);
  hp->set_max(HUGE_VAL);
  hp->set_start_time_unix_nano(1699999999000000000ULL);
  hp->set_flags(1);
  auto* hattr = hp->add_attributes();
  hattr->set_key("route");
  hattr->mutable_value()->set_string_value("/a");
  ep->mutable_negative()->set_offset(4);
  ep->mutable_negative()->add_bucket_counts(7);
  ep->mutable_negative()->add_bucket_counts(8);
  ep->set_min(-1);
  ep->set_count(12);
  auto* bad_ex = s->mutable_sum()->add_data_points()->add_exemplars();
  bad_ex->set_trace_id("xyz");  // malformed: that point is rejected
  return req;
}

TEST(MetricsDecoderTest, EveryKindAndNonFiniteValues) {
  auto req = RichMetrics();
  std::vector<Batch> batches;
  for (const auto* sch : {&schema::MetricsGauge(), &schema::MetricsSum(), &schema::MetricsHistogram(),
                          &schema::MetricsExponentialHistogram(), &schema::MetricsSummary()}) {
    batches.emplace_back(sch);
  }
  auto r = DecodeMetrics(req, &batches);
  EXPECT_EQ(r.accepted, 6u);
  EXPECT_EQ(r.rejected, 3u);
  for (const auto& b : batches) EXPECT_TRUE(b.Consistent()) << b.schema().table;
  const auto& gauge = batches[kGauge];
  ASSERT_EQ(gauge.num_rows(), 2u);
  EXPECT_TRUE(std::isnan(Dbl(gauge, "value")));
  EXPECT_FALSE(Valid(gauge, "value_int"));
  EXPECT_EQ(Int(gauge, "value_int", 1), 9007199254740993LL);
  EXPECT_EQ(Str(gauge, "exemplars"),
            R"([{"timeUnixNano":"5","asInt":"7","traceId":"0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a",)"
            R"("spanId":"0b0b0b0b0b0b0b0b","filteredAttributes":[{"key":"f","value":{"boolValue":true}}]},)"
            R"({"timeUnixNano":"0","asDouble":-0.5}])");
  EXPECT_EQ(Str(gauge, "metric_unit"), "Cel");
  const auto& sum = batches[kSum];
  EXPECT_TRUE(std::isinf(Dbl(sum, "value")));
  EXPECT_EQ(Int(sum, "aggregation_temporality"), 2);
  EXPECT_EQ(Int(sum, "is_monotonic"), 1);
  const auto& hist = batches[kHistogram];
  ASSERT_EQ(hist.num_rows(), 1u);
  EXPECT_EQ(Str(hist, "bucket_counts"), "[1,2]");
  EXPECT_EQ(Str(hist, "explicit_bounds"), R"(["Infinity"])");
  EXPECT_EQ(Dbl(hist, "min"), 0.25);
  const auto& exp = batches[kExponentialHistogram];
  EXPECT_EQ(Int(exp, "scale"), -2);
  EXPECT_EQ(Int(exp, "positive_offset"), -3);
  EXPECT_EQ(Str(exp, "positive_bucket_counts"), "[5]");
  EXPECT_EQ(Str(exp, "negative_bucket_counts"), "[7,8]");
  EXPECT_EQ(Int(exp, "negative_offset"), 4);
  EXPECT_EQ(Str(batches[kSummary], "quantile_values"), R"([{"quantile":0.99,"value":42}])");
}

}  // namespace
}  // namespace signaldb::otlp

namespace signaldb::otlp {
namespace {

std::vector<Batch> MetricBatches() {
  std::vector<Batch> batches;
  for (const auto* sch : {&schema::MetricsGauge(), &schema::MetricsSum(), &schema::MetricsHistogram(),
                          &schema::MetricsExponentialHistogram(), &schema::MetricsSummary()}) {
    batches.emplace_back(sch);
  }
  return batches;
}

TEST(MetricsWireDecoderTest, AgreesWithReferenceDecoder) {
  ExpectWireAgreesWithReference(
      RichMetrics(), MetricBatches,
      [](const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& r,
         std::vector<Batch>* out) { return DecodeMetrics(r, out); },
      [](std::string_view b, std::vector<Batch>* out) { return DecodeMetricsProto(b, out); }, 3);
}

}  // namespace
}  // namespace signaldb::otlp
