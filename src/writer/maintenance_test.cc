// Maintenance of the writer's tables: compaction (merging a partition's
// small files in a replace snapshot), retention, and their interplay with
// ingest and crash recovery.
#include <atomic>
#include <chrono>
#include <thread>

#include "writer/writer_test_util.h"

namespace signaldb::writer {
namespace {

// Compaction merges a partition's small files into one, in a replace
// snapshot: the same rows, fewer files, and the WAL position carried over so
// a restart replays nothing twice. Replaced files stay until no kept
// snapshot references them and the grace period passed.
TEST_F(WriterTest, CompactionMergesSmallFilesWithoutChangingRows) {
  auto w = OpenAt(root_, 3, /*snapshots_kept=*/1);
  for (int i = 0; i < 6; ++i) {
    Write(*w, i, 50);
    ASSERT_TRUE(w->FlushAll().ok());
  }
  Write(*w, 99, 5);  // stays buffered: in the WAL only
  ASSERT_EQ(Files(*w), 6u);
  auto before = Digest(*w);
  ASSERT_EQ(before.first, 305);
  std::vector<std::string> old_files;
  for (const auto& f : fs::recursive_directory_iterator(root_ / "storage")) {
    if (f.path().extension() == ".parquet") old_files.push_back(f.path().string());
  }
  ASSERT_EQ(old_files.size(), 6u);

  auto now = std::chrono::system_clock::now();
  auto r = w->MaintainAll(now);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->compacted_files, 6u);
  EXPECT_EQ(r->compacted_outputs, 1u);
  EXPECT_EQ(r->orphans_removed, 0u);  // young: within the grace period
  EXPECT_EQ(Files(*w), 1u);
  EXPECT_EQ(Digest(*w), before);
  for (const auto& f : old_files) EXPECT_TRUE(fs::exists(f)) << f;

  // Past the grace period the replaced files go (only the current snapshot is kept).
  r = w->MaintainAll(now + std::chrono::minutes(20));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->compacted_files, 0u);
  EXPECT_GE(r->orphans_removed, 6u);
  for (const auto& f : old_files) EXPECT_FALSE(fs::exists(f)) << f;
  EXPECT_EQ(Digest(*w), before);

  ASSERT_TRUE(w->Close().ok());
  w.reset();
  w = OpenAt(root_, 3, 1);
  EXPECT_EQ(Digest(*w), before);  // nothing lost, nothing replayed twice
}

// Compaction writes at its own zstd level when one is set.
TEST_F(WriterTest, CompactionLevelAppliesToCompactedFiles) {
  uint64_t bytes[2];
  int levels[2] = {1, 19};
  for (int i = 0; i < 2; ++i) {
    fs::path dir = root_ / ("level" + std::to_string(levels[i]));
    auto w = OpenAt(dir, /*compression_level=*/1, 1, [&](WriterOptions& o) {
      o.maintenance.compression_level = levels[i];
    });
    for (int t = 0; t < 4; ++t) {
      for (int k = 0; k < 20; ++k) Write(*w, t * 20 + k, 250);
      ASSERT_TRUE(w->FlushAll().ok());
    }
    auto now = std::chrono::system_clock::now();
    ASSERT_TRUE(w->MaintainAll(now).ok());
    ASSERT_TRUE(w->MaintainAll(now + std::chrono::hours(1)).ok());  // old inputs go
    EXPECT_EQ(Files(*w), 1u);
    EXPECT_EQ(Count(*w), 20000);
    bytes[i] = ParquetBytes(dir / "storage");
  }
  EXPECT_LT(bytes[1], bytes[0]) << "compaction at level 19 should write a smaller file than at level 1";
}

// A crash right after a compaction: the replace snapshot is the table's
// latest commit, so recovery must take the WAL position from it.
TEST_F(WriterTest, CrashAfterCompactionReplaysExactlyOnce) {
  InCrashingChild([&] {
    auto w = OpenAt(root_ / "crashed");
    for (int i = 0; i < 3; ++i) {
      Write(*w, i, 10);
      if (!w->FlushAll().ok()) ::_exit(1);
    }
    Write(*w, 50, 4);  // acknowledged, only in the WAL and the buffer
    auto r = w->MaintainAll(std::chrono::system_clock::now());
    if (!r.ok() || r->compacted_files != 3) ::_exit(1);
    if (::testing::Test::HasFailure()) ::_exit(1);
    ::_exit(0);  // the crash: no destructor flushes or closes anything
  });
  auto recovered = OpenAt(root_ / "crashed");
  EXPECT_EQ(Count(*recovered), 34);
  EXPECT_EQ(Files(*recovered), 1u);
}

// Retention drops whole hour partitions older than the retention, per
// tenant/dataset override; what remains survives a restart.
TEST_F(WriterTest, RetentionDropsExpiredPartitions) {
  auto now = std::chrono::system_clock::now();
  uint64_t now_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  uint64_t old_ns = now_ns - 3ULL * 24 * 3600 * 1000000000ULL;  // three days ago
  auto w = OpenAt(root_, 3, 50, [](WriterOptions& o) {
    o.maintenance.retention = std::chrono::hours(1);                        // default: an hour
    o.retention_overrides["default"] = std::chrono::hours(48);             // tenant: two days
    o.retention_overrides["other/default"] = std::chrono::hours(24 * 30);  // another dataset
  });
  EXPECT_EQ(w->RetentionFor({}).count(), std::chrono::milliseconds(std::chrono::hours(48)).count());
  EXPECT_EQ(w->RetentionFor({"other", "default"}).count(),
            std::chrono::milliseconds(std::chrono::hours(24 * 30)).count());
  EXPECT_EQ(w->RetentionFor({"other", "x"}).count(), std::chrono::milliseconds(std::chrono::hours(1)).count());
  Write(*w, 1, 10, old_ns);
  Write(*w, 2, 7, now_ns);
  ASSERT_TRUE(w->FlushAll().ok());
  ASSERT_EQ(Count(*w), 17);
  auto r = w->MaintainAll(now);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->expired_files, 1u);
  EXPECT_EQ(r->expired_rows, 10u);
  EXPECT_EQ(Count(*w), 7);
  EXPECT_EQ(Count(*w, "trace_id = '00000000000000000000000000000003'"), 7);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  w = OpenAt(root_);
  EXPECT_EQ(Count(*w), 7);
}

// Maintenance racing ingest, flushes and queries: every acknowledged row is
// there exactly once at the end, and after a restart.
TEST_F(WriterTest, CompactionRacingIngestLosesNothing) {
  auto w = OpenAt(root_, 3, 5, [](WriterOptions& o) { o.maintenance.min_input_files = 2; });
  std::atomic<bool> done{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      Write(*w, i % 100, 20);
      written += 20;
      if (i % 3 == 0) {
        ASSERT_TRUE(w->FlushAll().ok());
      }
    }
    done = true;
  });
  int passes = 0;
  auto now = std::chrono::system_clock::now();
  while (!done) {
    auto r = w->MaintainAll(now + std::chrono::minutes(20 * passes));
    ASSERT_TRUE(r.ok()) << r.status();
    int64_t seen = Count(*w);
    EXPECT_LE(seen, written.load() + 20);
    ++passes;
  }
  writer.join();
  ASSERT_TRUE(w->FlushAll().ok());
  ASSERT_TRUE(w->MaintainAll(now + std::chrono::hours(48)).ok());
  EXPECT_EQ(Count(*w), 800);
  EXPECT_LE(Files(*w), 2u);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  w = OpenAt(root_, 3, 5);
  EXPECT_EQ(Count(*w), 800);
}

}  // namespace
}  // namespace signaldb::writer
