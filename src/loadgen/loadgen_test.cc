#include "gtest/gtest.h"
#include "loadgen/generator.h"
#include "loadgen/sender.h"
#include "otlp/trace_decoder.h"
#include "schema/tables.h"

namespace signaldb::loadgen {
namespace {

TEST(GeneratorTest, DeterministicForASeedAndValid) {
  Generator a(Profile{}, 42), b(Profile{}, 42), c(Profile{}, 43);
  auto ta = a.Traces(1000), tb = b.Traces(1000), tc = c.Traces(1000);
  EXPECT_EQ(ta.SerializeAsString(), tb.SerializeAsString());
  EXPECT_NE(ta.SerializeAsString(), tc.SerializeAsString());
  int spans = 0;
  for (const auto& rs : ta.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) spans += ss.spans_size();
  }
  EXPECT_EQ(spans, 1000);
  columnar::Batch batch(&schema::Traces());
  auto r = otlp::DecodeTraces(ta, &batch);
  EXPECT_EQ(r.accepted, 1000u);
  EXPECT_EQ(r.rejected, 0u);
  EXPECT_GT(a.Logs(100).resource_logs_size(), 0);
  EXPECT_GT(a.Metrics(100).resource_metrics(0).scope_metrics(0).metrics_size(), 4);
}

TEST(SenderTest, JsonEncodingUsesHexIds) {
  Generator g(Profile{}, 1);
  auto req = g.Traces(1);
  std::string json = Encode(Transport::kHttpJson, req);
  std::string hex_trace;
  for (unsigned char c : req.resource_spans(0).scope_spans(0).spans(0).trace_id()) {
    static const char* d = "0123456789abcdef";
    hex_trace += d[c >> 4];
    hex_trace += d[c & 15];
  }
  EXPECT_NE(json.find("\"traceId\":\"" + hex_trace + "\""), std::string::npos) << json.substr(0, 300);
}

}  // namespace
}  // namespace signaldb::loadgen
