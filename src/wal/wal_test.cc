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

// Trimmed segments are renamed to spares and written over as later
// segments; the records they held before never come back.
TEST_F(WalTest, TrimmedSegmentsAreReusedAndTheirOldRecordsNeverReplay) {
  // Records after the trim are smaller, so the reused files' new segments end
  // before the older records in them do.
  auto payload = [](uint64_t seq) { return std::string(seq <= 40 ? 1000 : 300, static_cast<char>('a' + seq % 26)); };
  auto count = [&](const std::string& suffix) {
    size_t n = 0;
    for (const auto& f : SegmentFiles()) n += f.ends_with(suffix) ? 1 : 0;
    return n;
  };
  auto w = OpenWal(0, 4096);
  for (uint64_t i = 1; i <= 40; ++i) ASSERT_EQ(*w->Append(RecordType::kOtlpExport, payload(i)), i);
  ASSERT_TRUE(w->TrimThrough(20).ok());
  EXPECT_EQ(count(".spare"), 2u);  // Options::spare_segments
  for (uint64_t i = 41; i <= 70; ++i) ASSERT_EQ(*w->Append(RecordType::kOtlpExport, payload(i)), i);
  EXPECT_EQ(count(".spare"), 0u);  // both taken by the rolls since
  size_t reused = 0, stale = 0;
  for (const auto& f : SegmentFiles()) {
    std::ifstream in(f, std::ios::binary);
    char header[kSegmentHeaderSize];
    in.read(header, sizeof(header));
    const bool flagged = (static_cast<uint8_t>(header[6]) & kSegmentReused) != 0;
    reused += flagged ? 1 : 0;
    // Part of an older 1000-byte record still ends the file, behind the new
    // 300-byte ones (no run of 500 equal bytes is new).
    in.seekg(0);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (flagged && data.size() > 500 && data.substr(data.size() - 500) == std::string(500, data.back())) ++stale;
  }
  EXPECT_EQ(reused, 2u);
  EXPECT_GT(stale, 0u);
  auto check = [&](Wal& wal) {
    auto recs = ReplayAll(wal);
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs.back().first, 70u);
    for (size_t i = 1; i < recs.size(); ++i) EXPECT_EQ(recs[i].first, recs[i - 1].first + 1);
    for (const auto& [seq, p] : recs) EXPECT_EQ(p, payload(seq)) << seq;
    auto after = ReplayAll(wal, 20);
    ASSERT_EQ(after.size(), 50u);
    EXPECT_EQ(after.front().first, 21u);
  };
  check(*w);
  w.reset();
  w = OpenWal(0, 4096);
  check(*w);
  auto stats = w->GetStats();
  EXPECT_EQ(stats.quarantined_segments, 0u);
  EXPECT_EQ(stats.corrupt_bytes, 0u);
  EXPECT_EQ(stats.dropped_tail_bytes, 0u);
  EXPECT_EQ(*w->Append(RecordType::kOtlpExport, payload(71)), 71u);
  ASSERT_TRUE(w->TrimThrough(71).ok());
  EXPECT_GT(count(".spare"), 0u);
  ASSERT_TRUE(w->DropIdleSpares().ok());  // appended to moments ago: kept
  EXPECT_GT(count(".spare"), 0u);
  // Idle for spare_idle: the spares' disk goes back.
  w.reset();
  auto idle = Wal::Open(DefaultFileSystem(), dir_,
                        Options{.segment_size = 4096, .spare_idle = std::chrono::milliseconds(20)}, 0);
  ASSERT_TRUE(idle.ok()) << idle.status();
  EXPECT_GT(count(".spare"), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ASSERT_TRUE((*idle)->DropIdleSpares().ok());
  EXPECT_EQ(count(".spare"), 0u);
  EXPECT_EQ(*(*idle)->Append(RecordType::kOtlpExport, payload(72)), 72u);
}

// A reused file holds the older segment's records after the new ones: an
// open sees where the new ones end, salvages nothing from the old, and still
// finds real damage among the new records.
TEST_F(WalTest, ReusedSegmentsEndAtTheirOwnRecords) {
  {
    auto w = OpenWal(0, 4096);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(w->Append(RecordType::kOtlpExport, std::string(1000, 'o')).ok());
    ASSERT_TRUE(w->TrimThrough(10).ok());
  }
  {
    // Its fresh segment is a spare: only the new header, then old records.
    auto w = OpenWal(0, 4096);
    EXPECT_TRUE(ReplayAll(*w).empty());
  }
  {
    auto w = OpenWal(0, 4096);
    EXPECT_TRUE(ReplayAll(*w).empty());
    auto stats = w->GetStats();
    EXPECT_EQ(stats.quarantined_segments, 0u);
    EXPECT_EQ(stats.dropped_tail_bytes, 0u);
    ASSERT_EQ(*w->Append(RecordType::kOtlpExport, "alpha"), 11u);
    ASSERT_EQ(*w->Append(RecordType::kOtlpExport, "bravo"), 12u);
    ASSERT_EQ(*w->Append(RecordType::kOtlpExport, "charlie"), 13u);
  }
  // The segment holding alpha..charlie is the newest reused one.
  std::string target;
  for (const auto& f : SegmentFiles()) {
    if (!f.ends_with(".wal")) continue;
    std::ifstream in(f, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.find("bravo") != std::string::npos) target = f;
  }
  ASSERT_FALSE(target.empty());
  EXPECT_GT(std::filesystem::file_size(target), 3000u);  // the old records are still behind
  std::fstream f(target, std::ios::in | std::ios::out | std::ios::binary);
  auto off = kSegmentHeaderSize + EncodeRecord(RecordType::kOtlpExport, 11, "alpha").size() + kRecordHeaderSize + 1;
  f.seekp(static_cast<std::streamoff>(off));
  f.put('X');  // inside "bravo"
  f.close();
  auto w = OpenWal(0, 4096);
  auto recs = ReplayAll(*w);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].second, "alpha");
  EXPECT_EQ(recs[1].second, "charlie");
  EXPECT_EQ(w->GetStats().quarantined_segments, 1u);
  EXPECT_EQ(w->GetStats().corrupt_bytes, EncodeRecord(RecordType::kOtlpExport, 12, "bravo").size());
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
