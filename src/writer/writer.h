// The writer role: every dataset's signals, and the background flusher.
//
// Datasets open on first use (and at start for those on disk):
// <wal_dir>/<tenant>/<dataset>/<signal>/ for the WAL,
// <storage_dir>/<tenant>/<dataset>/<table>/ for data. Each dataset has its own
// DuckDB database confined to its storage directory, so queries of one
// tenant cannot read another's files.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/fs.h"
#include "common/tenant.h"
#include "engine/engine.h"
#include "engine/row_source.h"
#include "otlp/attribute_limits.h"
#include "writer/signal_store.h"

namespace signaldb::writer {

// The nice value of the writer's background threads (flusher, flush
// helpers, maintenance): the lowest, so a request's decode on another thread
// takes the core from a flush at once (docs/ingest-performance.md: p99 at
// half the maximum rate 9.8 / 11.0 / 10.5 ms with 5, 7.2 / 9.4 / 8.5 with 19).
// When ingest is waiting for buffer room it is not competing, and the flush
// gets the cores; a query load that keeps every core busy slows flushes
// until ingest waits for room (backpressure) too.
inline constexpr int kBackgroundNice = 19;

// Threads logging requests while they are decoded. Each waits on a WAL
// append (a group commit's fsync), so there are as many as the acceptor's
// default workers for gRPC and HTTP together; more concurrent ingests than
// this queue for a thread, which delays their append, not their decode.
inline constexpr int kLogThreads = 64;

struct WriterOptions {
  FileSystem* fs = DefaultFileSystem();
  std::string wal_dir;
  std::string storage_dir;
  wal::Options wal;
  std::chrono::milliseconds flush_interval{5000};
  uint64_t max_buffer_rows = 200000;
  // The Iceberg SQL catalog: a postgresql:// URI or a SQLite path (see
  // catalog::OpenCatalog); empty means SQLite at <storage_dir>/catalog.db.
  std::string catalog_uri;
  // Where tables live: "file:///dir", "memory://name" or "s3://bucket/prefix";
  // empty means file://<storage_dir>. Remote data files are staged and cached
  // under <storage_dir>/<tenant>/<dataset>/.
  std::string storage_uri;
  objstore::S3Options s3;
  // Per-dataset ("tenant/dataset") overrides of storage_uri.
  std::map<std::string, std::string> dataset_storage;
  // Further per-dataset overrides, asked when a dataset opens (datasets made
  // through the admin API); "" for none.
  std::function<std::string(const TenantContext&)> storage_of;
  // Bytes of remote data files each dataset keeps in its local cache.
  uint64_t cache_bytes = 10ull << 30;
  // Unflushed bytes held across datasets; past it writes wait up to
  // max_buffer_wait for a flush to make room (backpressure: the client's
  // next request waits for this one's answer), then answer Unavailable
  // (retry later). A flush starts early once half of it is used.
  uint64_t max_buffer_bytes = 1ull << 30;
  std::chrono::milliseconds max_buffer_wait{2000};
  // zstd level of the Parquet data files.
  int compression_level = 1;
  // Who encodes flushed Parquet files: our writer or DuckDB's COPY.
  ParquetEncoder parquet_encoder = ParquetEncoder::kNative;
  // Threads encoding a flush's files in parallel (our encoder only; a file
  // per kFlushChunkRows rows and hour) while ingest outpaces the flushes
  // (half of max_buffer_bytes or more is waiting when a flush starts); 0:
  // one per core. A flush that is keeping up uses one thread.
  int flush_threads = 0;
  // Which snapshots each table keeps.
  iceberg::ExpiryPolicy expiry;
  // Whether trace lookups consult the per-file trace-id filters.
  bool use_trace_index = true;
  // Background maintenance of every table (retention, compaction, cleanup
  // of unreferenced files) runs this often; 0 disables it.
  std::chrono::milliseconds maintenance_interval{60000};
  MaintenanceOptions maintenance;
  // Retention per tenant ("acme") or dataset ("acme/prod"), overriding
  // maintenance.retention; the dataset's entry wins over its tenant's.
  std::map<std::string, std::chrono::milliseconds> retention_overrides;
};

// The tables a signal's rows go to, in the order of Decoded::batches.
std::vector<const columnar::Schema*> TablesOf(Signal signal);
// Decodes a serialized Export*ServiceRequest of `signal` into rows, under
// attribute `limits` (null: none). InvalidArgument when the bytes are not
// such a request. When the limits changed the rows, the result says to log
// the request as a limited record, so replay applies the same limits.
absl::StatusOr<Decoded> DecodePayload(Signal signal, std::string_view payload,
                                      const otlp::AttributeLimits* limits = nullptr);
// Decodes a WAL record of `signal` (what replay reads) into the rows it was
// acknowledged with: plain requests without limits, limited ones under the
// limits they carry. DataLoss for an unknown record type or limits header.
absl::StatusOr<Decoded> DecodeWalRecord(Signal signal, wal::RecordType type, std::string_view payload);

class Dataset {
 public:
  // `store` (not owned) holds the dataset's tables under "<tenant>/<dataset>/";
  // `log_pool` (not owned, may be null) logs requests while they are decoded.
  static absl::StatusOr<std::unique_ptr<Dataset>> Open(const WriterOptions& options, catalog::Catalog* catalog,
                                                       objstore::ObjectStore* store, const TenantContext& ctx,
                                                       ThreadPool* log_pool = nullptr);
  engine::Database& db() { return *db_; }
  SignalStore& store(Signal s) { return *stores_[static_cast<int>(s)]; }
  const TenantContext& context() const { return ctx_; }
  // `wide`: as SignalStore::Flush.
  absl::Status Flush(bool wide = true);
  absl::Status Close();
  absl::StatusOr<MaintenanceReport> Maintain(const MaintenanceOptions& options,
                                             std::chrono::system_clock::time_point now);

 private:
  // Serves the stores' buffered batches to DuckDB (view or flush mode).
  class Buffers final : public engine::RowSource {
   public:
    Buffers(Dataset* ds, bool flush) : ds_(ds), flush_(flush) {}
    const columnar::Schema* TableSchema(const std::string& table) const override;
    std::vector<std::shared_ptr<const columnar::Batch>> Snapshot(const std::string& table,
                                                                 int64_t arg) const override;
    // Flush mode hands rows over in the table's sort order.
    std::vector<columnar::RowRef> Order(const std::string& table,
                                        const std::vector<std::shared_ptr<const columnar::Batch>>& batches) const override;

   private:
    Dataset* ds_;
    bool flush_;
  };
  Dataset() : view_buffers_(this, false), flush_buffers_(this, true) {}
  TenantContext ctx_;
  Buffers view_buffers_, flush_buffers_;
  std::unique_ptr<objstore::DiskCache> cache_;  // remote stores only; outlives the stores
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Database> flush_db_;
  std::unique_ptr<SignalStore> stores_[3];  // declared after db_: destroyed first
};

struct ExportResult {
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t truncated = 0;  // of the accepted, stored with attributes truncated to limits
  // Why records were rejected, and which limits truncated records (OTLP's
  // partialSuccess.error_message; a warning when nothing was rejected).
  std::string message;
};

class Writer {
 public:
  static absl::StatusOr<std::unique_ptr<Writer>> Open(WriterOptions options);
  ~Writer();

  // The dataset of `ctx`, opened (and recovered) on first use.
  absl::StatusOr<Dataset*> GetDataset(const TenantContext& ctx);

  // Durably stores one serialized Export*ServiceRequest of `signal`, decoded
  // under `limits` (null: none) while it is logged. OK means acknowledged: in
  // the WAL (fsynced) and queryable. InvalidArgument when the payload does
  // not decode; storage failures are Unavailable. Waits for buffer room
  // first (WaitForCapacity, up to `deadline`).
  absl::StatusOr<ExportResult> Write(
      const TenantContext& ctx, Signal signal, std::string_view payload, const otlp::AttributeLimits* limits = nullptr,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
  // The same, with rows the caller already decoded from `payload`.
  absl::StatusOr<ExportResult> WriteDecoded(const TenantContext& ctx, Signal signal, std::string_view payload,
                                            Decoded decoded);

  // OK once the buffers have room, waiting up to max_buffer_wait (and never
  // past `deadline`: the client's own, after which it has given up and will
  // resend) for flushes to make it; then, while closing, or at once while
  // the last flush failed (any dataset's), Unavailable (retry later).
  // Callers wait before decoding, so a refused request costs almost nothing.
  // Room is not reserved: requests let in together may take the buffers past
  // max_buffer_bytes by what they hold, which the acceptor's in-flight limit
  // bounds.
  absl::Status WaitForCapacity(
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

  // FailedPrecondition when `ctx`'s dataset already holds data on other
  // storage than `dsn` ("" for the default) would give it (a deleted dataset
  // made again with other storage).
  absl::Status CheckStorage(const TenantContext& ctx, const std::string& dsn);

  absl::Status FlushAll();
  // One maintenance pass over every dataset, as the background maintainer
  // runs it (tests call it with a chosen `now`).
  absl::StatusOr<MaintenanceReport> MaintainAll(std::chrono::system_clock::time_point now);
  // The retention that applies to `ctx`.
  std::chrono::milliseconds RetentionFor(const TenantContext& ctx) const;
  // Stops the flusher, flushes every buffer and closes the WALs.
  absl::Status Close();

  // Stats of every table, keyed "tenant/dataset/table", and of every WAL,
  // keyed "tenant/dataset/signal".
  struct AllStats {
    std::map<std::string, TableStats> tables;
    std::map<std::string, wal::Stats> wals;
  };
  AllStats Stats();
  // Bytes held in unflushed buffers, across datasets.
  uint64_t BufferedBytes();
  bool Healthy(std::string* why);
  // How long opening (WAL replay of every dataset) took.
  int64_t recovery_ms() const { return recovery_ms_; }

 private:
  // Unavailable (retry later) while the write buffers are full.
  absl::Status CheckCapacity();
  explicit Writer(WriterOptions options);
  void FlusherLoop();
  void MaintainerLoop();
  void RequestFlush();

  // Where `ctx`'s dataset lives: [storage.datasets], else where it was first
  // opened (the marker), else storage_of, else the default storage.
  std::string StorageUri(const TenantContext& ctx) const;
  std::string DefaultStorageUri() const;
  // <wal_dir>/<tenant>/<dataset>/storage.uri: the storage a dataset on other
  // than the default storage was opened on, so it reopens there even when the
  // service database no longer names it (the dataset was deleted).
  std::string StorageMarker(const TenantContext& ctx) const;
  // The object store at `uri`, opened on first use.
  absl::StatusOr<objstore::ObjectStore*> StoreFor(const std::string& uri);

  const WriterOptions options_;
  // Threads appending to the WALs while ingest decodes (SignalStore::
  // IngestWhileDecoding); they mostly wait for fsyncs. Destroyed last.
  ThreadPool log_pool_{kLogThreads};
  std::unique_ptr<catalog::Catalog> catalog_;
  std::mutex stores_mu_;
  std::map<std::string, std::unique_ptr<objstore::ObjectStore>> stores_;  // by URI
  int64_t recovery_ms_ = 0;
  std::mutex mu_;
  std::map<TenantContext, std::unique_ptr<Dataset>> datasets_;
  std::map<TenantContext, std::string> dataset_uris_;  // where each open dataset lives
  bool closed_ = false;

  std::mutex flusher_mu_;
  std::condition_variable flusher_cv_;
  bool stop_ = false;
  bool flush_requested_ = false;
  std::thread flusher_;
  std::thread maintainer_;  // waits on flusher_cv_ too, for stop_

  // Writers waiting for room in the buffers; told after every dataset flush.
  std::mutex capacity_mu_;
  std::condition_variable capacity_cv_;
  std::atomic<bool> last_flush_failed_{false};
  // Wakes WaitForCapacity's waiters to look again.
  void NotifyCapacity();
};

}  // namespace signaldb::writer
