// OTLP/HTTP JSON request bodies into protobuf: the OTLP JSON mapping differs
// from proto3 JSON in that trace and span ids are hex, not base64; enums may
// be integers and 64-bit integers strings or numbers (proto3 JSON accepts
// both); unknown fields are ignored.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace signaldb::acceptor {

// Deepest JSON nesting accepted (objects and arrays), checked before parsing.
inline constexpr int kMaxJsonDepth = 100;

// Fills `out` (an Export*ServiceRequest) from OTLP JSON. InvalidArgument with
// a reason for malformed JSON, bad ids, too deep nesting or type mismatches.
absl::Status ParseOtlpJson(std::string_view body, google::protobuf::Message* out);

}  // namespace signaldb::acceptor
