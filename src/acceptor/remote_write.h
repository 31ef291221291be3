// Prometheus remote_write 1.0: a decoded WriteRequest becomes an OTLP
// metrics export (one gauge per series, labels as data point attributes,
// `__name__` as the metric name, `job` as service.name; stale markers keep
// their NaN and are flagged FLAG_NO_RECORDED_VALUE), so it takes the same
// durable path as OTLP metrics.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace signaldb::acceptor {

struct RemoteWriteConversion {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest request;
  uint64_t series = 0;
  uint64_t samples = 0;
  uint64_t rejected_series = 0;
  std::string first_error;  // why the first rejected series was rejected
};

// Parses an uncompressed WriteRequest. InvalidArgument when it is not one.
absl::StatusOr<RemoteWriteConversion> ConvertRemoteWrite(std::string_view protobuf);

}  // namespace signaldb::acceptor
