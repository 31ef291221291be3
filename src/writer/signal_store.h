// One signal (traces, logs or metrics) of one dataset: its WAL, and for each
// of its tables an in-memory buffer and the committed Parquet files.
//
// Ingest(): the serialized export request goes to the WAL (fsync) while it
// is decoded, then its decoded batches join each table's in-memory buffer,
// tagged with the WAL sequence; no DuckDB work happens on this path. Queries read the view
// `<table>` = read_parquet(committed files) UNION ALL
// sdb_buffer('<table>', G): the buffer is served by a table function, and G
// (the view's generation) selects the batches not yet in the files the view
// lists. Flush(): for each table, the batches up to sequence S are written to
// a new Parquet file (DuckDB reads them through sdb_flushing('<table>', S));
// the table's manifest (file list + S) is replaced atomically (the commit);
// the batches are marked as part of generation G+1, then the view is
// redefined with the new file and G+1, so every query sees each row exactly
// once; once every table has committed S, WAL segments <= S are deleted.
// On open, WAL records after the lowest committed sequence are decoded again,
// and each table takes back only rows it has not committed: nothing
// acknowledged is lost and nothing committed is loaded twice.
//
// Thread-safety: Ingest() is safe from many threads; Flush() serializes itself.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "columnar/batch.h"
#include "common/fs.h"
#include "common/thread_pool.h"
#include "catalog/catalog.h"
#include "engine/engine.h"
#include "iceberg/table.h"
#include "objstore/disk_cache.h"
#include "objstore/object_store.h"
#include "wal/wal.h"
#include "writer/data_files.h"
#include "writer/trace_index.h"

namespace signaldb::writer {

// Rows decoded from one export request: one batch per table of the signal,
// in the order the tables were given to SignalStore::Open.
struct Decoded {
  std::vector<columnar::Batch> batches;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  std::string first_error;  // why the first rejected record was rejected
  uint64_t truncated = 0;   // records stored with attributes truncated to limits
  std::string truncation;   // which limits truncated them (empty: none)
  // The WAL record that gives these rows back on replay: its type, and bytes
  // logged before the payload (writer/wal_record.h).
  wal::RecordType record_type = wal::RecordType::kOtlpExport;
  std::string record_head;
  uint64_t rows() const {
    uint64_t n = 0;
    for (const auto& b : batches) n += b.num_rows();
    return n;
  }
};

// Names of the table functions serving buffered rows (see SignalStore).
inline constexpr const char* kViewFunction = "sdb_buffer";
inline constexpr const char* kFlushFunction = "sdb_flushing";

// Decodes a WAL record (type and payload, as Ingest logged it) into rows.
using PayloadDecoder = std::function<absl::StatusOr<Decoded>(wal::RecordType type, std::string_view payload)>;

// About how many buffered rows our encoder writes to one file: a flush's
// batches are taken in chunks of consecutive batches of about this many rows
// (ChunkBatches), each sorted and encoded on its own, so what one encoder
// gathers stays in the caches.
inline constexpr size_t kFlushChunkRows = 32768;

// `batches` cut into runs of consecutive batches of about `rows` rows each:
// as many runs as `rows` fits into the total (rounded up), cut where a run
// reaches its even share; a batch is never split.
std::vector<std::vector<std::shared_ptr<const columnar::Batch>>> ChunkBatches(
    const std::vector<std::shared_ptr<const columnar::Batch>>& batches, size_t rows);

struct SignalStoreOptions {
  FileSystem* fs;
  catalog::Catalog* catalog;          // where the tables' Iceberg metadata is registered
  std::vector<std::string> ns;        // Iceberg namespace: {tenant, dataset}
  std::string wal_dir;      // this signal's WAL directory
  // Where the tables live: data and metadata under "<prefix>/<table>/" in
  // `store` (not owned). Data files of stores without local paths (S3,
  // memory) are written to storage_dir first, uploaded, and read back
  // through `cache` (not owned; required for such stores).
  objstore::ObjectStore* store = nullptr;
  std::string prefix;
  objstore::DiskCache* cache = nullptr;
  std::string storage_dir;  // the dataset's local directory (staging, DuckDB temp files)
  wal::Options wal;
  int compression_level = 1;  // zstd level of the Parquet data files
  // Who encodes a flush's Parquet files (data_files.h).
  ParquetEncoder parquet_encoder = ParquetEncoder::kNative;
  // Threads that log requests while ingest decodes them (IngestWhileDecoding);
  // not owned. Null: the WAL append follows a successful decode on the caller's
  // thread.
  ThreadPool* log_pool = nullptr;
  // Threads encoding one flush's files (our encoder only; a flush has a file
  // per kFlushChunkRows rows and hour) when the flush is called wide; one
  // otherwise.
  int flush_threads = 1;
  iceberg::ExpiryPolicy expiry;
  // Whether trace lookups consult the files' trace-id filters (they are
  // always written); off only to measure what they save.
  bool use_trace_index = true;
};

struct MaintenanceOptions {
  bool compaction = true;
  // Compaction merges a partition's small files (below 3/4 of this) into
  // files of about this size.
  uint64_t target_file_bytes = 128ull << 20;
  // A partition of the current or previous hour is compacted once it has
  // this many small files; older partitions once they have two.
  size_t min_input_files = 4;
  // Partitions whose hour ended longer ago than this are dropped (0: never).
  std::chrono::milliseconds retention{0};
  // Unreferenced files younger than this are left alone.
  std::chrono::milliseconds orphan_grace{15 * 60 * 1000};
  // zstd level of compacted files; 0: the flush level.
  int compression_level = 0;
};

struct MaintenanceReport {
  uint64_t compacted_files = 0;  // input files replaced
  uint64_t compacted_outputs = 0;
  uint64_t expired_files = 0;  // files dropped by retention
  uint64_t expired_rows = 0;
  uint64_t orphans_removed = 0;
  MaintenanceReport& operator+=(const MaintenanceReport& o) {
    compacted_files += o.compacted_files;
    compacted_outputs += o.compacted_outputs;
    expired_files += o.expired_files;
    expired_rows += o.expired_rows;
    orphans_removed += o.orphans_removed;
    return *this;
  }
};

struct TableStats {
  uint64_t buffered_rows = 0;
  uint64_t buffered_bytes = 0;
  uint64_t committed_files = 0;
  uint64_t committed_rows = 0;
  uint64_t committed_sequence = 0;
  uint64_t flushes = 0;
  int widest_flush_threads = 0;  // the most threads any flush's files were encoded by
  int64_t oldest_unflushed_ms = 0;  // age of the oldest buffered batch
  std::string last_flush_error;
};

struct SignalStats {
  std::map<std::string, TableStats> tables;
  wal::Stats wal;
};

class SignalStore {
 public:
  // Loads the manifests and replays the WAL into memory. `db` is not owned
  // and must outlive the store; call CreateViews() once the database's
  // buffer functions can reach this store.
  // `db` holds the views queries read; `flush_db` writes Parquet files (a
  // separate, single-threaded instance, so flushing never takes every core
  // from ingest). Neither is owned; both must outlive the store.
  static absl::StatusOr<std::unique_ptr<SignalStore>> Open(const SignalStoreOptions& options,
                                                           std::vector<const columnar::Schema*> tables,
                                                           engine::Database* db, engine::Database* flush_db,
                                                           PayloadDecoder decoder);
  ~SignalStore();

  // Defines each table's view (committed files + buffered batches) in the database.
  absl::Status CreateViews();

  // Makes `payload` durable (as a record of decoded.record_type, after
  // decoded.record_head), then buffers `decoded` (its rows). Returns the WAL
  // sequence once both are done; on error nothing may be acknowledged.
  absl::StatusOr<uint64_t> Ingest(std::string_view payload, Decoded decoded);
  // The same for a request not decoded yet: `payload` is logged as a record
  // of `type` (kOtlpExportUnchecked or kOtlpExportLimitedUnchecked, after
  // `head`) on a log_pool thread while `decode` runs on this one, so the
  // fsync and the decode overlap. A request that does not decode gets
  // decode's error (replay skips its record); otherwise its rows are
  // buffered once the record is durable.
  absl::StatusOr<Decoded> IngestWhileDecoding(wal::RecordType type, std::string_view head, std::string_view payload,
                                              const std::function<absl::StatusOr<Decoded>()>& decode);

  // The buffered batches of `table` that a view of generation `gen` must add
  // to its files (view mode), or that a flush through sequence `cut` writes
  // (flush mode). Empty for an unknown table.
  std::vector<std::shared_ptr<const columnar::Batch>> ViewSnapshot(const std::string& table, int64_t gen) const;
  std::vector<std::shared_ptr<const columnar::Batch>> FlushSnapshot(const std::string& table, uint64_t cut) const;
  // The schema of `table` if this store has it.
  const columnar::Schema* TableSchema(const std::string& table) const;

  // What a query of `table` must read: the committed files that can hold
  // rows matching every predicate, judged by the files' Iceberg column
  // bounds, plus the buffer generation that completes them (pass it to
  // sdb_buffer). Files and generation are taken together, so the rows are
  // those of one consistent state.
  struct Predicate {
    enum Kind { kStringEquals, kIntAtLeast, kIntAtMost } kind;
    std::string column;
    std::string text;     // kStringEquals
    int64_t number = 0;   // kIntAtLeast / kIntAtMost (the column's value >= / <= number)
  };
  struct ScanPlan {
    std::vector<std::string> files;  // local paths DuckDB can open
    // The catalog's record of each file, in the same order (file_path is
    // the file's lasting name; statistics by field id).
    std::vector<iceberg::DataFile> stats;
    int64_t generation = 0;
    size_t total_files = 0;  // before pruning
    uint64_t bytes = 0;      // of the planned files
    // Cached copies of remote files, kept from eviction while the plan lives.
    std::vector<objstore::CachedFile> pins;
  };
  // Remote files are fetched into the disk cache; ResourceExhausted when
  // they would not fit in it.
  absl::StatusOr<ScanPlan> PlanScan(const std::string& table, const std::vector<Predicate>& predicates = {}) const;
  // Bytes of every committed data file of `table` (no fetching).
  uint64_t StoredBytes(const std::string& table) const;
  // The SQL of a query view of `table` over a plan's files and buffer
  // generation (what CreateViews defines for local stores).
  std::string PlannedViewSql(const std::string& table, const ScanPlan& plan) const;
  // Whether data files are read from local paths (file://) or fetched.
  bool remote() const { return options_.cache != nullptr; }

  // Writes buffered rows to Parquet and commits them. No-op when empty.
  // `wide`: the files may be encoded by every flush thread (the writer says
  // so while ingest outpaces the flushes); else by one, leaving the other
  // cores to the requests a flush would delay.
  absl::Status Flush(bool wide = true);

  // Background maintenance of every table: drops partitions past retention,
  // compacts small files, and deletes files no kept snapshot references.
  // Safe to run while ingest, flushes and queries go on.
  absl::StatusOr<MaintenanceReport> Maintain(const MaintenanceOptions& options,
                                             std::chrono::system_clock::time_point now);
  absl::Status Close();

  uint64_t buffered_rows() const { return buffered_rows_.load(); }
  uint64_t buffered_bytes() const { return buffered_bytes_.load(); }
  SignalStats Stats() const;

 private:
  struct FileEntry {
    std::string path;       // absolute local path; empty for remote stores
    std::string key;        // object key in options_.store
    iceberg::DataFile file;  // as committed: URI, partition, size, statistics
    // Trace-id filter of a traces file; null when the file has none (the
    // file is then always read).
    std::shared_ptr<const TraceIndex> trace_index;
  };
  static constexpr int64_t kUncommitted = INT64_MAX;
  struct Buffered {
    std::shared_ptr<const columnar::Batch> batch;
    uint64_t seq;
    int64_t committed_gen = kUncommitted;  // view generation whose files hold it
    std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
  };
  struct Table {
    const columnar::Schema* schema;
    std::string prefix;            // <prefix>/<table>: the table's keys in the store
    std::unique_ptr<iceberg::IcebergTable> iceberg;  // guarded by flush_mu_
    std::vector<FileEntry> files;  // the current snapshot's files; guarded by flush_mu_
    uint64_t committed_seq = 0;    // guarded by flush_mu_
    // The metadata location the last cleanup saw, and whether it left
    // unreferenced files for a later pass (too young); guarded by flush_mu_.
    std::string cleaned_location;
    bool cleanup_pending = false;
    mutable std::mutex mu;         // guards buffer and gen
    std::vector<Buffered> buffer;
    int64_t gen = 0;               // generation of the current view
  };
  SignalStore(SignalStoreOptions options, engine::Database* db, engine::Database* flush_db, PayloadDecoder decoder);
  absl::Status LoadTable(Table& t);
  // Writes the trace-id filter of a traces data file beside it, from the
  // ids given. Returns null for tables without trace ids.
  absl::StatusOr<std::shared_ptr<const TraceIndex>> WriteTraceIndex(const Table& t, const std::string& data_key,
                                                                    const std::vector<std::string_view>& ids);
  // Where DuckDB writes the data file `key` before Publish(): its final
  // path on local stores, a staging path otherwise.
  std::string WritePath(const std::string& key) const;
  // Makes a written data file durable at `key` (sync on local stores,
  // upload and remove the staging copy otherwise).
  absl::Status Publish(const std::string& local_path, const std::string& key);
  // Local paths of `files`, fetching remote ones into the cache.
  absl::Status Localize(const std::vector<const FileEntry*>& files, ScanPlan* plan) const;
  // Deletes files under the table's data/ and metadata/ directories that no
  // kept snapshot references and that are older than `grace` (files of a
  // flush or compaction in progress are young). Caller holds flush_mu_.
  absl::StatusOr<uint64_t> RemoveUnreferenced(Table& t, std::chrono::milliseconds grace,
                                              std::chrono::system_clock::time_point now);
  absl::Status ApplyRetention(Table& t, const MaintenanceOptions& o, std::chrono::system_clock::time_point now,
                              MaintenanceReport* report);
  // Merges one group of a partition's files into a new published file.
  // Records what it wrote in `keys`/`locals` (for cleanup on failure).
  absl::StatusOr<FileEntry> CompactGroup(Table& t, engine::Connection& conn, int32_t hour,
                                         const std::vector<FileEntry>& group, int level,
                                         std::vector<std::string>* keys, std::vector<std::string>* locals);
  absl::StatusOr<uint64_t> CompactTable(Table& t, const MaintenanceOptions& o,
                                        std::chrono::system_clock::time_point now, MaintenanceReport* report);
  // Swaps `removed` for `added` in the table's file list and view after a
  // committed rewrite. Caller holds flush_mu_.
  absl::Status ReplaceFiles(Table& t, const std::set<std::string>& removed, std::vector<FileEntry> added);
  std::string ViewSql(const Table& t, const std::vector<FileEntry>& files) const;
  void AppendToBuffer(Table& t, columnar::Batch batch, uint64_t seq);
  Table* FindTable(const std::string& name) const;
  absl::Status FlushTable(Table& t, engine::Connection& conn, uint64_t cut, bool wide);
  // Writes `rows` of `batches` (in that order) to `path` with our own
  // Parquet writer.
  absl::Status WriteNativeParquet(const Table& t, const std::vector<std::shared_ptr<const columnar::Batch>>& batches,
                                  std::span<const columnar::RowRef> rows, const std::string& path);
  absl::StatusOr<std::unique_ptr<engine::Connection>> AcquireConnection();
  void ReleaseConnection(std::unique_ptr<engine::Connection> conn);
  void RecordFlushError(const Table& t, const absl::Status& st);

  const SignalStoreOptions options_;
  engine::Database* const db_;
  engine::Database* const flush_db_;
  const PayloadDecoder decoder_;
  std::vector<std::unique_ptr<Table>> tables_;
  std::unique_ptr<wal::Wal> wal_;

  // Ingests in flight, by epoch, so a flush can choose a cut-off sequence
  // whose records are all in the buffers without stopping new ingests. An
  // ingest is counted in the current epoch from before its WAL append until
  // its rows are buffered (or it failed). A flush reads the WAL's last
  // assigned sequence S, then starts a new epoch and waits for the old one
  // to empty: every record <= S was appended by an ingest of the old epoch,
  // so then every one is buffered, and S is the cut-off.
  uint64_t EnterIngest();
  void LeaveIngest(uint64_t epoch);
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  int in_flight_[2] = {0, 0};  // guarded by gate_mu_, indexed by epoch & 1
  uint64_t epoch_ = 0;         // guarded by gate_mu_

  std::mutex flush_mu_;        // one flush at a time
  // Guards each table's (files, gen) pair as PlanScan sees it; a flush
  // changes both under it.
  mutable std::mutex plan_mu_;
  uint64_t trimmed_through_ = 0;  // guarded by flush_mu_
  mutable std::mutex stats_mu_;
  std::map<std::string, TableStats> stats_;  // guarded by stats_mu_

  // Uncommitted rows and bytes across tables.
  std::atomic<uint64_t> buffered_rows_{0};
  std::atomic<uint64_t> buffered_bytes_{0};

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<engine::Connection>> pool_;
};

}  // namespace signaldb::writer
