// Per-tenant token buckets on a hand-driven clock.
#include "acceptor/tenant_limits.h"

#include "gtest/gtest.h"

namespace signaldb::acceptor {
namespace {

// Rates of `per_tenant`, else `defaults`.
std::function<RateLimits(const std::string&)> Rates(RateLimits defaults, std::map<std::string, RateLimits> per_tenant) {
  return [=](const std::string& t) {
    auto it = per_tenant.find(t);
    return it == per_tenant.end() ? defaults : it->second;
  };
}

TEST(TenantRateLimiterTest, RecordsPerSecondWithDebtAndRefill) {
  double now = 100;
  TenantRateLimiter l(Rates({}, {{"slow", {0, 10}}}), [&] { return now; });
  EXPECT_TRUE(l.Admit("slow", 1000).ok());
  l.ChargeRecords("slow", 25);  // 10 - 25: 15 in debt
  auto refused = l.Admit("slow", 1);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("10 records/s"), std::string::npos);
  EXPECT_TRUE(l.Admit("other", 1).ok());  // no limit for other tenants
  now += 1.4;  // -15 + 14 = -1: still in debt
  EXPECT_FALSE(l.Admit("slow", 1).ok());
  now += 0.2;  // +1: 1 token
  EXPECT_TRUE(l.Admit("slow", 1).ok());
  now += 100;  // refills to one second's worth, no more
  l.ChargeRecords("slow", 10);
  EXPECT_FALSE(l.Admit("slow", 1).ok());
}

TEST(TenantRateLimiterTest, BytesAndDefaults) {
  double now = 0;
  TenantRateLimiter l(Rates({1000, 0}, {{"big", {0, 0}}}), [&] { return now; });
  EXPECT_TRUE(l.Admit("a", 1500).ok());  // admitted while not in debt, then owes 500
  EXPECT_FALSE(l.Admit("a", 1).ok());
  now += 0.6;
  EXPECT_TRUE(l.Admit("a", 1).ok());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(l.Admit("big", 1 << 20).ok());  // its own override: none
  TenantRateLimiter none(Rates({}, {}), [&] { return now; });
  EXPECT_TRUE(none.Admit("a", UINT64_MAX).ok());
}

TEST(TenantRateLimiterTest, ChangedLimitsApplyAtOnce) {
  double now = 0;
  RateLimits current{0, 0};
  TenantRateLimiter l([&](const std::string&) { return current; }, [&] { return now; });
  EXPECT_TRUE(l.Admit("a", 1 << 20).ok());
  l.ChargeRecords("a", 1000);
  current = {0, 5};  // limited from now on, starting with a full bucket
  EXPECT_TRUE(l.Admit("a", 1).ok());
  l.ChargeRecords("a", 20);  // 15 in debt
  EXPECT_FALSE(l.Admit("a", 1).ok());
  current = {0, 10};  // a new rate keeps the debt
  EXPECT_FALSE(l.Admit("a", 1).ok());
  current = {0, 0};  // lifted
  EXPECT_TRUE(l.Admit("a", 1).ok());
}

}  // namespace
}  // namespace signaldb::acceptor
