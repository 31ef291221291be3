// Per-tenant ingest rates (issue 7): bytes and records per second, as token
// buckets holding one second of each rate. A request is admitted while the
// tenant's buckets are not in debt; its bytes are taken on admission and its
// records once written, so one large request may overdraw a bucket and the
// tenant then waits until the rate has paid it back. Refusals are
// ResourceExhausted (HTTP 429 + Retry-After, gRPC RESOURCE_EXHAUSTED); other
// tenants are unaffected.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/status.h"

namespace signaldb::acceptor {

// Payload marking a refusal as a tenant's rate limit (gRPC answers it
// RESOURCE_EXHAUSTED, where process overload is UNAVAILABLE).
inline constexpr const char* kRateLimitPayload = "signaldb/tenant-rate-limit";

struct RateLimits {
  double bytes_per_second = 0;    // 0: no limit
  double records_per_second = 0;  // 0: no limit
};

class TenantRateLimiter {
 public:
  // `limits_of` gives a tenant's current rates (asked on every call, so
  // changed limits apply at once); `now` gives seconds on a steady clock
  // (tests pass their own).
  explicit TenantRateLimiter(std::function<RateLimits(const std::string& tenant)> limits_of,
                             std::function<double()> now = nullptr);

  // OK, and `bytes` taken, unless the tenant is over one of its rates.
  absl::Status Admit(const std::string& tenant, uint64_t bytes);
  // Takes the records a request wrote.
  void ChargeRecords(const std::string& tenant, uint64_t records);
 private:
  struct Bucket {
    double tokens = 0;  // may go negative (debt)
    double rate = 0;
  };
  struct State {
    Bucket bytes, records;
    double at = 0;  // when last refilled
  };
  State& StateFor(const std::string& tenant, double now);  // mu_ held

  const std::function<RateLimits(const std::string&)> limits_of_;
  const std::function<double()> now_;
  std::mutex mu_;
  std::map<std::string, State> states_;
};

}  // namespace signaldb::acceptor
