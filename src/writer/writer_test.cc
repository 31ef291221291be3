#include "writer/writer.h"

#include <cerrno>

#include "common/fault_fs.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include <sys/wait.h>
#include <thread>

#include "gtest/gtest.h"

namespace signaldb::writer {
namespace {

namespace fs = std::filesystem;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

ExportTraceServiceRequest MakeRequest(int trace, int spans) {
  ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    std::string tid(16, '\0');
    tid[15] = static_cast<char>(trace + 1);
    std::string sid(8, '\0');
    sid[7] = static_cast<char>(i + 1);
    s->set_trace_id(tid);
    s->set_span_id(sid);
    s->set_name("op" + std::to_string(i));
    s->set_start_time_unix_nano(1700000000000000000ULL + i);
    s->set_end_time_unix_nano(1700000000000001000ULL + i);
  }
  return req;
}

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sdb_writer_test_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::unique_ptr<Writer> OpenAt(const fs::path& dir, int compression_level = 3, size_t snapshots_kept = 50) {
    WriterOptions o;
    o.compression_level = compression_level;
    o.expiry.max_snapshots = snapshots_kept;
    o.wal_dir = (dir / "wal").string();
    o.storage_dir = (dir / "storage").string();
    o.flush_interval = std::chrono::hours(1);  // flushes only when the test asks
    auto w = Writer::Open(o);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }
  int64_t Count(Writer& w, const std::string& where = "true") {
    auto ds = w.GetDataset({});
    EXPECT_TRUE(ds.ok());
    auto conn = (*ds)->db().Connect();
    auto t = (*conn)->Query("SELECT count(*) FROM traces WHERE " + where);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::get<int64_t>(t->rows[0][0]) : -1;
  }
  void Write(Writer& w, int trace, int spans) {
    auto req = MakeRequest(trace, spans);
    auto r = w.Write({}, Signal::kTraces, req.SerializeAsString());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->accepted, static_cast<uint64_t>(spans));
  }
  fs::path root_;
};

TEST_F(WriterTest, ReadYourWritesAcrossFlushWithoutDuplicates) {
  auto w = OpenAt(root_);
  Write(*w, 1, 3);
  EXPECT_EQ(Count(*w), 3);  // visible before any flush
  ASSERT_TRUE(w->FlushAll().ok());
  EXPECT_EQ(Count(*w), 3);  // once, from Parquet
  Write(*w, 2, 2);
  EXPECT_EQ(Count(*w), 5);
  ASSERT_TRUE(w->FlushAll().ok());
  ASSERT_TRUE(w->FlushAll().ok());  // nothing new: no empty file
  auto stats = w->Stats().tables.at("default/default/traces");
  EXPECT_EQ(stats.committed_files, 2u);
  EXPECT_EQ(stats.buffered_rows, 0u);
  EXPECT_EQ(Count(*w), 5);
  EXPECT_EQ(Count(*w, "trace_id = '00000000000000000000000000000003'"), 2);
}

// Queries racing ingest and flushes must see every acknowledged row exactly
// once: never fewer than were acknowledged before the query, never more than
// were sent by the time it finished.
uint64_t ParquetBytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (f.is_regular_file() && f.path().extension() == ".parquet") total += f.file_size();
  }
  return total;
}

TEST_F(WriterTest, CompressionLevelShrinksDataFiles) {
  uint64_t bytes[2];
  int levels[2] = {1, 19};
  for (int i = 0; i < 2; ++i) {
    fs::path dir = root_ / ("level" + std::to_string(levels[i]));
    auto w = OpenAt(dir, levels[i]);
    for (int t = 0; t < 80; ++t) Write(*w, t, 250);
    ASSERT_TRUE(w->FlushAll().ok());
    EXPECT_EQ(Count(*w), 20000);
    bytes[i] = ParquetBytes(dir / "storage");
  }
  EXPECT_GT(bytes[0], 0u);
  EXPECT_LT(bytes[1], bytes[0]) << "level 19 should write smaller files than level 1";
}

TEST_F(WriterTest, SnapshotsKeptBoundsEachTablesHistory) {
  auto w = OpenAt(root_, 3, 2);
  for (int t = 0; t < 5; ++t) {
    Write(*w, t, 10);
    ASSERT_TRUE(w->FlushAll().ok());
  }
  EXPECT_EQ(Count(*w), 50);  // expiry drops history, never rows
  size_t lists = 0;
  for (const auto& e : fs::directory_iterator(root_ / "storage" / "default" / "default" / "traces" / "metadata")) {
    if (e.path().filename().string().rfind("snap-", 0) == 0) ++lists;
  }
  EXPECT_EQ(lists, 2u);
  w.reset();
  auto reopened = OpenAt(root_, 3, 2);
  EXPECT_EQ(Count(*reopened), 50);
}

TEST_F(WriterTest, QueriesDuringFlushesSeeEachRowOnce) {
  auto w = OpenAt(root_);
  std::atomic<int64_t> acked{0}, started{0};
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 60; ++i) {
      started += 5;
      Write(*w, i, 5);
      acked += 5;
      if (i % 7 == 0) {
        ASSERT_TRUE(w->FlushAll().ok());
      }
    }
    done = true;
  });
  std::thread flusher([&] {
    while (!done) ASSERT_TRUE(w->FlushAll().ok());
  });
  int checks = 0;
  while (!done || checks < 5) {
    int64_t before = acked.load();
    int64_t seen = Count(*w);
    int64_t after = started.load();
    ASSERT_GE(seen, before);
    ASSERT_LE(seen, after);
    ++checks;
  }
  writer.join();
  flusher.join();
  ASSERT_TRUE(w->FlushAll().ok());
  EXPECT_EQ(Count(*w), 300);
}

// Runs `fn` in a child process that then dies without any cleanup, as a
// kill -9 would leave it: only what was fsynced survives.
template <typename Fn>
void InCrashingChild(Fn fn) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    fn();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(WriterTest, CrashSnapshotReplaysUnflushedRowsExactlyOnce) {
  InCrashingChild([&] {
    auto w = OpenAt(root_ / "crashed");
    Write(*w, 1, 4);
    if (!w->FlushAll().ok()) ::_exit(1);
    Write(*w, 2, 3);  // acknowledged, only in the WAL and the buffer
    if (::testing::Test::HasFailure()) ::_exit(1);
  });
  auto recovered = OpenAt(root_ / "crashed");
  EXPECT_EQ(Count(*recovered), 7);
  ASSERT_TRUE(recovered->FlushAll().ok());
  EXPECT_EQ(Count(*recovered), 7);
  recovered.reset();
  auto again = OpenAt(root_ / "crashed");
  EXPECT_EQ(Count(*again), 7);
}

TEST_F(WriterTest, RejectedSpansAreCountedAndNotStored) {
  auto w = OpenAt(root_);
  auto req = MakeRequest(1, 2);
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_trace_id("bad");
  auto r = w->Write({}, Signal::kTraces, req.SerializeAsString());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 1u);
  EXPECT_EQ(r->rejected, 1u);
  EXPECT_EQ(Count(*w), 1);
}

TEST_F(WriterTest, FailedFsyncAcknowledgesNothingAndIngestResumes) {
  FaultFs faulty;
  WriterOptions o;
  o.fs = &faulty;
  o.wal_dir = (root_ / "live/wal").string();
  o.storage_dir = (root_ / "live/storage").string();
  o.flush_interval = std::chrono::hours(1);
  auto w = Writer::Open(o);
  ASSERT_TRUE(w.ok()) << w.status();
  Write(**w, 1, 2);
  faulty.Fail(FaultFs::Op::kSync, EIO);
  auto req = MakeRequest(2, 3);
  auto r = (*w)->Write({}, Signal::kTraces, req.SerializeAsString());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);  // retryable for the client
  EXPECT_EQ(Count(**w), 2);  // the failed export is not visible
  std::string why;
  EXPECT_FALSE((*w)->Healthy(&why));
  EXPECT_NE(why.find("WAL failed"), std::string::npos);
  // The fault was transient: the next export repairs the log and succeeds.
  Write(**w, 3, 4);
  EXPECT_TRUE((*w)->Healthy(&why));
  EXPECT_EQ(Count(**w), 6);
  // After a restart, exactly the acknowledged rows come back.
  w->reset();
  auto recovered = OpenAt(root_ / "live");
  EXPECT_EQ(Count(*recovered), 6);
}

// Storage faults at every step of a flush: the flush fails, nothing is lost
// or shown twice, the next flush succeeds, and a restart agrees.
TEST_F(WriterTest, FlushFaultsLoseAndDuplicateNothing) {
  for (FaultFs::Op op : {FaultFs::Op::kSyncFile, FaultFs::Op::kSyncDir, FaultFs::Op::kWriteAtomic,
                         FaultFs::Op::kRemove}) {
    SCOPED_TRACE(static_cast<int>(op));
    fs::remove_all(root_);
    FaultFs faulty;
    WriterOptions o;
    o.fs = &faulty;
    o.wal_dir = (root_ / "wal").string();
    o.storage_dir = (root_ / "storage").string();
    o.flush_interval = std::chrono::hours(1);
    auto w = Writer::Open(o);
    ASSERT_TRUE(w.ok()) << w.status();
    Write(**w, 1, 3);
    ASSERT_TRUE((*w)->FlushAll().ok());
    Write(**w, 2, 4);
    faulty.Fail(op, ENOSPC);
    absl::Status failed = (*w)->FlushAll();
    // Trimming (unlink) failures do not fail the flush; the rest do.
    if (op != FaultFs::Op::kRemove) {
      EXPECT_FALSE(failed.ok());
    }
    EXPECT_EQ(Count(**w), 7);
    ASSERT_TRUE((*w)->FlushAll().ok());
    EXPECT_EQ(Count(**w), 7);
    Write(**w, 3, 1);
    w->reset();
    auto again = OpenAt(root_);
    EXPECT_EQ(Count(*again), 8);
    ASSERT_TRUE(again->FlushAll().ok());
    EXPECT_EQ(Count(*again), 8);
  }
}

TEST_F(WriterTest, TenantsGetSeparateDatasets) {
  auto w = OpenAt(root_);
  auto req = MakeRequest(1, 2);
  ASSERT_TRUE(w->Write({"acme", "prod"}, Signal::kTraces, req.SerializeAsString()).ok());
  EXPECT_EQ(Count(*w), 0);
  EXPECT_TRUE(fs::exists(root_ / "wal/acme/prod/traces"));
  EXPECT_EQ(w->Stats().tables.count("acme/prod/traces"), 1u);
}

}  // namespace
}  // namespace signaldb::writer
