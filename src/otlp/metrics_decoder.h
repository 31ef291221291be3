// Decodes OTLP metrics export requests into rows of the five metrics tables,
// one row per data point: gauge, sum, histogram, exponential histogram and
// summary (in that order in `batches`). NaN and infinite values are stored as
// they are. Data points of a metric without a name, histograms whose bucket
// counts do not fit their bounds, and exemplars with malformed ids are
// rejected and counted.
//
// Thread-safety: stateless functions.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "columnar/batch.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "otlp/trace_decoder.h"

namespace signaldb::otlp {

enum MetricTable { kGauge, kSum, kHistogram, kExponentialHistogram, kSummary, kMetricTableCount };

// The reference decoder over parsed messages. `batches` must hold
// kMetricTableCount batches of the metrics schemas.
DecodeResult DecodeMetrics(const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& request,
                           std::vector<columnar::Batch>* batches);
// The ingest path: straight from the protobuf wire (empty batches in, rows
// out), agreeing with DecodeMetrics; InvalidArgument for malformed bytes.
// `limits` (null: none) as DecodeTracesProto; a data point's records are its
// own attributes and its exemplars' filtered attributes.
absl::StatusOr<DecodeResult> DecodeMetricsProto(std::string_view bytes, std::vector<columnar::Batch>* batches,
                                                const AttributeLimits* limits = nullptr);

}  // namespace signaldb::otlp
