// The writer role: every dataset's tables, and the background flusher.
//
// Datasets open lazily on first use: <wal_dir>/<tenant>/<dataset>/<signal>/
// for the WAL, <storage_dir>/<tenant>/<dataset>/<table>/ for data. Each
// dataset has its own DuckDB database confined to its storage directory, so
// queries of one tenant cannot read another's files.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/fs.h"
#include "common/tenant.h"
#include "engine/engine.h"
#include "otlp/trace_decoder.h"
#include "writer/table_store.h"

namespace signaldb::writer {

struct WriterOptions {
  FileSystem* fs = DefaultFileSystem();
  std::string wal_dir;
  std::string storage_dir;
  wal::Options wal;
  std::chrono::milliseconds flush_interval{5000};
  uint64_t max_buffer_rows = 200000;
};

class Dataset {
 public:
  static absl::StatusOr<std::unique_ptr<Dataset>> Open(const WriterOptions& options, const TenantContext& ctx);
  engine::Database& db() { return *db_; }
  TableStore& traces() { return *traces_; }
  const TenantContext& context() const { return ctx_; }
  absl::Status Flush();
  absl::Status Close();

 private:
  Dataset() = default;
  TenantContext ctx_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<TableStore> traces_;  // declared after db_: destroyed first
};

struct ExportResult {
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  std::string message;  // why records were rejected
};

class Writer {
 public:
  static absl::StatusOr<std::unique_ptr<Writer>> Open(WriterOptions options);
  ~Writer();

  // The dataset of `ctx`, opened (and recovered) on first use.
  absl::StatusOr<Dataset*> GetDataset(const TenantContext& ctx);

  // Durably stores a trace export. `request` is the parsed request, `payload`
  // its serialized form (what the WAL keeps). OK means acknowledged.
  absl::StatusOr<ExportResult> WriteTraces(
      const TenantContext& ctx,
      const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
      std::string_view payload);

  absl::Status FlushAll();
  // Stops the flusher, flushes every buffer and closes the WALs.
  absl::Status Close();

  // A JSON-able snapshot of every dataset's table stats.
  std::map<std::string, TableStats> Stats();
  bool Healthy(std::string* why);

 private:
  explicit Writer(WriterOptions options);
  void FlusherLoop();

  const WriterOptions options_;
  std::mutex mu_;
  std::map<TenantContext, std::unique_ptr<Dataset>> datasets_;
  bool closed_ = false;

  std::mutex flusher_mu_;
  std::condition_variable flusher_cv_;
  bool stop_ = false;
  bool flush_requested_ = false;
  std::thread flusher_;
};

}  // namespace signaldb::writer
