// Decodes OTLP trace export requests into rows of the `traces` table.
//
// Spans with a malformed trace id (not 16 bytes, or all zero) or span id (not
// 8 bytes, or all zero) are rejected and counted; everything else is stored as
// sent, including spans that end before they start (duration 0, never an
// underflow).
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "columnar/batch.h"
#include "otlp/attribute_limits.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace signaldb::otlp {

struct DecodeResult {
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  std::string first_error;  // why the first rejected record was rejected
  // Attribute limits (attribute_limits.h): records stored with attributes
  // truncated, records rejected for them (also counted in `rejected`), and a
  // note naming the limits that truncated (empty when none did).
  uint64_t truncated = 0;
  uint64_t limit_rejected = 0;
  std::string truncation;
  // Whether the limits changed what was stored: when false, decoding the
  // same bytes without limits gives the same rows.
  bool limited() const { return truncated != 0 || limit_rejected != 0; }
};

// Service name of a resource: its `service.name` string attribute, else the
// OpenTelemetry default "unknown_service".
std::string ServiceName(const opentelemetry::proto::resource::v1::Resource& resource);

// Appends one row per valid span of `request` to `batch` (a traces batch).
// The reference decoder over parsed messages; the ingest path uses
// DecodeTracesProto, which must agree with it.
DecodeResult DecodeTraces(const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
                          columnar::Batch* batch);

// Decodes serialized protobuf straight from the wire into `batch` (which
// must be empty), with no message objects; InvalidArgument when the bytes are
// not a valid request (truncated, malformed, invalid UTF-8, nested deeper
// than libprotobuf allows). `limits` (null: none) are applied to every
// attribute list; a request is invalid or valid whatever they are.
absl::StatusOr<DecodeResult> DecodeTracesProto(std::string_view bytes, columnar::Batch* batch,
                                               const AttributeLimits* limits = nullptr);

}  // namespace signaldb::otlp
