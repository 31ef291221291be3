// OTLP JSON straight to protobuf wire bytes, in one pass over the body: no
// JSON tree, no message objects, no proto3-JSON reflection parser. Fields are
// found through the message descriptors (JSON name or proto field name),
// values are written in the wire format as they are read; the bytes decode as
// the same message libprotobuf's JSON parser would give (after OTLP's hex
// ids), which acceptor_test checks on whole requests.
//
// The OTLP JSON mapping (tempo-api.md §5.1, OTLP spec): trace and span ids are
// hex (traceId, spanId, parentSpanId; other bytes fields base64); enums are
// integers (names accepted too); 64-bit integers are numbers or strings;
// doubles may be "NaN", "Infinity", "-Infinity"; unknown fields are skipped;
// null means absent.
//
// Thread-safety: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace signaldb::acceptor {

// Deepest JSON nesting accepted (objects and arrays open at once).
inline constexpr int kMaxJsonDepth = 100;

// Appends to `out` the wire encoding of the message of type `type` that the
// JSON object `body` describes. InvalidArgument with the reason (and the
// byte offset) for malformed JSON, bad ids, too deep nesting (kMaxJsonDepth)
// or values of the wrong type.
absl::Status OtlpJsonToWire(std::string_view body, const google::protobuf::Descriptor* type, std::string* out);

// The same into a message object (`out`, an Export*ServiceRequest).
absl::Status ParseOtlpJson(std::string_view body, google::protobuf::Message* out);

}  // namespace signaldb::acceptor
