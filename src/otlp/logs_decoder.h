// Decodes OTLP logs export requests into rows of the `logs` table.
// Records whose trace id is present but not 16 bytes, or whose span id is
// present but not 8 bytes, are rejected and counted.
//
// Thread-safety: stateless functions.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "columnar/batch.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "otlp/trace_decoder.h"

namespace signaldb::otlp {

// The reference decoder over parsed messages.
DecodeResult DecodeLogs(const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& request,
                        columnar::Batch* batch);
// The ingest path: straight from the protobuf wire into `batch` (which must
// be empty), agreeing with DecodeLogs; InvalidArgument for malformed bytes.
// `limits` (null: none) as DecodeTracesProto.
absl::StatusOr<DecodeResult> DecodeLogsProto(std::string_view bytes, columnar::Batch* batch,
                                             const AttributeLimits* limits = nullptr);

}  // namespace signaldb::otlp
