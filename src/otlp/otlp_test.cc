#include <cmath>

#include "gtest/gtest.h"
#include "google/protobuf/util/message_differencer.h"
#include "otlp/otlp_json.h"
#include "otlp/test_util.h"
#include "otlp/trace_decoder.h"
#include "schema/tables.h"

namespace signaldb::otlp {
namespace {

using google::protobuf::util::MessageDifferencer;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::trace::v1::Span;

void FillEveryKind(pb::KeyValues* kvs) {
  auto add = [&](const std::string& k) {
    auto* kv = kvs->Add();
    kv->set_key(k);
    return kv->mutable_value();
  };
  add("s")->set_string_value("quote \" backslash \\ newline \n ctl \x01 utf8 \xc3\xa9");
  add("i")->set_int_value(-9007199254740993LL);
  add("d")->set_double_value(0.1);
  add("nan")->set_double_value(std::nan(""));
  add("inf")->set_double_value(-HUGE_VAL);
  add("b")->set_bool_value(true);
  add("bytes")->set_bytes_value(std::string("\x00\xff\x10", 3));
  auto* arr = add("arr")->mutable_array_value();
  arr->add_values()->set_int_value(1);
  arr->add_values()->set_string_value("two");
  arr->add_values()->mutable_array_value();
  auto* kvl = add("kv")->mutable_kvlist_value();
  auto* inner = kvl->add_values();
  inner->set_key("nested");
  inner->mutable_value()->mutable_kvlist_value()->add_values()->set_key("deep");
  add("empty");
  kvs->Add()->set_key("novalue");
}

TEST(OtlpJsonTest, EveryAnyValueKindRoundTrips) {
  Span span;
  FillEveryKind(span.mutable_attributes());
  std::string json;
  AppendKeyValuesJson(json, span.attributes());
  Span back;
  ASSERT_TRUE(ParseKeyValuesJson(json, back.mutable_attributes()).ok()) << json;
  ASSERT_EQ(back.attributes_size(), span.attributes_size());
  // NaN never compares equal; check it separately and compare the rest.
  EXPECT_TRUE(std::isnan(back.attributes(3).value().double_value()));
  back.mutable_attributes(3)->mutable_value()->set_double_value(0);
  span.mutable_attributes(3)->mutable_value()->set_double_value(0);
  EXPECT_TRUE(MessageDifferencer::Equals(span, back)) << json;
}

TEST(OtlpJsonTest, EventsAndLinksRoundTrip) {
  Span span;
  auto* e = span.add_events();
  e->set_time_unix_nano(1700000000123456789ULL);
  e->set_name("exception");
  FillEveryKind(e->mutable_attributes());
  e->set_dropped_attributes_count(3);
  span.add_events()->set_name("bare");
  auto* l = span.add_links();
  l->set_trace_id(std::string(16, '\x11'));
  l->set_span_id(std::string(8, '\x22'));
  l->set_trace_state("k=v");
  l->set_flags(0x301);
  l->set_dropped_attributes_count(2);
  l->add_attributes()->set_key("a");
  std::string ev, ln;
  AppendEventsJson(ev, span.events());
  AppendLinksJson(ln, span.links());
  EXPECT_NE(ln.find("\"traceId\":\"11111111111111111111111111111111\""), std::string::npos) << ln;
  Span back;
  ASSERT_TRUE(ParseEventsJson(ev, back.mutable_events()).ok());
  ASSERT_TRUE(ParseLinksJson(ln, back.mutable_links()).ok());
  back.mutable_events(0)->mutable_attributes(3)->mutable_value()->set_double_value(0);
  span.mutable_events(0)->mutable_attributes(3)->mutable_value()->set_double_value(0);
  EXPECT_TRUE(MessageDifferencer::Equals(span, back));
  EXPECT_FALSE(ParseLinksJson("{", back.mutable_links()).ok());
}

TEST(TraceDecoderTest, DecodesValidAndRejectsBadIds) {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("lib");
  auto* good = ss->add_spans();
  good->set_trace_id(std::string(16, '\x01'));
  good->set_span_id(std::string(8, '\x02'));
  good->set_name("backwards");
  good->set_kind(Span::SPAN_KIND_SERVER);
  good->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  good->set_start_time_unix_nano(2000);
  good->set_end_time_unix_nano(1000);  // ends before it starts
  auto* bad = ss->add_spans();
  bad->set_trace_id("short");
  bad->set_span_id(std::string(8, '\x02'));
  auto* zero = ss->add_spans();
  zero->set_trace_id(std::string(16, '\x01'));
  zero->set_span_id(std::string(8, '\0'));

  columnar::Batch batch(&schema::Traces());
  auto r = DecodeTraces(req, &batch);
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ(r.rejected, 2u);
  EXPECT_NE(r.first_error.find("trace id"), std::string::npos);
  ASSERT_EQ(batch.num_rows(), 1u);
  ASSERT_TRUE(batch.Consistent());
  EXPECT_EQ(batch.column(schema::kTraceId).StringAt(0), "01010101010101010101010101010101");
  EXPECT_EQ(batch.column(schema::kServiceName).StringAt(0), "unknown_service");
  EXPECT_EQ(batch.column(schema::kDurationNanos).ints[0], 0);
  EXPECT_EQ(batch.column(schema::kSpanKind).StringAt(0), "server");
  EXPECT_EQ(batch.column(schema::kStatusCode).StringAt(0), "error");
  EXPECT_TRUE(batch.column(schema::kIsRoot).ints[0]);
  EXPECT_FALSE(batch.column(schema::kParentSpanId).IsValid(0));

  EXPECT_FALSE(DecodeTracesProto("\xff\xff\xff", &batch).ok());
}

// The wire decoder (ingest path) must agree with the message-based reference
// decoder: on full requests, and on every truncation of one (where both must
// either fail or decode the same rows).
TEST(TraceWireDecoderTest, AgreesWithReferenceDecoder) {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  rs->set_schema_url("res-schema");
  FillEveryKind(rs->mutable_resource()->mutable_attributes());
  auto* svc = rs->mutable_resource()->add_attributes();
  svc->set_key("service.name");
  svc->mutable_value()->set_string_value("checkout");
  rs->mutable_resource()->set_dropped_attributes_count(2);
  auto* ss = rs->add_scope_spans();
  ss->set_schema_url("scope-schema");
  ss->mutable_scope()->set_name("lib");
  ss->mutable_scope()->set_version("1.0");
  FillEveryKind(ss->mutable_scope()->mutable_attributes());
  for (int i = 0; i < 4; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(std::string(16, static_cast<char>(i + 1)));
    span->set_span_id(std::string(8, static_cast<char>(i + 2)));
    if (i > 0) span->set_parent_span_id(std::string(8, '\x02'));
    span->set_name("op \"" + std::to_string(i));
    span->set_kind(static_cast<Span::SpanKind>(i + 1));
    span->set_start_time_unix_nano(1700000000000000000ULL + i);
    span->set_end_time_unix_nano(i == 3 ? 5 : 1700000000000009999ULL);
    span->set_trace_state("k=v");
    span->set_flags(0x301);
    FillEveryKind(span->mutable_attributes());
    span->set_dropped_attributes_count(3);
    auto* e = span->add_events();
    e->set_time_unix_nano(42);
    e->set_name("ev");
    FillEveryKind(e->mutable_attributes());
    e->set_dropped_attributes_count(1);
    span->add_events();
    auto* l = span->add_links();
    l->set_trace_id(std::string(16, '\x09'));
    l->set_span_id(std::string(8, '\x08'));
    l->set_flags(1);
    l->set_trace_state("a=b");
    span->set_dropped_events_count(7);
    span->set_dropped_links_count(8);
    span->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
    span->mutable_status()->set_message("bad");
    if (i == 2) {
      // Repeated keys, of the same and of another kind: the first value stays.
      auto* again = span->add_attributes();
      again->set_key("s");
      again->mutable_value()->set_int_value(5);
      span->add_attributes()->set_key("bytes");
    }
  }
  ss->add_spans()->set_trace_id("short");  // rejected by both
  req.add_resource_spans()->add_scope_spans()->add_spans();  // empty ids, no resource
  ExpectWireAgreesWithReference(
      req, [] { return columnar::Batch(&schema::Traces()); },
      [](const ExportTraceServiceRequest& r, columnar::Batch* out) { return DecodeTraces(r, out); },
      [](std::string_view b, columnar::Batch* out) { return DecodeTracesProto(b, out); }, 7);
}

// Span attributes land in the typed map of their value kind, in order; other
// kinds (bytes, arrays, key-value lists, empty or missing values) stay OTLP
// JSON; a repeated key keeps its first value and counts as dropped.
TEST(TraceDecoderTest, SplitsSpanAttributesByKind) {
  ExportTraceServiceRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x01'));
  span->set_span_id(std::string(8, '\x02'));
  FillEveryKind(span->mutable_attributes());
  auto* again = span->add_attributes();
  again->set_key("i");
  again->mutable_value()->set_string_value("not kept");
  span->set_dropped_attributes_count(4);
  for (bool wire : {false, true}) {
    SCOPED_TRACE(wire ? "wire decoder" : "reference decoder");
    columnar::Batch b(&schema::Traces());
    if (wire) {
      ASSERT_TRUE(DecodeTracesProto(req.SerializeAsString(), &b).ok());
    } else {
      DecodeTraces(req, &b);
    }
    ASSERT_EQ(b.num_rows(), 1u);
    auto keys = [&](int column) {
      const auto& m = b.column(static_cast<size_t>(column));
      std::vector<std::string> out;
      for (uint32_t e = m.entry_offsets[0]; e < m.entry_offsets[1]; ++e) out.emplace_back(m.MapKeys().StringAt(e));
      return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(keys(schema::kSpanAttributesString), (V{"s"}));
    EXPECT_EQ(keys(schema::kSpanAttributesInt), (V{"i"}));
    EXPECT_EQ(keys(schema::kSpanAttributesDouble), (V{"d", "nan", "inf"}));
    EXPECT_EQ(keys(schema::kSpanAttributesBool), (V{"b"}));
    const auto& strs = b.column(schema::kSpanAttributesString).MapValues();
    EXPECT_EQ(strs.StringAt(0), span->attributes(0).value().string_value());
    EXPECT_EQ(b.column(schema::kSpanAttributesInt).MapValues().ints[0], -9007199254740993LL);
    const auto& doubles = b.column(schema::kSpanAttributesDouble).MapValues().doubles;
    EXPECT_EQ(doubles[0], 0.1);
    EXPECT_TRUE(std::isnan(doubles[1]));
    EXPECT_EQ(doubles[2], -HUGE_VAL);
    EXPECT_EQ(b.column(schema::kSpanAttributesBool).MapValues().ints[0], 1);
    // The rest, as OTLP JSON in their original order.
    Span other;
    ASSERT_TRUE(ParseKeyValuesJson(b.column(schema::kSpanAttributesOther).StringAt(0), other.mutable_attributes()).ok());
    std::vector<std::string> other_keys;
    for (const auto& kv : other.attributes()) other_keys.push_back(kv.key());
    EXPECT_EQ(other_keys, (V{"bytes", "arr", "kv", "empty", "novalue"}));
    EXPECT_EQ(other.attributes(0).value().bytes_value(), std::string("\x00\xff\x10", 3));
    EXPECT_TRUE(other.attributes(3).has_value());
    EXPECT_FALSE(other.attributes(4).has_value());
    EXPECT_EQ(b.column(schema::kDroppedAttributesCount).ints[0], 5);  // 4 sent + 1 repeat
  }
}

// Among a few keys, most are known new by a one-bit hash before any
// comparison; keys that share a bit are still compared in full, and every
// repeat is found.
TEST(TraceDecoderTest, RepeatCheckTellsApartKeysThatShareAHashBit) {
  ExportTraceServiceRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x01'));
  span->set_span_id(std::string(8, '\x02'));
  // "ab" and "bb" share length, last and middle byte (so their bit).
  for (const char* key : {"ab", "bb", "ab", "a", "", "bb", ""}) {
    auto* kv = span->add_attributes();
    kv->set_key(key);
    kv->mutable_value()->set_int_value(static_cast<int64_t>(span->attributes_size()));
  }
  columnar::Batch b(&schema::Traces());
  ASSERT_TRUE(DecodeTracesProto(req.SerializeAsString(), &b).ok());
  const auto& ints = b.column(schema::kSpanAttributesInt);
  ASSERT_EQ(ints.entry_offsets[1], 4u);
  std::vector<std::string> keys;
  for (size_t i = 0; i < 4; ++i) keys.emplace_back(ints.MapKeys().StringAt(i));
  EXPECT_EQ(keys, (std::vector<std::string>{"ab", "bb", "a", ""}));
  EXPECT_EQ(ints.MapValues().ints[1], 2);  // the first "bb"
  EXPECT_EQ(b.column(schema::kDroppedAttributesCount).ints[0], 3);
}

// Past a few keys the repeat check uses a set (a span may carry millions of
// attributes within the size limit); it still finds every repeat.
TEST(TraceDecoderTest, FindsRepeatedKeysAmongManyAttributes) {
  ExportTraceServiceRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x01'));
  span->set_span_id(std::string(8, '\x02'));
  for (int i = 0; i < 5000; ++i) {
    auto* kv = span->add_attributes();
    kv->set_key("k" + std::to_string(i % 4000));  // 1000 repeats
    kv->mutable_value()->set_int_value(i);
  }
  for (bool wire : {false, true}) {
    columnar::Batch b(&schema::Traces());
    if (wire) {
      ASSERT_TRUE(DecodeTracesProto(req.SerializeAsString(), &b).ok());
    } else {
      DecodeTraces(req, &b);
    }
    const auto& ints = b.column(schema::kSpanAttributesInt);
    ASSERT_EQ(ints.entry_offsets[1], 4000u) << wire;
    EXPECT_EQ(ints.MapValues().ints[3999], 3999);  // first values kept
    EXPECT_EQ(b.column(schema::kDroppedAttributesCount).ints[0], 1000) << wire;
  }
}

// Length-delimited field `field` holding `bytes`, as the wire has it.
std::string LenField(int field, const std::string& bytes) {
  std::string out(1, static_cast<char>(field << 3 | 2));
  for (uint64_t n = bytes.size(); ; n >>= 7) {
    if (n < 0x80) {
      out += static_cast<char>(n);
      break;
    }
    out += static_cast<char>((n & 0x7f) | 0x80);
  }
  return out + bytes;
}

// A field that occurs several times merges, as libprotobuf merges it: a
// KeyValue's value sent twice, an array sent twice, one oneof member
// replacing another. Both decoders must read such bytes alike, and reject
// what libprotobuf rejects, even inside a replaced member.
TEST(TraceWireDecoderTest, MergesRepeatedMessageFieldsAsLibprotobuf) {
  using opentelemetry::proto::common::v1::AnyValue;
  auto any = [](auto set) {
    AnyValue v;
    set(v);
    return v.SerializeAsString();
  };
  const std::string str_a = any([](AnyValue& v) { v.set_string_value("a"); });
  const std::string int_5 = any([](AnyValue& v) { v.set_int_value(5); });
  const std::string arr_1 = any([](AnyValue& v) { v.mutable_array_value()->add_values()->set_int_value(1); });
  const std::string arr_2 = any([](AnyValue& v) { v.mutable_array_value()->add_values()->set_int_value(2); });
  const std::string bad_utf8 = LenField(5, LenField(1, LenField(1, "\xff")));  // array of one invalid string
  auto request = [](const std::vector<std::string>& attributes) {
    Span span;
    span.set_trace_id(std::string(16, '\x01'));
    span.set_span_id(std::string(8, '\x02'));
    std::string bytes = span.SerializeAsString();
    for (const auto& kv : attributes) bytes += LenField(9, kv);
    return LenField(1, LenField(2, LenField(2, bytes)));
  };
  auto kv = [](const std::string& key, const std::vector<std::string>& values) {
    std::string out = LenField(1, key);
    for (const auto& v : values) out += LenField(2, v);
    return out;
  };
  const std::vector<std::vector<std::string>> cases = {
      {kv("merged", {str_a, ""})},                // "a" merged with an empty value
      {kv("replaced", {str_a, int_5})},           // the int replaces the string
      {kv("arrays", {arr_1, arr_2})},             // [1] and [2] merge to [1, 2]
      {kv("arrays", {arr_1 + str_a + arr_2})},    // the string clears [1]: [2]
      {kv("x", {str_a}), kv("x", {arr_1 + arr_2})},  // a repeated key, dropped
      {kv("bad", {bad_utf8 + str_a})},            // invalid, though replaced
      {kv("x", {str_a}), kv("x", {bad_utf8})},    // invalid, though dropped
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const std::string bytes = request(cases[i]);
    ExportTraceServiceRequest parsed;
    const bool ok = parsed.ParseFromString(bytes);
    columnar::Batch want(&schema::Traces()), got(&schema::Traces());
    auto r = DecodeTracesProto(bytes, &got);
    ASSERT_EQ(r.ok(), ok) << r.status();
    if (!ok) continue;
    DecodeTraces(parsed, &want);
    std::string diff;
    EXPECT_TRUE(SameBatches(want, got, &diff)) << diff;
  }
  // Spot checks of what libprotobuf made of the merges.
  ExportTraceServiceRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(request({kv("arrays", {arr_1, arr_2})})));
  const auto& a = parsed.resource_spans(0).scope_spans(0).spans(0).attributes(0).value();
  ASSERT_EQ(a.array_value().values_size(), 2);
  ASSERT_TRUE(parsed.ParseFromString(request({kv("merged", {str_a, ""})})));
  EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).spans(0).attributes(0).value().string_value(), "a");
  EXPECT_FALSE(parsed.ParseFromString(request({kv("bad", {bad_utf8 + str_a})})));
}

TEST(TraceWireDecoderTest, RejectsWhatLibprotobufRejects) {
  columnar::Batch b(&schema::Traces());
  EXPECT_FALSE(DecodeTracesProto(std::string("\x0a\x05\x12\x03\x12\x01", 6), &b).ok());  // truncated
  columnar::Batch c(&schema::Traces());
  EXPECT_FALSE(DecodeTracesProto(std::string("\x00\x01", 2), &c).ok());  // field number 0
  // A span name that is not UTF-8.
  ExportTraceServiceRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x01'));
  span->set_span_id(std::string(8, '\x01'));
  span->set_name("ok");
  std::string bytes = req.SerializeAsString();
  auto pos = bytes.find("ok");
  bytes[pos] = '\xff';
  columnar::Batch d(&schema::Traces());
  ExportTraceServiceRequest parsed;
  EXPECT_EQ(DecodeTracesProto(bytes, &d).ok(), parsed.ParseFromString(bytes));
  EXPECT_FALSE(DecodeTracesProto(bytes, &d).ok());
}

TEST(TraceDecoderTest, ServiceNameComesFromResource) {
  opentelemetry::proto::resource::v1::Resource res;
  auto* kv = res.add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("checkout");
  EXPECT_EQ(ServiceName(res), "checkout");
}

}  // namespace
}  // namespace signaldb::otlp
