#include "writer/trace_index.h"

#include <random>
#include <string>
#include <vector>

#include "common/hex.h"
#include "gtest/gtest.h"

namespace signaldb::writer {
namespace {

std::vector<std::string> RandomIds(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) {
    std::string raw(16, '\0');
    for (auto& c : raw) c = static_cast<char>(rng());
    ids.push_back(HexEncode(raw));
  }
  return ids;
}

TEST(TraceIndexTest, NeverMissesAndRarelyFalselyMatches) {
  auto ids = RandomIds(20000, 1);
  std::vector<std::string_view> keys(ids.begin(), ids.end());
  keys.insert(keys.end(), keys.begin(), keys.begin() + 100);  // duplicates count once
  TraceIndex index = TraceIndex::Build(keys);
  EXPECT_EQ(index.num_keys(), 20000u);
  for (const auto& id : ids) ASSERT_TRUE(index.MayContain(id)) << id;
  int false_hits = 0;
  auto others = RandomIds(100000, 2);
  for (const auto& id : others) false_hits += index.MayContain(id);
  EXPECT_LT(false_hits, 300) << "false-positive rate above 0.3% (designed for 0.05%)";
  // Sequential ids (some tracers use counters) spread as well.
  std::vector<std::string> seq;
  for (int i = 0; i < 5000; ++i) seq.push_back(std::string(24, '0') + std::to_string(10000000 + i));
  TraceIndex s = TraceIndex::Build(std::vector<std::string_view>(seq.begin(), seq.end()));
  int seq_false = 0;
  for (int i = 5000; i < 55000; ++i) seq_false += s.MayContain(std::string(24, '0') + std::to_string(10000000 + i));
  EXPECT_LT(seq_false, 150);
}

TEST(TraceIndexTest, SerializesAndRejectsDamage) {
  auto ids = RandomIds(300, 3);
  TraceIndex index = TraceIndex::Build(std::vector<std::string_view>(ids.begin(), ids.end()));
  std::string bytes = index.Serialize();
  auto back = TraceIndex::Parse(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->num_keys(), 300u);
  EXPECT_EQ(back->Serialize(), bytes);
  for (const auto& id : ids) EXPECT_TRUE(back->MayContain(id));

  std::string flipped = bytes;
  flipped[40] ^= 0x10;
  EXPECT_EQ(TraceIndex::Parse(flipped).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(TraceIndex::Parse(bytes.substr(0, bytes.size() - 1)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(TraceIndex::Parse("garbage").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(TraceIndexPath("/d/p/abc.parquet"), "/d/p/abc.tidx");

  TraceIndex empty = TraceIndex::Build({});
  EXPECT_FALSE(empty.MayContain(ids[0]));
  EXPECT_TRUE(TraceIndex::Parse(empty.Serialize()).ok());
}

}  // namespace
}  // namespace signaldb::writer
