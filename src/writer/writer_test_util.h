// What the writer's tests share: a fixture that opens writers on a scratch
// directory and writes small trace requests, and helpers for crash tests.
// For tests only.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "writer/writer.h"

namespace signaldb::writer {

namespace fs = std::filesystem;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

inline ExportTraceServiceRequest MakeRequest(int trace, int spans, uint64_t start_ns = 1700000000000000000ULL) {
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
    s->set_start_time_unix_nano(start_ns + i);
    s->set_end_time_unix_nano(start_ns + 1000 + i);
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
  std::unique_ptr<Writer> OpenAt(const fs::path& dir, int compression_level = 3, size_t snapshots_kept = 50,
                                 std::function<void(WriterOptions&)> tweak = nullptr) {
    WriterOptions o;
    o.maintenance_interval = std::chrono::milliseconds(0);  // tests run maintenance themselves
    o.compression_level = compression_level;
    o.expiry.max_snapshots = snapshots_kept;
    o.wal_dir = (dir / "wal").string();
    o.storage_dir = (dir / "storage").string();
    o.flush_interval = std::chrono::hours(1);  // flushes only when the test asks
    if (tweak) tweak(o);
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
  // Row count and an order-independent digest of every row's content.
  std::pair<int64_t, std::string> Digest(Writer& w) {
    auto ds = w.GetDataset({});
    auto conn = (*ds)->db().Connect();
    auto t = (*conn)->Query(
        "SELECT count(*), CAST(sum(hash(trace_id, span_id, span_name, start_time_unix_nano, end_time_unix_nano)) AS "
        "VARCHAR) FROM traces");
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return {-1, ""};
    return {std::get<int64_t>(t->rows[0][0]), std::get<std::string>(t->rows[0][1])};
  }
  uint64_t Files(Writer& w) { return w.Stats().tables.at("default/default/traces").committed_files; }
  void Write(Writer& w, int trace, int spans, uint64_t start_ns = 1700000000000000000ULL) {
    auto req = MakeRequest(trace, spans, start_ns);
    auto r = w.Write({}, Signal::kTraces, req.SerializeAsString());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->accepted, static_cast<uint64_t>(spans));
  }
  fs::path root_;
};

// Bytes of the Parquet files under `dir`.
inline uint64_t ParquetBytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (f.is_regular_file() && f.path().extension() == ".parquet") total += f.file_size();
  }
  return total;
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

}  // namespace signaldb::writer
