#include "acceptor/tenant_limits.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/cord.h"
#include "common/strings.h"

namespace signaldb::acceptor {
namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Refills a bucket for `elapsed` seconds, up to one second of its rate.
void Refill(double elapsed, double* tokens, double rate) {
  if (rate <= 0) return;
  *tokens = std::min(rate, *tokens + elapsed * rate);
}

}  // namespace

TenantRateLimiter::TenantRateLimiter(std::function<RateLimits(const std::string&)> limits_of,
                                     std::function<double()> now)
    : limits_of_(std::move(limits_of)), now_(now ? std::move(now) : std::function<double()>(SteadySeconds)) {}

TenantRateLimiter::State& TenantRateLimiter::StateFor(const std::string& tenant, double now) {
  const RateLimits l = limits_of_(tenant);
  auto [it, fresh] = states_.try_emplace(tenant);
  State& s = it->second;
  if (fresh) s.at = now;
  // A bucket whose rate changed (or is new) starts full at the new rate;
  // debt carries over.
  for (auto [b, rate] : {std::pair{&s.bytes, l.bytes_per_second}, std::pair{&s.records, l.records_per_second}}) {
    if (fresh || b->rate != rate) *b = {std::min(rate, b->tokens < 0 ? b->tokens : rate), rate};
  }
  const double elapsed = std::max(0.0, now - s.at);
  Refill(elapsed, &s.bytes.tokens, s.bytes.rate);
  Refill(elapsed, &s.records.tokens, s.records.rate);
  s.at = now;
  return s;
}

absl::Status TenantRateLimiter::Admit(const std::string& tenant, uint64_t bytes) {
  std::lock_guard lock(mu_);
  State& s = StateFor(tenant, now_());
  if ((s.bytes.rate > 0 && s.bytes.tokens <= 0) || (s.records.rate > 0 && s.records.tokens <= 0)) {
    absl::Status st = absl::ResourceExhaustedError(
        StrCat("tenant '", tenant, "' is over its ingest rate (",
               s.bytes.rate > 0 ? StrCat(static_cast<uint64_t>(s.bytes.rate), " bytes/s") : std::string(),
               s.bytes.rate > 0 && s.records.rate > 0 ? ", " : "",
               s.records.rate > 0 ? StrCat(static_cast<uint64_t>(s.records.rate), " records/s") : std::string(),
               "); retry later"));
    st.SetPayload(kRateLimitPayload, absl::Cord("1"));
    return st;
  }
  if (s.bytes.rate > 0) s.bytes.tokens -= static_cast<double>(bytes);
  return absl::OkStatus();
}

void TenantRateLimiter::ChargeRecords(const std::string& tenant, uint64_t records) {
  std::lock_guard lock(mu_);
  State& s = StateFor(tenant, now_());
  if (s.records.rate > 0) s.records.tokens -= static_cast<double>(records);
}

}  // namespace signaldb::acceptor
