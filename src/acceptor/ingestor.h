// The transport-independent ingest step every protocol edge calls: admission
// against the in-flight memory budget, then a durable write (the writer
// itself refuses writes while its buffers are full). Results carry what a transport needs to answer: OK (with
// partial-success counts), or an error class with a retry hint.
//
// Attribute limits: the tenant's max_attributes_per_record,
// max_attribute_value_length and attribute_limit_action are applied while
// the request is decoded (otlp/attribute_limits.h), the same way for every
// transport (OTLP/gRPC, OTLP/HTTP protobuf and JSON, remote_write, which all
// reach Export as OTLP protobuf). Rejected records count as rejected;
// truncated ones are stored and named in the result's message. The limits
// applied are logged with the request when they changed it, so WAL replay
// gives back exactly the rows acknowledged (writer/wal_record.h).
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "acceptor/tenant_limits.h"
#include "auth/auth.h"
#include "absl/status/status.h"
#include "common/tenant.h"
#include "config/config.h"
#include "otlp/attribute_limits.h"
#include "writer/writer.h"

namespace signaldb::acceptor {

struct IngestLimits {
  uint64_t max_message_bytes = 64ull << 20;   // after decompression
  uint64_t max_inflight_bytes = 256ull << 20; // request bytes being processed, process-wide
  int retry_after_seconds = 1;
};

// Holds `bytes` of the in-flight budget until destroyed.
class Admission {
 public:
  Admission() = default;
  Admission(std::atomic<uint64_t>* counter, uint64_t bytes) : counter_(counter), bytes_(bytes) {}
  Admission(Admission&& o) noexcept : counter_(o.counter_), bytes_(o.bytes_) { o.counter_ = nullptr; }
  Admission& operator=(Admission&& o) noexcept {
    std::swap(counter_, o.counter_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~Admission() {
    if (counter_ != nullptr) counter_->fetch_sub(bytes_);
  }

 private:
  std::atomic<uint64_t>* counter_ = nullptr;
  uint64_t bytes_ = 0;
};

class Ingestor {
 public:
  // `writer` and `auth` are not owned and must outlive the ingestor; `auth`
  // null: every request is default/default.
  // `limits_of` gives a tenant's limits (null: no attribute limits).
  Ingestor(writer::Writer* writer, IngestLimits limits, const auth::Authenticator* auth = nullptr,
           TenantRateLimiter* rates = nullptr,
           std::function<TenantLimits(const std::string& tenant)> limits_of = nullptr)
      : writer_(writer), limits_(limits), auth_(auth), rates_(rates), limits_of_(std::move(limits_of)) {}

  // ResourceExhausted while the tenant is over its ingest rate
  // (tenant_limits.h); takes `bytes` otherwise.
  absl::Status Throttle(const TenantContext& ctx, uint64_t bytes) {
    return rates_ == nullptr ? absl::OkStatus() : rates_->Admit(ctx.tenant, bytes);
  }

  // The tenant and dataset of a request (auth.h for the errors).
  absl::StatusOr<TenantContext> Authenticate(const auth::Credentials& credentials) const {
    return auth_ == nullptr ? absl::StatusOr<TenantContext>(TenantContext{}) : auth_->Authenticate(credentials);
  }

  // Reserves `bytes` of the in-flight budget, or ResourceExhausted (a
  // retryable overload) when the process already holds too much.
  absl::StatusOr<Admission> Admit(uint64_t bytes);

  // Stores one serialized Export*ServiceRequest under the tenant's attribute
  // limits. InvalidArgument for bytes that do not decode; Unavailable /
  // ResourceExhausted are retryable.
  // `deadline`: when the client stops waiting (gRPC deadlines); a request
  // held for buffer room is refused rather than stored after it.
  absl::StatusOr<writer::ExportResult> Export(
      const TenantContext& ctx, Signal signal, std::string_view payload,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

  const IngestLimits& limits() const { return limits_; }
  // The attribute limits of `tenant` as the decoders take them (none
  // without limits_of).
  otlp::AttributeLimits AttributeLimitsOf(const std::string& tenant) const;
  uint64_t inflight_bytes() const { return inflight_.load(); }

 private:
  writer::Writer* const writer_;
  const IngestLimits limits_;
  const auth::Authenticator* const auth_;
  TenantRateLimiter* const rates_;
  const std::function<TenantLimits(const std::string&)> limits_of_;
  std::atomic<uint64_t> inflight_{0};
};

}  // namespace signaldb::acceptor
