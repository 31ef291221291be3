#include "acceptor/ingestor.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace signaldb::acceptor {

absl::StatusOr<Admission> Ingestor::Admit(uint64_t bytes) {
  uint64_t before = inflight_.fetch_add(bytes);
  // A single request larger than the whole budget is still admitted when
  // nothing else is in flight, so it cannot be starved forever.
  if (before > 0 && before + bytes > limits_.max_inflight_bytes) {
    inflight_.fetch_sub(bytes);
    return absl::ResourceExhaustedError(
        StrCat("server is overloaded: ", before, " bytes of requests in flight (limit ", limits_.max_inflight_bytes,
               "); retry later"));
  }
  return Admission(&inflight_, bytes);
}

otlp::AttributeLimits Ingestor::AttributeLimitsOf(const std::string& tenant) const {
  if (!limits_of_) return {};
  const TenantLimits l = limits_of_(tenant);
  return {.max_attributes = l.max_attributes_per_record,
          .max_value_length = l.max_attribute_value_length,
          .reject = l.reject_over_limit_attributes};
}

absl::StatusOr<writer::ExportResult> Ingestor::Export(const TenantContext& ctx, Signal signal,
                                                      std::string_view payload,
                                                      std::chrono::steady_clock::time_point deadline) {
  if (payload.size() > limits_.max_message_bytes) {
    return absl::OutOfRangeError(
        StrCat("request of ", payload.size(), " bytes exceeds the limit of ", limits_.max_message_bytes, " bytes"));
  }
  RETURN_IF_ERROR(Throttle(ctx, payload.size()));
  // Full buffers: the writer waits for a flush (backpressure) before it
  // decodes anything.
  const otlp::AttributeLimits attribute_limits = AttributeLimitsOf(ctx.tenant);
  auto result = writer_->Write(ctx, signal, payload, &attribute_limits, deadline);
  if (result.ok() && rates_ != nullptr) rates_->ChargeRecords(ctx.tenant, result->accepted);
  return result;
}

}  // namespace signaldb::acceptor
