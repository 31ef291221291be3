// The WAL records of export requests (docs/wal-format.md, "Record types").
//
// A request is logged exactly as the client sent it, so replay decodes the
// same bytes again. When the attribute limits changed what was stored
// (records truncated or rejected), replay must apply the same limits, even if
// the tenant's limits or the config changed since: such a request is logged
// as a kOtlpExportLimited record, whose payload is a small header with the
// limits and then the request. Requests the limits did not change are logged
// as plain kOtlpExport records (decoding them without limits gives the same
// rows), so the common case costs nothing. Requests logged while they are
// decoded (kOtlpExportUnchecked / kOtlpExportLimitedUnchecked, what the
// acceptor writes) cannot wait for that answer: with limits in force they
// always carry them.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/attribute_limits.h"

namespace signaldb::writer {

// Limits header: version (u8) = 1 | action (u8: 0 truncate, 1 reject) |
// max_attributes (u64 LE) | max_value_length (u64 LE). As the first byte of
// a protobuf, the version reads as field number 0, which is invalid, so a
// reader that ignored the record type would fail rather than misread it.
inline constexpr size_t kLimitsHeaderSize = 18;
inline constexpr uint8_t kLimitsHeaderVersion = 1;

std::string EncodeLimitsHeader(const otlp::AttributeLimits& limits);

struct LimitedRequest {
  otlp::AttributeLimits limits;
  std::string_view request;  // points into the payload
};
// Splits a kOtlpExportLimited payload; DataLoss when the header is short or
// of an unknown version.
absl::StatusOr<LimitedRequest> ParseLimitedRecord(std::string_view payload);

}  // namespace signaldb::writer
