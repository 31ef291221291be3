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

bool AnyLimit(const RateLimits& defaults, const std::map<std::string, RateLimits>& per_tenant) {
  bool any = defaults.bytes_per_second > 0 || defaults.records_per_second > 0;
  for (const auto& [t, l] : per_tenant) any = any || l.bytes_per_second > 0 || l.records_per_second > 0;
  return any;
}

// Refills a bucket for `elapsed` seconds, up to one second of its rate.
void Refill(double elapsed, double* tokens, double rate) {
  if (rate <= 0) return;
  *tokens = std::min(rate, *tokens + elapsed * rate);
}

}  // namespace

TenantRateLimiter::TenantRateLimiter(RateLimits defaults, std::map<std::string, RateLimits> per_tenant,
                                     std::function<double()> now)
    : defaults_(defaults),
      per_tenant_(std::move(per_tenant)),
      now_(now ? std::move(now) : std::function<double()>(SteadySeconds)),
      active_(AnyLimit(defaults_, per_tenant_)) {}

TenantRateLimiter::State& TenantRateLimiter::StateFor(const std::string& tenant, double now) {
  auto [it, fresh] = states_.try_emplace(tenant);
  State& s = it->second;
  if (fresh) {
    auto limits = per_tenant_.find(tenant);
    const RateLimits& l = limits == per_tenant_.end() ? defaults_ : limits->second;
    s.bytes = {l.bytes_per_second, l.bytes_per_second};
    s.records = {l.records_per_second, l.records_per_second};
    s.at = now;
  }
  const double elapsed = std::max(0.0, now - s.at);
  Refill(elapsed, &s.bytes.tokens, s.bytes.rate);
  Refill(elapsed, &s.records.tokens, s.records.rate);
  s.at = now;
  return s;
}

absl::Status TenantRateLimiter::Admit(const std::string& tenant, uint64_t bytes) {
  if (!active_) return absl::OkStatus();
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
  if (!active_) return;
  std::lock_guard lock(mu_);
  State& s = StateFor(tenant, now_());
  if (s.records.rate > 0) s.records.tokens -= static_cast<double>(records);
}

}  // namespace signaldb::acceptor
