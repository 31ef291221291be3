#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cmath>
#include <cstring>

#include "acceptor/decompress.h"
#include "acceptor/otlp_json_wire.h"
#include "acceptor/remote_write.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loadgen/generator.h"
#include "loadgen/sender.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "prometheus/remote.pb.h"

namespace signaldb::acceptor {
namespace {

using ::testing::HasSubstr;

std::string Deflate(const std::string& in, int window_bits) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

TEST(DecompressTest, EveryEncodingRoundTrips) {
  std::string text(10000, 'a');
  text += "tail";
  EXPECT_EQ(*Decompress("gzip", Deflate(text, 15 + 16), 1 << 20), text);
  EXPECT_EQ(*Decompress("deflate", Deflate(text, 15), 1 << 20), text);
  EXPECT_EQ(*Decompress("deflate", Deflate(text, -15), 1 << 20), text);  // raw deflate too
  EXPECT_EQ(*Decompress("zstd", Zstd(text), 1 << 20), text);
  std::string snappy;
  snappy::Compress(text.data(), text.size(), &snappy);
  EXPECT_EQ(*Decompress("snappy", snappy, 1 << 20), text);
  EXPECT_EQ(*Decompress("", text, 1 << 20), text);
  EXPECT_EQ(*Decompress("identity", text, 1 << 20), text);
}

TEST(DecompressTest, BombsAreCutAtTheLimit) {
  std::string huge(50 << 20, '\0');  // 50 MiB of zeros compress to a few KiB
  for (const auto& [enc, body] : std::vector<std::pair<std::string, std::string>>{
           {"gzip", Deflate(huge, 15 + 16)}, {"deflate", Deflate(huge, 15)}, {"zstd", Zstd(huge)}}) {
    EXPECT_LT(body.size(), 200u << 10) << enc;
    auto r = Decompress(enc, body, 1 << 20);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange) << enc;
  }
  std::string snappy;
  snappy::Compress(huge.data(), huge.size(), &snappy);
  EXPECT_EQ(SnappyUncompress(snappy, 1 << 20).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(DecompressTest, CorruptAndUnknown) {
  EXPECT_EQ(Decompress("gzip", "not gzip at all", 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
  std::string gz = Deflate("hello world hello world", 15 + 16);
  EXPECT_EQ(Decompress("gzip", gz.substr(0, gz.size() / 2), 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string zs = Zstd(std::string(1000, 'x'));
  EXPECT_EQ(Decompress("zstd", zs.substr(0, zs.size() - 3), 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("zstd", "garbage!", 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("br", "x", 1 << 20).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(SnappyUncompress("\xff\xff\xff\xff\xff", 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(OtlpJsonTest, HexIdsIntegerEnumsStringOrNumberInt64sUnknownFields) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  auto st = ParseOtlpJson(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{
      "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","parentSpanId":"",
      "name":"x","kind":2,"startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000",
      "links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b173"}],
      "someFutureField":{"a":1}}]}]}],"extra":true})",
                          &req);
  ASSERT_TRUE(st.ok()) << st;
  const auto& span = req.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(span.trace_id().size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(span.trace_id()[0]), 0x5b);
  EXPECT_EQ(span.span_id().size(), 8u);
  EXPECT_EQ(span.kind(), 2);
  EXPECT_EQ(span.start_time_unix_nano(), 1544712660000000000ULL);
  EXPECT_EQ(span.end_time_unix_nano(), 1544712661000000000ULL);
  EXPECT_EQ(span.links(0).span_id().size(), 8u);
}

TEST(OtlpJsonTest, RejectsMalformedInput) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  EXPECT_THAT(ParseOtlpJson("{", &req).message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(ParseOtlpJson("[]", &req).message(), HasSubstr("JSON object"));
  EXPECT_THAT(ParseOtlpJson(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]})", &req).message(),
              HasSubstr("not hex"));
  EXPECT_FALSE(ParseOtlpJson(R"({"resourceSpans":"nope"})", &req).ok());
  EXPECT_FALSE(
      ParseOtlpJson(R"({"resourceSpans":)" + std::string(5000, '[') + std::string(5000, ']') + "}", &req).ok());
  // Deep nesting, in an unknown field or in values the schema allows to nest
  // (kvlist inside kvlist), is refused before the parser recurses far.
  std::string deep = R"({"unknown":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_THAT(ParseOtlpJson(deep, &req).message(), HasSubstr("nesting"));
  std::string kvlists = R"({"resourceSpans":[{"resource":{"attributes":[)";
  for (int i = 0; i < 60; ++i) kvlists += R"({"key":"k","value":{"kvlistValue":{"values":[)";
  EXPECT_THAT(ParseOtlpJson(kvlists, &req).message(), HasSubstr("nesting"));
  // Within the limit the same shape parses.
  std::string shallow = R"({"resourceSpans":[{"resource":{"attributes":[)";
  for (int i = 0; i < 10; ++i) shallow += R"({"key":"k","value":{"kvlistValue":{"values":[)";
  for (int i = 0; i < 10; ++i) shallow += "]}}}";
  shallow += "]}}]}";
  EXPECT_TRUE(ParseOtlpJson(shallow, &req).ok()) << ParseOtlpJson(shallow, &req);
}

// Realistic requests of every signal as OTLP JSON (hex ids, int64s as
// strings, enums as integers) come back as the very same messages.
TEST(OtlpJsonTest, GeneratedRequestsOfEverySignalRoundTrip) {
  loadgen::Generator gen(loadgen::Profile{}, 7);
  auto check = [](const google::protobuf::Message& original, google::protobuf::Message* parsed) {
    const std::string json = loadgen::Encode(loadgen::Transport::kHttpJson, original);
    std::string wire;
    ASSERT_TRUE(OtlpJsonToWire(json, original.GetDescriptor(), &wire).ok());
    ASSERT_TRUE(parsed->ParseFromString(wire));
    EXPECT_EQ(parsed->SerializeAsString(), original.SerializeAsString()) << original.GetDescriptor()->name();
  };
  for (int i = 0; i < 3; ++i) {
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest traces;
    check(gen.Traces(500), &traces);
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest logs;
    check(gen.Logs(500), &logs);
    opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest metrics;
    check(gen.Metrics(500), &metrics);
  }
}

// The corners of the mapping: numbers as strings or with exponents, enum
// names, NaN and infinities, escapes and surrogate pairs, base64 bytes,
// nulls, proto field names, explicit presence, packed arrays, unknown fields
// of every JSON kind.
TEST(OtlpJsonTest, MappingCorners) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto st = ParseOtlpJson(R"({"resourceMetrics":[{"resource":{"attributes":[
      {"key":"s","value":{"stringValue":"a\"b\\c\u00e9\ud83d\ude00\n"}},
      {"key":"e","value":{"stringValue":""}},
      {"key":"b","value":{"bytesValue":"AAEC/w=="}},
      {"key":"i","value":{"intValue":"-9223372036854775808"}},
      {"key":"d","value":{"doubleValue":"NaN"}},
      {"key":"n","value":null}]},
    "scopeMetrics":[{"scope":{"name":"x"},"metrics":[{"name":"h","histogram":{
      "aggregation_temporality":"AGGREGATION_TEMPORALITY_CUMULATIVE",
      "dataPoints":[{"count":"3","sum":0,"bucketCounts":["1",2,0],"explicitBounds":[1.5,"Infinity"],
                     "min":-1e2,"timeUnixNano":1.7e18,"flags":null,"future":[1,{"a":[true,false,null]},"x"]}]}}]}]}]})",
                          &req);
  ASSERT_TRUE(st.ok()) << st;
  const auto& attrs = req.resource_metrics(0).resource().attributes();
  ASSERT_EQ(attrs.size(), 6);
  EXPECT_EQ(attrs[0].value().string_value(), "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_EQ(attrs[1].value().value_case(), opentelemetry::proto::common::v1::AnyValue::kStringValue);  // "" kept
  EXPECT_EQ(attrs[2].value().bytes_value(), std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(attrs[3].value().int_value(), INT64_MIN);
  EXPECT_TRUE(std::isnan(attrs[4].value().double_value()));
  EXPECT_FALSE(attrs[5].has_value());
  const auto& h = req.resource_metrics(0).scope_metrics(0).metrics(0).histogram();
  EXPECT_EQ(h.aggregation_temporality(), 2);
  const auto& p = h.data_points(0);
  EXPECT_EQ(p.count(), 3u);
  EXPECT_TRUE(p.has_sum());  // optional: an explicit 0 is present
  EXPECT_EQ(p.sum(), 0);
  EXPECT_THAT(std::vector<uint64_t>(p.bucket_counts().begin(), p.bucket_counts().end()),
              ::testing::ElementsAre(1, 2, 0));
  ASSERT_EQ(p.explicit_bounds_size(), 2);
  EXPECT_TRUE(std::isinf(p.explicit_bounds(1)));
  EXPECT_EQ(p.min(), -100);
  EXPECT_EQ(p.time_unix_nano(), 1700000000000000000ull);
  EXPECT_FALSE(p.has_max());

  EXPECT_FALSE(ParseOtlpJson(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[
      {"asInt":"1.5"}]}}]}]}]})", &req).ok());
  EXPECT_FALSE(ParseOtlpJson(R"({"resourceMetrics":[{"resource":{"attributes":[{"key":"\ud800"}]}}]})", &req).ok());
  EXPECT_FALSE(ParseOtlpJson("{\"resourceMetrics\":[{\"schemaUrl\":\"\xff\"}]}", &req).ok());
  EXPECT_FALSE(ParseOtlpJson(R"({"resourceMetrics":[]} x)", &req).ok());
  EXPECT_FALSE(ParseOtlpJson(R"({"resourceMetrics":[{"schemaUrl":1}]})", &req).ok());
  EXPECT_TRUE(ParseOtlpJson(R"({"resourceMetrics":null})", &req).ok());

  // An enum name from a newer schema is ignored; a double too small to hold
  // reads as 0, one too large is refused.
  ASSERT_TRUE(ParseOtlpJson(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{
      "aggregationTemporality":"AGGREGATION_TEMPORALITY_FROM_THE_FUTURE","isMonotonic":true,
      "dataPoints":[{"asDouble":1e-400}]}}]}]}]})", &req).ok());
  const auto& sum = req.resource_metrics(0).scope_metrics(0).metrics(0).sum();
  EXPECT_EQ(sum.aggregation_temporality(), 0);
  EXPECT_TRUE(sum.is_monotonic());
  EXPECT_EQ(sum.data_points(0).as_double(), 0.0);
  EXPECT_FALSE(ParseOtlpJson(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{
      "dataPoints":[{"asDouble":1e400}]}}]}]}]})", &req).ok());
}

TEST(RemoteWriteTest, SeriesBecomeGaugesWithLabelsAndStaleMarkers) {
  prometheus::WriteRequest wr;
  auto* ts = wr.add_timeseries();
  auto label = [&](prometheus::TimeSeries* t, const char* n, const char* v) {
    auto* l = t->add_labels();
    l->set_name(n);
    l->set_value(v);
  };
  label(ts, "__name__", "http_requests_total");
  label(ts, "instance", "host:9090");
  label(ts, "job", "api");
  auto* s = ts->add_samples();
  s->set_value(42);
  s->set_timestamp(1700000000123);
  uint64_t stale_bits = 0x7ff0000000000002ULL;
  double stale;
  std::memcpy(&stale, &stale_bits, 8);
  ts->add_samples()->set_value(stale);
  auto* bad = wr.add_timeseries();
  label(bad, "__name__", "1bad");
  auto* noname = wr.add_timeseries();
  label(noname, "job", "x");

  auto conv = ConvertRemoteWrite(wr.SerializeAsString());
  ASSERT_TRUE(conv.ok());
  EXPECT_EQ(conv->series, 1u);
  EXPECT_EQ(conv->samples, 2u);
  EXPECT_EQ(conv->rejected_series, 2u);
  EXPECT_THAT(conv->first_error, HasSubstr("1bad"));
  const auto& rm = conv->request.resource_metrics(0);
  EXPECT_EQ(rm.resource().attributes(0).value().string_value(), "api");
  const auto& m = rm.scope_metrics(0).metrics(0);
  EXPECT_EQ(m.name(), "http_requests_total");
  const auto& p = m.gauge().data_points(0);
  EXPECT_EQ(p.as_double(), 42);
  EXPECT_EQ(p.time_unix_nano(), 1700000000123000000ULL);
  EXPECT_EQ(p.attributes_size(), 2);  // instance, job; __name__ is the metric name
  const auto& stale_point = m.gauge().data_points(1);
  uint64_t bits;
  double v = stale_point.as_double();
  std::memcpy(&bits, &v, 8);
  EXPECT_EQ(bits, stale_bits);
  EXPECT_EQ(stale_point.flags(), 1u);

  EXPECT_FALSE(ConvertRemoteWrite("\xff\xff\xff").ok());
}

}  // namespace
}  // namespace signaldb::acceptor
