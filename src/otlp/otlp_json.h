// The OTLP JSON codec for attribute-like columns.
//
// Stored form: the proto3 JSON mapping of the OTLP messages (lowerCamelCase
// keys, 64-bit integers as decimal strings, bytes as base64, doubles as
// numbers or "NaN"/"Infinity"/"-Infinity"), with trace and span ids in hex as
// OTLP/HTTP JSON does. Writing is hand-rolled for speed on the ingest path;
// reading goes back to protobuf messages for the query path.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace signaldb::otlp {

namespace pb {
using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;
using KeyValues = google::protobuf::RepeatedPtrField<KeyValue>;
using Events = google::protobuf::RepeatedPtrField<opentelemetry::proto::trace::v1::Span::Event>;
using Links = google::protobuf::RepeatedPtrField<opentelemetry::proto::trace::v1::Span::Link>;
}  // namespace pb

// Appends the JSON of each form to `out`.
void AppendJsonString(std::string& out, std::string_view s);
// A double as a JSON number, or "NaN" / "Infinity" / "-Infinity".
void AppendJsonDouble(std::string& out, double v);
// `"key":` inside an object, with a leading comma unless `first`.
void AppendJsonKey(std::string& out, std::string_view key, bool& first);
// `"key":"<hex of id>"`; nothing when `id` is empty.
void AppendHexMember(std::string& out, std::string_view key, std::string_view id, bool& first);
void AppendAnyValueJson(std::string& out, const pb::AnyValue& v);
void AppendKeyValuesJson(std::string& out, const pb::KeyValues& kvs);  // [ {...}, ... ]
void AppendEventsJson(std::string& out, const pb::Events& events);
void AppendLinksJson(std::string& out, const pb::Links& links);

// Parse the stored forms back. Errors are DataLoss (stored data is ours).
absl::Status ParseKeyValuesJson(std::string_view json, pb::KeyValues* out);
absl::Status ParseEventsJson(std::string_view json, pb::Events* out);
absl::Status ParseLinksJson(std::string_view json, pb::Links* out);

}  // namespace signaldb::otlp
