// Per-tenant token buckets on a hand-driven clock.
#include "acceptor/tenant_limits.h"

#include "gtest/gtest.h"

namespace signaldb::acceptor {
namespace {

TEST(TenantRateLimiterTest, RecordsPerSecondWithDebtAndRefill) {
  double now = 100;
  TenantRateLimiter l({}, {{"slow", {0, 10}}}, [&] { return now; });
  ASSERT_TRUE(l.active());
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
  TenantRateLimiter l({1000, 0}, {{"big", {0, 0}}}, [&] { return now; });
  EXPECT_TRUE(l.Admit("a", 1500).ok());  // admitted while not in debt, then owes 500
  EXPECT_FALSE(l.Admit("a", 1).ok());
  now += 0.6;
  EXPECT_TRUE(l.Admit("a", 1).ok());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(l.Admit("big", 1 << 20).ok());  // its own override: none
  TenantRateLimiter none({}, {}, [&] { return now; });
  EXPECT_FALSE(none.active());
  EXPECT_TRUE(none.Admit("a", UINT64_MAX).ok());
}

}  // namespace
}  // namespace signaldb::acceptor
