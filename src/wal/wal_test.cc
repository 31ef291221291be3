#include "wal/wal.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"

namespace signaldb::wal {
namespace {

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("sdb_wal_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Wal> OpenWal(uint64_t min_next = 0, uint64_t segment_size = 1 << 20) {
    auto w = Wal::Open(DefaultFileSystem(), dir_, Options{.segment_size = segment_size}, min_next);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }
  std::vector<std::pair<uint64_t, std::string>> ReplayAll(Wal& w, uint64_t after = 0) {
    std::vector<std::pair<uint64_t, std::string>> out;
    EXPECT_TRUE(w.Replay(after, [&](uint64_t seq, RecordType, std::string_view p) {
                   out.emplace_back(seq, std::string(p));
                   return absl::OkStatus();
                 }).ok());
    return out;
  }
  // Every record's type and payload, in order.
  std::vector<std::pair<RecordType, std::string>> ReplayTyped(Wal& w) {
    std::vector<std::pair<RecordType, std::string>> out;
    EXPECT_TRUE(w.Replay(0, [&](uint64_t, RecordType type, std::string_view p) {
                   out.emplace_back(type, std::string(p));
                   return absl::OkStatus();
                 }).ok());
    return out;
  }
  std::vector<std::string> SegmentFiles() {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::directory_iterator(dir_)) {
      if (e.is_regular_file()) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string dir_;
};

TEST_F(WalTest, AppendsReplayAfterReopen) {
  {
    auto w = OpenWal();
    EXPECT_EQ(*w->Append(RecordType::kOtlpExport, "a"), 1u);
    EXPECT_EQ(*w->Append(RecordType::kOtlpExport, std::string(1000, 'b')), 2u);
    EXPECT_EQ(*w->Append(RecordType::kOtlpExport, ""), 3u);
  }
  auto w = OpenWal();
  auto recs = ReplayAll(*w);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].second, "a");
  EXPECT_EQ(recs[1].second, std::string(1000, 'b'));
  EXPECT_EQ(recs[2].first, 3u);
  EXPECT_EQ(ReplayAll(*w, 2).size(), 1u);
  EXPECT_EQ(*w->Append(RecordType::kOtlpExport, "d"), 4u);
}

// A record given in two pieces is one record of their concatenation, and
// keeps its type.
TEST_F(WalTest, TwoPieceRecordsReplayJoinedWithTheirType) {
  {
    auto w = OpenWal();
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "plain").ok());
    ASSERT_TRUE(w->Append(RecordType::kOtlpExportLimited, "head|", "payload").ok());
  }
  auto w = OpenWal();
  auto recs = ReplayTyped(*w);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].first, RecordType::kOtlpExport);
  EXPECT_EQ(recs[0].second, "plain");
  EXPECT_EQ(recs[1].first, RecordType::kOtlpExportLimited);
  EXPECT_EQ(recs[1].second, "head|payload");
  EXPECT_EQ(EncodeRecord(RecordType::kOtlpExportLimited, 7, "payload", "head|"),
            EncodeRecord(RecordType::kOtlpExportLimited, 7, "head|payload"));
}

TEST_F(WalTest, SequenceNeverGoesBackwardsAfterTrim) {
  auto w = OpenWal(100);
  EXPECT_EQ(*w->Append(RecordType::kOtlpExport, "x"), 100u);
  ASSERT_TRUE(w->TrimThrough(100).ok());
  w.reset();
  w = OpenWal(0);
  EXPECT_EQ(*w->Append(RecordType::kOtlpExport, "y"), 101u);
}

TEST_F(WalTest, TornTailIsCutAtLastValidRecord) {
  {
    auto w = OpenWal();
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "one").ok());
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "two").ok());
  }
  auto files = SegmentFiles();
  ASSERT_FALSE(files.empty());
  // The first segment holds both records; tear the second one.
  auto size = std::filesystem::file_size(files[0]);
  std::filesystem::resize_file(files[0], size - 2);
  auto w = OpenWal();
  auto recs = ReplayAll(*w);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].second, "one");
  EXPECT_EQ(w->GetStats().dropped_tail_bytes, EncodeRecord(RecordType::kOtlpExport, 2, "two").size() - 2);
  // New appends continue after the surviving record and are readable.
  EXPECT_EQ(*w->Append(RecordType::kOtlpExport, "three"), 2u);
  w.reset();
  w = OpenWal();
  recs = ReplayAll(*w);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].second, "three");
}

TEST_F(WalTest, CorruptByteStopsAtLastValidRecord) {
  {
    auto w = OpenWal();
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "alpha").ok());
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "beta").ok());
  }
  auto files = SegmentFiles();
  std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
  auto off = kSegmentHeaderSize + EncodeRecord(RecordType::kOtlpExport, 1, "alpha").size() + kRecordHeaderSize;
  f.seekp(static_cast<std::streamoff>(off));
  f.put('X');
  f.close();
  auto w = OpenWal();
  auto recs = ReplayAll(*w);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].second, "alpha");
}

TEST_F(WalTest, CorruptionInTheMiddleIsQuarantinedAndLaterRecordsKept) {
  {
    auto w = OpenWal();
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "alpha").ok());
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "bravo").ok());
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "charlie").ok());
  }
  auto files = SegmentFiles();
  auto original_size = std::filesystem::file_size(files[0]);
  std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
  auto off = kSegmentHeaderSize + EncodeRecord(RecordType::kOtlpExport, 1, "alpha").size() + kRecordHeaderSize + 1;
  f.seekp(static_cast<std::streamoff>(off));
  f.put('X');  // inside "bravo"
  f.close();
  auto w = OpenWal();
  auto recs = ReplayAll(*w);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].second, "alpha");
  EXPECT_EQ(recs[1].second, "charlie");
  EXPECT_EQ(recs[1].first, 3u);
  auto stats = w->GetStats();
  EXPECT_EQ(stats.quarantined_segments, 1u);
  EXPECT_EQ(stats.corrupt_bytes, EncodeRecord(RecordType::kOtlpExport, 2, "bravo").size());
  EXPECT_EQ(stats.dropped_tail_bytes, 0u);
  // The damaged original is kept for inspection.
  auto kept = std::filesystem::path(dir_) / "quarantine" / std::filesystem::path(files[0]).filename();
  ASSERT_TRUE(std::filesystem::exists(kept));
  EXPECT_EQ(std::filesystem::file_size(kept), original_size);
  // The log keeps working and a second open finds nothing more to repair.
  EXPECT_EQ(*w->Append(RecordType::kOtlpExport, "delta"), 4u);
  w.reset();
  w = OpenWal();
  EXPECT_EQ(ReplayAll(*w).size(), 3u);
  EXPECT_EQ(w->GetStats().quarantined_segments, 0u);
}

// Every record type is salvaged past damage, not only the first one.
TEST_F(WalTest, SalvageAfterCorruptionKeepsLimitedRecords) {
  {
    auto w = OpenWal();
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "alpha").ok());
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "bravo").ok());
    ASSERT_TRUE(w->Append(RecordType::kOtlpExportLimited, "head|", "charlie").ok());
    ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "delta").ok());
  }
  auto files = SegmentFiles();
  std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
  auto off = kSegmentHeaderSize + EncodeRecord(RecordType::kOtlpExport, 1, "alpha").size() + kRecordHeaderSize + 1;
  f.seekp(static_cast<std::streamoff>(off));
  f.put('X');  // inside "bravo"
  f.close();
  auto w = OpenWal();
  auto recs = ReplayTyped(*w);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].second, "alpha");
  EXPECT_EQ(recs[1].first, RecordType::kOtlpExportLimited);
  EXPECT_EQ(recs[1].second, "head|charlie");
  EXPECT_EQ(recs[2].second, "delta");
  EXPECT_EQ(w->GetStats().dropped_tail_bytes, 0u);
}

TEST_F(WalTest, RotatesAndTrimsWholeSegments) {
  auto w = OpenWal(0, 256);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(w->Append(RecordType::kOtlpExport, std::string(100, 'a' + i)).ok());
  EXPECT_GT(w->GetStats().segments, 5u);
  ASSERT_TRUE(w->TrimThrough(10).ok());
  auto recs = ReplayAll(*w);
  ASSERT_FALSE(recs.empty());
  EXPECT_LE(recs.front().first, 11u);
  EXPECT_EQ(recs.back().first, 20u);
  ASSERT_TRUE(w->TrimThrough(20).ok());
  EXPECT_TRUE(ReplayAll(*w).empty());
  EXPECT_EQ(w->GetStats().segments, 1u);
}

TEST_F(WalTest, ConcurrentAppendsGetDistinctDurableSequences) {
  auto w = OpenWal(0, 4096);
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> got(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto s = w->Append(RecordType::kOtlpExport, std::to_string(t) + ":" + std::to_string(i));
        ASSERT_TRUE(s.ok());
        got[t].push_back(*s);
      }
    });
  }
  for (auto& th : threads) th.join();
  w.reset();
  w = OpenWal();
  auto recs = ReplayAll(*w);
  ASSERT_EQ(recs.size(), 200u);
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].first, i + 1);
}

}  // namespace
}  // namespace signaldb::wal
