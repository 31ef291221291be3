// One table of one dataset: WAL, in-memory buffer and committed Parquet files.
//
// Ingest(): the serialized request goes to the WAL (fsync) first, then its
// rows go into the buffer table `_buf_<table>` tagged with the WAL sequence.
// Queries read the view `<table>` = committed Parquet files UNION ALL buffer.
// Flush(): buffered rows up to sequence S are copied into a new Parquet file;
// the manifest (file list + S) is replaced atomically; then, in one DuckDB
// transaction, the view is redefined and the rows <= S leave the buffer, so a
// query sees each row exactly once; finally WAL segments <= S are deleted.
// On open, WAL records after the manifest's S are replayed into the buffer:
// nothing acknowledged is lost and nothing committed is loaded twice.
//
// Thread-safety: Ingest() is safe from many threads; Flush() serializes itself.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "columnar/batch.h"
#include "common/fs.h"
#include "engine/engine.h"
#include "wal/wal.h"

namespace signaldb::writer {

// Turns a WAL payload back into rows (used on replay).
using PayloadDecoder =
    std::function<absl::Status(std::string_view payload, columnar::Batch* batch)>;

struct TableStoreOptions {
  FileSystem* fs;
  std::string wal_dir;    // this table's WAL directory
  std::string table_dir;  // this table's storage directory (manifest, data/)
  wal::Options wal;
};

struct TableStats {
  uint64_t buffered_rows = 0;
  uint64_t committed_files = 0;
  uint64_t committed_rows = 0;
  uint64_t committed_sequence = 0;
  uint64_t flushes = 0;
  std::string last_flush_error;
  wal::Stats wal;
};

class TableStore {
 public:
  // Creates the buffer table and view in `db` (not owned; must outlive the
  // store), loads the manifest and replays the WAL.
  static absl::StatusOr<std::unique_ptr<TableStore>> Open(const TableStoreOptions& options,
                                                          const columnar::Schema* schema,
                                                          engine::Database* db,
                                                          PayloadDecoder decoder);
  ~TableStore();

  // Makes `payload` durable, then buffers `batch` (its decoded rows). Returns
  // the WAL sequence once both are done; on error nothing may be acknowledged.
  absl::StatusOr<uint64_t> Ingest(std::string_view payload, const columnar::Batch& batch);

  // Writes buffered rows to Parquet and commits them. No-op when empty.
  absl::Status Flush();
  absl::Status Close();

  uint64_t buffered_rows() const { return buffered_rows_.load(); }
  TableStats Stats() const;
  const columnar::Schema& schema() const { return *schema_; }

 private:
  struct FileEntry {
    std::string path;  // relative to table_dir
    uint64_t rows;
    uint64_t bytes;
  };
  TableStore(TableStoreOptions options, const columnar::Schema* schema, engine::Database* db,
             PayloadDecoder decoder);
  absl::Status LoadManifest();
  absl::Status WriteManifest(const std::vector<FileEntry>& files, uint64_t committed) const;
  absl::Status RemoveOrphans();
  absl::Status CreateTables();
  std::string ViewSql(const std::vector<FileEntry>& files) const;
  absl::Status AppendToBuffer(engine::Connection& conn, const columnar::Batch& batch, uint64_t seq);
  absl::StatusOr<std::unique_ptr<engine::Connection>> AcquireConnection();
  void ReleaseConnection(std::unique_ptr<engine::Connection> conn);

  const TableStoreOptions options_;
  const columnar::Schema* const schema_;
  engine::Database* const db_;
  const PayloadDecoder decoder_;
  const std::string buffer_table_;
  std::unique_ptr<wal::Wal> wal_;

  // Gate between ingests (many) and a flush choosing its cut-off sequence:
  // the flush waits until no ingest is between its WAL append and its buffer
  // append, so every sequence <= the cut-off is in the buffer.
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  int ingests_in_flight_ = 0;
  bool gate_closed_ = false;
  uint64_t last_buffered_seq_ = 0;  // guarded by gate_mu_

  std::mutex flush_mu_;                // one flush at a time
  std::vector<FileEntry> files_;       // guarded by flush_mu_
  uint64_t committed_seq_ = 0;         // guarded by flush_mu_
  mutable std::mutex stats_mu_;
  TableStats stats_;                   // guarded by stats_mu_ (files/rows/sequence copies)

  std::atomic<uint64_t> buffered_rows_{0};

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<engine::Connection>> pool_;
};

}  // namespace signaldb::writer
