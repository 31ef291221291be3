// Fault injection on every step of the WAL: append writes (failed and
// short), fsyncs, segment rotation (open, header sync, directory sync) and
// trimming (unlink, directory sync). Each test asserts what the caller is
// told, what a reopened log replays, and that appends resume by themselves
// once the fault clears.
#include <cerrno>
#include <filesystem>
#include <future>
#include <unistd.h>

#include "common/fault_fs.h"
#include "gtest/gtest.h"
#include "wal/wal.h"

namespace signaldb::wal {
namespace {

using Op = FaultFs::Op;

class WalFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("sdb_wal_fault_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Without spare segments unless asked: these tests are about deleting
  // trimmed segments.
  std::unique_ptr<Wal> Open(FileSystem* fs, uint64_t segment_size = 1 << 20, size_t spares = 0) {
    auto w = Wal::Open(fs, dir_, Options{.segment_size = segment_size, .spare_segments = spares}, 0);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }
  // Payloads a reopened log replays, in order.
  std::vector<std::string> Replayed() {
    auto w = Open(DefaultFileSystem());
    std::vector<std::string> out;
    EXPECT_TRUE(w->Replay(0, [&](uint64_t, RecordType, std::string_view p) {
                   out.emplace_back(p);
                   return absl::OkStatus();
                 }).ok());
    return out;
  }
  std::string dir_;
  FaultFs fs_;
};

TEST_F(WalFaultTest, FailedWriteIsNotAcknowledgedAndAppendsResume) {
  auto w = Open(&fs_);
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "a").ok());
  fs_.Fail(Op::kAppend, ENOSPC);
  auto r = w->Append(RecordType::kOtlpExport, "b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(w->GetStats().failed);
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "c").ok());  // fault was one-shot: resumes
  EXPECT_FALSE(w->GetStats().failed);
  EXPECT_EQ(w->GetStats().io_errors, 1u);
  w.reset();
  EXPECT_EQ(Replayed(), (std::vector<std::string>{"a", "c"}));
}

TEST_F(WalFaultTest, ShortWriteLeavesNoGarbage) {
  auto w = Open(&fs_);
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "first").ok());
  fs_.Fail(Op::kAppend, EIO, 1, false, /*short_write=*/true);
  EXPECT_FALSE(w->Append(RecordType::kOtlpExport, std::string(1000, 'x')).ok());
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "third").ok());
  w.reset();
  EXPECT_EQ(Replayed(), (std::vector<std::string>{"first", "third"}));
}

TEST_F(WalFaultTest, FailedFsyncIsNeverTrustedAndAppendsResume) {
  auto w = Open(&fs_);
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "a").ok());
  fs_.Fail(Op::kSync, EIO);
  auto r = w->Append(RecordType::kOtlpExport, "b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  // The next append does not fsync the same file again and believe it: the
  // segment is cut back to its durable bytes and a new one begins.
  auto c = w->Append(RecordType::kOtlpExport, "c");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, 3u);  // "b" used sequence 2 and stays lost
  w.reset();
  EXPECT_EQ(Replayed(), (std::vector<std::string>{"a", "c"}));
}

TEST_F(WalFaultTest, PersistentFsyncFailureKeepsRefusingUntilItClears) {
  auto w = Open(&fs_);
  fs_.Fail(Op::kSync, EIO, 1, /*sticky=*/true);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(w->Append(RecordType::kOtlpExport, "x").ok());
  EXPECT_TRUE(w->GetStats().failed);
  fs_.Clear();
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "ok").ok());
  w.reset();
  EXPECT_EQ(Replayed(), (std::vector<std::string>{"ok"}));
}

TEST_F(WalFaultTest, NoSpaceForANewSegmentDuringRepair) {
  auto w = Open(&fs_);
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "a").ok());
  fs_.Fail(Op::kSync, EIO);
  EXPECT_FALSE(w->Append(RecordType::kOtlpExport, "b").ok());
  fs_.Fail(Op::kOpen, ENOSPC);  // the repair cannot create its new segment
  auto r = w->Append(RecordType::kOtlpExport, "c");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "d").ok());
  w.reset();
  EXPECT_EQ(Replayed(), (std::vector<std::string>{"a", "d"}));
}

TEST_F(WalFaultTest, RotationFailuresKeepRecordsDurable) {
  auto w = Open(&fs_, 256);
  std::vector<std::string> want;
  // Each failure hits the creation of the next segment at a different step.
  for (Op op : {Op::kOpen, Op::kSync, Op::kSyncDir}) {
    for (int i = 0; i < 3; ++i) {
      std::string p(120, static_cast<char>('a' + want.size() % 26));
      if (i == 1) fs_.Fail(op, ENOSPC, 1);
      auto r = w->Append(RecordType::kOtlpExport, p);
      if (r.ok()) want.push_back(p);
    }
  }
  fs_.Clear();
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "last").ok());
  want.push_back("last");
  w.reset();
  EXPECT_EQ(Replayed(), want);
}

// The default file system, except that Remove() waits until released.
class SlowRemoveFs final : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& p) override {
    return base_->OpenAppendable(p);
  }
  absl::StatusOr<std::string> ReadFile(const std::string& p) override { return base_->ReadFile(p); }
  absl::Status WriteFileAtomic(const std::string& p, std::string_view d) override {
    return base_->WriteFileAtomic(p, d);
  }
  absl::Status Rename(const std::string& a, const std::string& b) override { return base_->Rename(a, b); }
  absl::Status Remove(const std::string& p) override {
    if (!signalled_.exchange(true)) removing_.set_value();
    released_.wait();
    return base_->Remove(p);
  }
  absl::Status Truncate(const std::string& p, uint64_t n) override { return base_->Truncate(p, n); }
  absl::Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  absl::Status SyncDir(const std::string& p) override { return base_->SyncDir(p); }
  absl::Status SyncFile(const std::string& p) override { return base_->SyncFile(p); }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& d) override { return base_->ListDir(d); }
  bool Exists(const std::string& p) override { return base_->Exists(p); }
  absl::StatusOr<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  absl::StatusOr<std::chrono::system_clock::time_point> ModifiedTime(const std::string& p) override {
    return base_->ModifiedTime(p);
  }
  std::promise<void> removing_, release_;

 private:
  FileSystem* base_ = DefaultFileSystem();
  std::atomic<bool> signalled_{false};
  std::shared_future<void> released_ = release_.get_future().share();
};

// Deleting trimmed segments (slow for large files) happens outside the log's
// lock: appends complete while a trim is stuck deleting.
TEST_F(WalFaultTest, AppendsDoNotWaitForTrimmedSegmentsToBeDeleted) {
  SlowRemoveFs slow;
  auto w = Open(&slow, 256);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w->Append(RecordType::kOtlpExport, std::string(100, 'a' + i)).ok());
  auto trim = std::async(std::launch::async, [&] { return w->TrimThrough(8); });
  slow.removing_.get_future().wait();
  auto append = std::async(std::launch::async, [&] { return w->Append(RecordType::kOtlpExport, "during"); });
  const bool done = append.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  slow.release_.set_value();
  EXPECT_TRUE(done) << "the append waited for the trim's file deletion";
  EXPECT_TRUE(append.get().ok());
  EXPECT_TRUE(trim.get().ok());
  w.reset();
  auto replayed = Replayed();
  ASSERT_FALSE(replayed.empty());
  EXPECT_EQ(replayed.back(), "during");
}

// A spare segment that cannot be reused is deleted and the log makes a new
// file instead: nothing is lost and appends go on.
TEST_F(WalFaultTest, SpareThatCannotBeReusedGivesWayToANewFile) {
  auto w = Open(&fs_, 256, 2);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w->Append(RecordType::kOtlpExport, std::string(100, 'a' + i)).ok());
  ASSERT_TRUE(w->TrimThrough(8).ok());
  auto spares = [&] {
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator(dir_)) n += e.path().extension() == ".spare" ? 1 : 0;
    return n;
  };
  ASSERT_EQ(spares(), 2);
  fs_.Fail(Op::kRename, EIO);  // the next reuse's rename to the segment's name
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w->Append(RecordType::kOtlpExport, std::string(100, 'k' + i)).ok());
  EXPECT_EQ(spares(), 0);  // one deleted after the failure, the other reused
  w.reset();
  auto replayed = Replayed();
  // Records 9..20 end the log, whole and in order (the segment holding 7
  // and 8 is not trimmed yet).
  ASSERT_GE(replayed.size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(replayed[replayed.size() - 12 + i], std::string(100, static_cast<char>('i' + i))) << i;
  }
}

TEST_F(WalFaultTest, FailedTrimKeepsSegmentsAndRetries) {
  auto w = Open(&fs_, 256);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w->Append(RecordType::kOtlpExport, std::string(100, 'a' + i)).ok());
  uint64_t before = w->GetStats().segments;
  fs_.Fail(Op::kRemove, EIO);
  EXPECT_FALSE(w->TrimThrough(10).ok());
  EXPECT_EQ(w->GetStats().segments, before + 1);  // rolled, nothing deleted
  ASSERT_TRUE(w->TrimThrough(10).ok());
  EXPECT_EQ(w->GetStats().segments, 1u);
  fs_.Fail(Op::kSyncDir, EIO);
  ASSERT_TRUE(w->Append(RecordType::kOtlpExport, "z").ok());
  w.reset();
  // Records at or before the trim point are never replayed after it.
  auto again = Open(DefaultFileSystem());
  int n = 0;
  ASSERT_TRUE(again->Replay(10, [&](uint64_t seq, RecordType, std::string_view p) {
                     EXPECT_GT(seq, 10u);
                     EXPECT_EQ(p, "z");
                     ++n;
                     return absl::OkStatus();
                   }).ok());
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace signaldb::wal
