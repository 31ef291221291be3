#include "writer/writer.h"

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <future>
#include <thread>

#include "common/fault_fs.h"
#include "common/hex.h"
#include "common/strings.h"
#include "schema/tables.h"
#include "writer/data_files.h"
#include "writer/writer_test_util.h"

namespace signaldb::writer {
namespace {

// Flushed files are in the table's sort order (trace id, then start) though
// requests arrive in any order: the flush source hands rows over sorted.
TEST_F(WriterTest, FlushedFilesAreSortedByTraceThenStart) {
  auto w = OpenAt(root_);
  for (int trace : {7, 2, 9, 2, 5}) Write(*w, trace, 4, 1700000000000000000ULL + static_cast<uint64_t>(100 - trace));
  ASSERT_TRUE(w->FlushAll().ok());
  std::string file;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "storage")) {
    if (e.path().extension() == ".parquet") file = e.path().string();
  }
  ASSERT_FALSE(file.empty());
  auto ds = w->GetDataset({});
  auto conn = (*ds)->db().Connect();
  auto t = (*conn)->Query(StrCat("SELECT trace_id, start_time_unix_nano FROM read_parquet('", file,
                                 "', file_row_number = true) ORDER BY file_row_number"));
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 20u);
  for (size_t i = 1; i < t->rows.size(); ++i) {
    const auto& a = t->rows[i - 1];
    const auto& b = t->rows[i];
    const auto ka = std::make_pair(std::get<std::string>(a[0]), std::get<int64_t>(a[1]));
    const auto kb = std::make_pair(std::get<std::string>(b[0]), std::get<int64_t>(b[1]));
    EXPECT_LE(ka, kb) << "row " << i;
  }
}

// A flush whose rows span two hours writes one file per hour partition,
// each holding only its hour's rows, sorted; with either Parquet encoder.
TEST_F(WriterTest, FlushSplitsHoursWithEitherEncoder) {
  for (ParquetEncoder encoder : {ParquetEncoder::kNative, ParquetEncoder::kDuckDb}) {
    const fs::path dir = root_ / (encoder == ParquetEncoder::kNative ? "native" : "duckdb");
    auto w = OpenAt(dir, 3, 50, [&](WriterOptions& o) { o.parquet_encoder = encoder; });
    constexpr uint64_t kHourNs = 3600ULL * 1000000000ULL;
    const uint64_t base = 472222ULL * kHourNs;  // the start of an hour
    for (int trace : {4, 1, 3}) {
      Write(*w, trace, 5, base + kHourNs - 3);  // spans 0..2 in the first hour, 3..4 in the next
      Write(*w, trace + 10, 2, base + static_cast<uint64_t>(trace));
    }
    ASSERT_TRUE(w->FlushAll().ok());
    EXPECT_EQ(Files(*w), 2u);
    EXPECT_EQ(Count(*w), 21);
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir / "storage")) {
      if (e.path().extension() == ".parquet") files.push_back(e.path().string());
    }
    ASSERT_EQ(files.size(), 2u);
    auto ds = w->GetDataset({});
    auto conn = (*ds)->db().Connect();
    int64_t rows = 0;
    for (const auto& file : files) {
      const std::string dir_hour = file.substr(file.find("timestamp_hour=") + 15, 13);
      auto t = (*conn)->Query(StrCat("SELECT strftime(\"timestamp\" AT TIME ZONE 'UTC', '%Y-%m-%d-%H'), trace_id, "
                                     "start_time_unix_nano FROM read_parquet('",
                                     file, "', file_row_number = true) ORDER BY file_row_number"));
      ASSERT_TRUE(t.ok()) << t.status();
      rows += static_cast<int64_t>(t->rows.size());
      for (size_t i = 0; i < t->rows.size(); ++i) {
        EXPECT_EQ(std::get<std::string>(t->rows[i][0]), dir_hour) << file;
        if (i == 0) continue;
        const auto ka = std::make_pair(std::get<std::string>(t->rows[i - 1][1]), std::get<int64_t>(t->rows[i - 1][2]));
        const auto kb = std::make_pair(std::get<std::string>(t->rows[i][1]), std::get<int64_t>(t->rows[i][2]));
        EXPECT_LE(ka, kb) << file << " row " << i;
      }
    }
    EXPECT_EQ(rows, 21);
  }
}

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

TEST_F(WriterTest, CrashSnapshotReplaysUnflushedRowsExactlyOnce) {
  InCrashingChild([&] {
    auto w = OpenAt(root_ / "crashed");
    Write(*w, 1, 4);
    if (!w->FlushAll().ok()) ::_exit(1);
    Write(*w, 2, 3);  // acknowledged, only in the WAL and the buffer
    if (::testing::Test::HasFailure()) ::_exit(1);
    ::_exit(0);  // the crash: no destructor flushes or closes anything
  });
  auto recovered = OpenAt(root_ / "crashed");
  EXPECT_EQ(Count(*recovered), 7);
  ASSERT_TRUE(recovered->FlushAll().ok());
  EXPECT_EQ(Count(*recovered), 7);
  recovered.reset();
  auto again = OpenAt(root_ / "crashed");
  EXPECT_EQ(Count(*again), 7);
}

// A request is logged while it is decoded, so a malformed one leaves a
// record behind though its client was told INVALID_ARGUMENT. Replay skips
// such records (and only them: a record decoded before it was logged must
// still decode) and keeps every acknowledged row.
TEST_F(WriterTest, MalformedRequestsLoggedWhileDecodingAreSkippedOnReplay) {
  InCrashingChild([&] {
    auto w = OpenAt(root_ / "crashed");
    Write(*w, 1, 4);
    auto bad = w->Write({}, Signal::kTraces, "\x0a\xff\xff\xff\x0f garbage");
    if (bad.ok() || bad.status().code() != absl::StatusCode::kInvalidArgument) ::_exit(2);
    Write(*w, 2, 3);
    if (::testing::Test::HasFailure()) ::_exit(1);
    ::_exit(0);  // the crash: everything is only in the WAL
  });
  const std::string wal_dir = (root_ / "crashed" / "wal" / "default" / "default" / "traces").string();
  {
    auto log = wal::Wal::Open(DefaultFileSystem(), wal_dir, {}, 0);
    ASSERT_TRUE(log.ok()) << log.status();
    std::vector<wal::RecordType> types;
    ASSERT_TRUE((*log)->Replay(0, [&](uint64_t, wal::RecordType type, std::string_view) {
                        types.push_back(type);
                        return absl::OkStatus();
                      }).ok());
    EXPECT_EQ(types, std::vector<wal::RecordType>(3, wal::RecordType::kOtlpExportUnchecked));
  }
  auto recovered = OpenAt(root_ / "crashed");
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(Count(*recovered), 7);
  recovered.reset();

  // The same bytes in a record logged after its decode are damage.
  {
    auto log = wal::Wal::Open(DefaultFileSystem(), wal_dir, {}, 0);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->Append(wal::RecordType::kOtlpExport, "\x0a\xff\xff\xff\x0f garbage").ok());
  }
  WriterOptions o;
  o.maintenance_interval = std::chrono::milliseconds(0);
  o.wal_dir = (root_ / "crashed" / "wal").string();
  o.storage_dir = (root_ / "crashed" / "storage").string();
  auto refused = Writer::Open(o);  // recovers every dataset it finds
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss) << refused.status();
}

// A flush waits for the ingests in flight when it chose its cut-off, and
// only for them: new requests are stored meanwhile, and the slow one's rows
// are in the flush (its record is within the cut-off).
TEST_F(WriterTest, FlushWaitsForIngestsInFlightWithoutStoppingNewOnes) {
  auto w = OpenAt(root_);
  SignalStore& store = (*w->GetDataset({}))->store(Signal::kTraces);
  const std::string slow = MakeRequest(1, 5).SerializeAsString();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto in_flight = std::async(std::launch::async, [&] {
    return store.IngestWhileDecoding(wal::RecordType::kOtlpExportUnchecked, "", slow, [&] {
      released.wait();  // a decode that takes as long as the test wants
      return DecodePayload(Signal::kTraces, slow);
    });
  });
  // Once its record is in the log, a flush starts and waits for it.
  while (w->Stats().wals.at("default/default/traces").last_sequence < 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto flush = std::async(std::launch::async, [&] { return w->FlushAll(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // A new request is stored at once, though the flush is waiting.
  auto other = std::async(std::launch::async, [&] { Write(*w, 2, 3); });
  ASSERT_EQ(other.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(flush.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  release.set_value();
  auto stored = in_flight.get();
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->accepted, 5u);
  ASSERT_TRUE(flush.get().ok());
  EXPECT_GE(w->Stats().tables.at("default/default/traces").committed_rows, 5u);
  EXPECT_EQ(Count(*w), 8);
  ASSERT_TRUE(w->FlushAll().ok());
  EXPECT_EQ(w->Stats().tables.at("default/default/traces").committed_rows, 8u);
  w.reset();
  auto again = OpenAt(root_);
  EXPECT_EQ(Count(*again), 8);
}

// Full buffers make a write wait for the flush it asks for (flushes are
// otherwise an hour apart here) instead of refusing it; with no wait
// configured it is refused at once, retryably.
TEST_F(WriterTest, FullBuffersWaitForAFlushInsteadOfRefusing) {
  auto w = OpenAt(root_, 3, 50, [](WriterOptions& o) {
    o.max_buffer_bytes = 3;  // full after one write; no early flush below 1 byte
    o.max_buffer_wait = std::chrono::seconds(60);
  });
  Write(*w, 1, 10);  // the buffers were empty
  EXPECT_GT(w->BufferedBytes(), 3u);
  EXPECT_EQ(Files(*w), 0u);
  Write(*w, 2, 10);  // waits for the flush of the first
  EXPECT_GE(Files(*w), 1u);
  EXPECT_EQ(Count(*w), 20);

  auto refusing = OpenAt(root_ / "no_wait", 3, 50, [](WriterOptions& o) {
    o.max_buffer_bytes = 3;
    o.max_buffer_wait = std::chrono::milliseconds(0);
  });
  Write(*refusing, 1, 10);
  auto req = MakeRequest(2, 10);
  auto r = refusing->Write({}, Signal::kTraces, req.SerializeAsString());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("buffers are full"), std::string_view::npos);
}

// A large flush is written in chunks of the batches as they arrived (about
// kFlushChunkRows rows each), each chunk sorted on its own into its own file.
// A batch is never split.
TEST_F(WriterTest, LargeFlushesAreWrittenInChunksOfArrivingBatches) {
  auto w = OpenAt(root_, 3, 50, [](WriterOptions& o) { o.flush_threads = 2; });
  // 199 traces of 251 spans, one request each: 49,949 rows, two chunks.
  for (int t = 0; t < 199; ++t) Write(*w, t, 251);
  ASSERT_TRUE(w->FlushAll().ok());
  ASSERT_EQ(Files(*w), 2u);
  EXPECT_EQ(Count(*w), 199 * 251);
  auto ds = w->GetDataset({});
  auto plan = (*ds)->store(Signal::kTraces).PlanScan("traces");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->files.size(), 2u);
  auto conn = (*ds)->db().Connect();
  int64_t total = 0;
  for (size_t i = 0; i < 2; ++i) {
    const std::string& file = plan->files[i];
    auto t = (*conn)->Query(StrCat("SELECT trace_id, start_time_unix_nano FROM read_parquet('", file,
                                   "', file_row_number = true) ORDER BY file_row_number"));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(static_cast<int64_t>(t->rows.size()), plan->stats[i].record_count);
    EXPECT_EQ(t->rows.size() % 251, 0u) << "a request's rows were split";
    EXPECT_GT(t->rows.size(), 90u * 251) << "chunks should be about even";
    for (size_t r = 1; r < t->rows.size(); ++r) {
      const auto ka = std::make_pair(std::get<std::string>(t->rows[r - 1][0]), std::get<int64_t>(t->rows[r - 1][1]));
      const auto kb = std::make_pair(std::get<std::string>(t->rows[r][0]), std::get<int64_t>(t->rows[r][1]));
      ASSERT_LE(ka, kb) << file << " row " << r;
    }
    total += static_cast<int64_t>(t->rows.size());
  }
  EXPECT_EQ(total, 199 * 251);
  // A trace is planned only in the file its rows went to.
  std::string tid(16, '\0');
  tid[15] = static_cast<char>(99 + 1);
  auto one = (*ds)->store(Signal::kTraces).PlanScan(
      "traces", {{SignalStore::Predicate::kStringEquals, "trace_id", HexEncode(tid)}});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->files.size(), 1u);
  EXPECT_EQ(Count(*w, StrCat("trace_id = '", HexEncode(tid), "'")), 251);
}

// A flush takes every flush thread only while ingest is outpacing the
// flushes (half of max_buffer_bytes or more waiting when it starts); a flush
// that keeps up uses one and leaves the other cores to requests.
TEST_F(WriterTest, FlushesTakeEveryFlushThreadOnlyWhileIngestIsBehind) {
  auto traces = [](Writer& w) { return w.Stats().tables.at("default/default/traces"); };
  auto keeping_up = OpenAt(root_ / "keeping_up", 3, 50, [](WriterOptions& o) { o.flush_threads = 2; });
  for (int t = 0; t < 199; ++t) Write(*keeping_up, t, 251);  // two chunks
  const uint64_t buffered = traces(*keeping_up).buffered_bytes;
  ASSERT_GT(buffered, 0u);
  ASSERT_TRUE(keeping_up->FlushAll().ok());
  EXPECT_EQ(Files(*keeping_up), 2u);
  EXPECT_EQ(traces(*keeping_up).widest_flush_threads, 1);
  // The same rows pass half of a smaller buffer limit on the way: the flush
  // that starts then (over 32 k rows: two chunks or more) takes both threads.
  auto behind = OpenAt(root_ / "behind", 3, 50, [&](WriterOptions& o) {
    o.flush_threads = 2;
    o.max_buffer_bytes = buffered * 3 / 2;
  });
  for (int t = 0; t < 199; ++t) Write(*behind, t, 251);
  ASSERT_TRUE(behind->FlushAll().ok());
  EXPECT_EQ(traces(*behind).widest_flush_threads, 2);
  EXPECT_EQ(Count(*behind), 199 * 251);
}

// A busy log keeps trimmed WAL segments as spares to write over; a log idle
// for wal spare_idle deletes them at its next flush, giving their disk back.
TEST_F(WriterTest, IdleLogsDropTheirSpareWalSegments) {
  auto w = OpenAt(root_, 3, 50, [](WriterOptions& o) {
    o.wal.segment_size = 64 << 10;
    o.wal.spare_idle = std::chrono::seconds(3);
  });
  auto spares = [&] {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_)) n += e.path().extension() == ".spare" ? 1 : 0;
    return n;
  };
  for (int t = 0; t < 30; ++t) Write(*w, t, 251);  // a segment per few requests
  ASSERT_TRUE(w->FlushAll().ok());
  EXPECT_EQ(spares(), 2u);
  ASSERT_TRUE(w->FlushAll().ok());  // nothing logged since, but not for long
  EXPECT_EQ(spares(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  ASSERT_TRUE(w->FlushAll().ok());
  EXPECT_EQ(spares(), 0u);
  Write(*w, 30, 251);
  ASSERT_TRUE(w->FlushAll().ok());
  EXPECT_EQ(Count(*w), 31 * 251);
}

TEST(ChunkBatchesTest, EvenRunsOfWholeBatches) {
  auto batches = [](std::vector<size_t> sizes) {
    std::vector<std::shared_ptr<const columnar::Batch>> out;
    for (size_t n : sizes) {
      auto b = std::make_shared<columnar::Batch>(&schema::Traces());
      for (size_t i = 0; i < n; ++i) {
        b->column(schema::kSpanName).AppendString("op");
        b->EndRow();
      }
      out.push_back(std::move(b));
    }
    return out;
  };
  auto shape = [](const std::vector<std::vector<std::shared_ptr<const columnar::Batch>>>& chunks) {
    std::vector<size_t> rows;
    for (const auto& c : chunks) {
      size_t n = 0;
      for (const auto& b : c) n += b->num_rows();
      rows.push_back(n);
    }
    return rows;
  };
  // 115 batches of 1000 rows: four chunks, none far from a quarter.
  EXPECT_EQ(shape(ChunkBatches(batches(std::vector<size_t>(115, 1000)), 32768)),
            (std::vector<size_t>{29000, 29000, 29000, 28000}));
  // Within one chunk's size: one chunk.
  EXPECT_EQ(shape(ChunkBatches(batches({10, 20000, 5}), 32768)), (std::vector<size_t>{20015}));
  // A batch larger than a chunk stays whole.
  EXPECT_EQ(shape(ChunkBatches(batches({100000, 10}), 32768)), (std::vector<size_t>{100000, 10}));
  EXPECT_TRUE(ChunkBatches({}, 32768).empty());
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

// Traces files use small row groups, so a lookup by trace id (files are
// sorted by it) reads one small group.
TEST_F(WriterTest, TraceFilesHaveSmallRowGroups) {
  auto w = OpenAt(root_, 3, 50, [](WriterOptions& o) { o.flush_threads = 1; });
  for (int t = 0; t < 128; ++t) Write(*w, t, 250);  // 32,000 spans: one flush chunk
  ASSERT_TRUE(w->FlushAll().ok());
  ASSERT_EQ(Files(*w), 1u);
  std::string file;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "storage")) {
    if (e.path().extension() == ".parquet") file = e.path().string();
  }
  auto ds = w->GetDataset({});
  auto conn = (*ds)->db().Connect();
  auto t = (*conn)->Query("SELECT count(DISTINCT row_group_id), max(row_group_num_rows) FROM parquet_metadata('" +
                          file + "')");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(std::get<int64_t>(t->rows[0][0]), 2);  // 32,000 / 16,384, rounded up
  EXPECT_EQ(std::get<int64_t>(t->rows[0][1]), kTraceRowGroupRows);
}

// Trace lookups plan only the files whose trace-id filter may hold the trace,
// where column bounds cannot help (every file spans the whole id range);
// filters survive compaction and restarts, and go with their files.
TEST_F(WriterTest, TraceIndexPrunesFilesBoundsCannot) {
  auto id = [](int file, int n) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%02x%014x%016x", (n * 37 + file * 11) % 256, file, n);
    return std::string(buf);
  };
  auto write_file = [&](Writer& w, int file) {
    ExportTraceServiceRequest req;
    auto* ss = req.add_resource_spans()->add_scope_spans();
    for (int n = 0; n < 40; ++n) {
      auto* s = ss->add_spans();
      s->set_trace_id(*HexDecode(id(file, n)));
      s->set_span_id(std::string(7, '\0') + static_cast<char>(n + 1));
      s->set_name("op");
      s->set_start_time_unix_nano(1700000000000000000ULL + n);
      s->set_end_time_unix_nano(1700000000000001000ULL + n);
    }
    // Ids from 00.. to ff.. in every file: bounds keep every file.
    ss->mutable_spans(0)->set_trace_id(*HexDecode("00" + id(file, 0).substr(2)));
    ss->mutable_spans(1)->set_trace_id(*HexDecode("ff" + id(file, 1).substr(2)));
    ASSERT_TRUE(w.Write({}, Signal::kTraces, req.SerializeAsString()).ok());
    ASSERT_TRUE(w.FlushAll().ok());
  };
  auto plan = [&](Writer& w, const std::string& trace) {
    auto ds = w.GetDataset({});
    auto p = (*ds)->store(Signal::kTraces).PlanScan("traces", {{SignalStore::Predicate::kStringEquals, "trace_id", trace}});
    EXPECT_TRUE(p.ok()) << p.status();
    return std::move(*p);
  };
  {
    auto w = OpenAt(root_, 3, 1);
    for (int f = 0; f < 12; ++f) write_file(*w, f);
    EXPECT_EQ(plan(*w, id(7, 20)).total_files, 12u);
    // Each present trace plans its own file (never pruned) plus rare false
    // positives among the other eleven; an absent one plans almost none.
    size_t planned = 0, absent = 0;
    for (int f = 0; f < 12; ++f) {
      for (int n = 2; n < 40; ++n) {
        size_t k = plan(*w, id(f, n)).files.size();
        EXPECT_GE(k, 1u) << id(f, n);
        planned += k;
      }
    }
    for (int n = 0; n < 100; ++n) absent += plan(*w, id(99, n)).files.size();
    EXPECT_LE(planned, 12u * 38 + 10) << "12 files x 38 lookups would be " << 12 * 12 * 38;
    EXPECT_LE(absent, 5u) << "of 1200 without filters";
    EXPECT_EQ(Count(*w, "trace_id = '" + id(7, 20) + "'"), 1);
    size_t filters = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "storage")) filters += e.path().extension() == ".tidx";
    EXPECT_EQ(filters, 12u);

    // Compaction writes a filter for its output; the replaced files' filters
    // go with them.
    auto now = std::chrono::system_clock::now();
    ASSERT_TRUE(w->MaintainAll(now).ok());
    ASSERT_TRUE(w->MaintainAll(now + std::chrono::hours(1)).ok());
    EXPECT_EQ(Files(*w), 1u);
    filters = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "storage")) filters += e.path().extension() == ".tidx";
    EXPECT_EQ(filters, 1u);
    EXPECT_EQ(plan(*w, id(7, 20)).files.size(), 1u);
  }
  auto absent_planned = [&](Writer& w) {
    size_t n = 0;
    for (int i = 0; i < 100; ++i) n += plan(w, id(99, i)).files.size();
    return n;
  };
  auto w = OpenAt(root_, 3, 1, [](WriterOptions& o) { o.use_trace_index = false; });
  EXPECT_EQ(absent_planned(*w), 100u);  // without filters: bounds only
  w.reset();
  w = OpenAt(root_, 3, 1);
  EXPECT_LE(absent_planned(*w), 5u);  // the filter, loaded back from its sidecar
  EXPECT_EQ(Count(*w, "trace_id = '" + id(3, 9) + "'"), 1);
}

}  // namespace
}  // namespace signaldb::writer
