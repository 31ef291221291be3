// The decoders fill every column schemas.toml declares as computed exactly as
// its expression says (micros, day, hour_of_day of its source column), for
// every table, so the file and the decoders cannot drift apart.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "otlp/logs_decoder.h"
#include "otlp/metrics_decoder.h"
#include "otlp/trace_decoder.h"
#include "schema/tables.h"

namespace signaldb::otlp {
namespace {

using columnar::Batch;

// Times spread over days and hours, with sub-microsecond parts.
std::vector<uint64_t> Times() {
  std::vector<uint64_t> out;
  for (uint64_t i = 0; i < 30; ++i) out.push_back(1700000000123456789ULL + i * 7919ULL * 1000000000ULL + i * 999);
  return out;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t Apply(schema::Transform t, int64_t v) {
  constexpr int64_t kDay = 86400LL * 1000000, kHour = 3600LL * 1000000;
  switch (t) {
    case schema::Transform::kMicros: return FloorDiv(v, 1000);
    case schema::Transform::kDay: return FloorDiv(v, kDay);
    case schema::Transform::kHourOfDay: return FloorDiv(v, kHour) - FloorDiv(v, kDay) * 24;
  }
  return 0;
}

// Checks every computed column of `b` against its definition; returns how many were checked.
int CheckComputed(const Batch& b) {
  const schema::TableVersion* v = schema::CompiledSchemas().Current(b.schema().table);
  EXPECT_NE(v, nullptr) << b.schema().table;
  if (v == nullptr) return 0;
  EXPECT_GT(b.num_rows(), 0u) << b.schema().table;
  int checked = 0;
  for (size_t c = 0; c < v->fields.size(); ++c) {
    const auto& f = v->fields[c];
    if (!f.computed) continue;
    ++checked;
    const auto& out = b.column(c);
    const auto& in = b.column(static_cast<size_t>(b.schema().IndexOf(f.computed->source)));
    for (size_t r = 0; r < b.num_rows(); ++r) {
      if (!out.IsValid(r) || !in.IsValid(r)) {
        ADD_FAILURE() << b.schema().table << "." << f.name << " row " << r << " is null";
        continue;
      }
      EXPECT_EQ(out.ints[r], Apply(f.computed->transform, in.ints[r]))
          << b.schema().table << "." << f.name << " row " << r;
    }
  }
  return checked;
}

TEST(ComputedColumnsTest, Traces) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  int i = 0;
  for (uint64_t t : Times()) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(15, '\1') + static_cast<char>(i + 1));
    s->set_span_id(std::string(7, '\2') + static_cast<char>(++i));
    s->set_name("op");
    s->set_start_time_unix_nano(t);
    s->set_end_time_unix_nano(t + 5);
  }
  Batch batch(&schema::Traces());
  auto r = DecodeTracesProto(req.SerializeAsString(), &batch);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CheckComputed(batch), 3);
}

TEST(ComputedColumnsTest, Logs) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  for (uint64_t t : Times()) sl->add_log_records()->set_time_unix_nano(t);
  sl->add_log_records()->set_observed_time_unix_nano(Times().back());  // timestamp from the observed time
  Batch batch(&schema::Logs());
  auto r = DecodeLogsProto(req.SerializeAsString(), &batch);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CheckComputed(batch), 2);
}

TEST(ComputedColumnsTest, Metrics) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto* sm = req.add_resource_metrics()->add_scope_metrics();
  auto* gauge = sm->add_metrics();
  gauge->set_name("g");
  auto* sum = sm->add_metrics();
  sum->set_name("s");
  auto* hist = sm->add_metrics();
  hist->set_name("h");
  auto* exp = sm->add_metrics();
  exp->set_name("e");
  auto* summary = sm->add_metrics();
  summary->set_name("q");
  for (uint64_t t : Times()) {
    gauge->mutable_gauge()->add_data_points()->set_time_unix_nano(t);
    sum->mutable_sum()->add_data_points()->set_time_unix_nano(t);
    hist->mutable_histogram()->add_data_points()->set_time_unix_nano(t);
    exp->mutable_exponential_histogram()->add_data_points()->set_time_unix_nano(t);
    summary->mutable_summary()->add_data_points()->set_time_unix_nano(t);
  }
  std::vector<Batch> batches;
  for (const auto* s : {&schema::MetricsGauge(), &schema::MetricsSum(), &schema::MetricsHistogram(),
                        &schema::MetricsExponentialHistogram(), &schema::MetricsSummary()}) {
    batches.emplace_back(s);
  }
  auto r = DecodeMetricsProto(req.SerializeAsString(), &batches);
  ASSERT_TRUE(r.ok()) << r.status();
  for (const auto& b : batches) EXPECT_EQ(CheckComputed(b), 3) << b.schema().table;
}

}  // namespace
}  // namespace signaldb::otlp
