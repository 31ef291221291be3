#include "writer/table_store.h"

#include <nlohmann/json.hpp>
#include <random>

#include "common/hex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace signaldb::writer {
namespace {

constexpr int kManifestFormat = 1;

std::string RandomId() {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^
                                          static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  uint64_t a = rng(), b = rng();
  std::string raw(16, '\0');
  std::memcpy(raw.data(), &a, 8);
  std::memcpy(raw.data() + 8, &b, 8);
  return HexEncode(raw);
}

std::string ColumnList(const columnar::Schema& schema) {
  std::vector<std::string> cols;
  for (const auto& c : schema.columns) cols.push_back(engine::QuoteIdentifier(c.name));
  return Join(cols, ", ");
}

}  // namespace

TableStore::TableStore(TableStoreOptions options, const columnar::Schema* schema, engine::Database* db,
                       PayloadDecoder decoder)
    : options_(std::move(options)),
      schema_(schema),
      db_(db),
      decoder_(std::move(decoder)),
      buffer_table_("_buf_" + schema->table) {}

TableStore::~TableStore() { (void)Close(); }

absl::StatusOr<std::unique_ptr<TableStore>> TableStore::Open(const TableStoreOptions& options,
                                                             const columnar::Schema* schema,
                                                             engine::Database* db, PayloadDecoder decoder) {
  auto store = std::unique_ptr<TableStore>(new TableStore(options, schema, db, std::move(decoder)));
  RETURN_IF_ERROR(options.fs->CreateDirs(options.table_dir + "/data"));
  RETURN_IF_ERROR(store->LoadManifest());
  RETURN_IF_ERROR(store->RemoveOrphans());
  RETURN_IF_ERROR(store->CreateTables());
  ASSIGN_OR_RETURN(store->wal_, wal::Wal::Open(options.fs, options.wal_dir, options.wal, store->committed_seq_ + 1));

  // Replay what the WAL holds beyond the last commit.
  auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto conn, store->AcquireConnection());
  uint64_t records = 0, rows = 0;
  absl::Status replay = store->wal_->Replay(
      store->committed_seq_, [&](uint64_t seq, wal::RecordType type, std::string_view payload) -> absl::Status {
        columnar::Batch batch(schema);
        if (auto st = store->decoder_(payload, &batch); !st.ok()) {
          // A record that was valid when acknowledged must decode the same way.
          return absl::DataLossError(StrCat("WAL record ", seq, " cannot be decoded: ", st.message()));
        }
        RETURN_IF_ERROR(store->AppendToBuffer(*conn, batch, seq));
        store->last_buffered_seq_ = seq;
        store->buffered_rows_ += batch.num_rows();
        ++records;
        rows += batch.num_rows();
        return absl::OkStatus();
      });
  store->ReleaseConnection(std::move(conn));
  RETURN_IF_ERROR(replay);
  if (store->last_buffered_seq_ < store->committed_seq_) store->last_buffered_seq_ = store->committed_seq_;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (records > 0) {
    spdlog::info("{}: replayed {} WAL records ({} rows) in {} ms", options.wal_dir, records, rows, ms.count());
  }
  return store;
}

absl::Status TableStore::LoadManifest() {
  std::string path = options_.table_dir + "/manifest.json";
  if (!options_.fs->Exists(path)) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string text, options_.fs->ReadFile(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", 0) != kManifestFormat) {
    return absl::DataLossError(StrCat("table manifest ", path, " is unreadable"));
  }
  committed_seq_ = j.value("committed_sequence", uint64_t{0});
  for (const auto& f : j.value("files", nlohmann::json::array())) {
    files_.push_back(FileEntry{f.value("path", ""), f.value("rows", uint64_t{0}), f.value("bytes", uint64_t{0})});
    if (!options_.fs->Exists(options_.table_dir + "/" + files_.back().path)) {
      return absl::DataLossError(StrCat("table manifest ", path, " lists missing file ", files_.back().path));
    }
  }
  std::lock_guard lock(stats_mu_);
  stats_.committed_files = files_.size();
  for (const auto& f : files_) stats_.committed_rows += f.rows;
  stats_.committed_sequence = committed_seq_;
  return absl::OkStatus();
}

absl::Status TableStore::WriteManifest(const std::vector<FileEntry>& files, uint64_t committed) const {
  nlohmann::json j;
  j["format"] = kManifestFormat;
  j["table"] = schema_->table;
  j["committed_sequence"] = committed;
  j["files"] = nlohmann::json::array();
  for (const auto& f : files) j["files"].push_back({{"path", f.path}, {"rows", f.rows}, {"bytes", f.bytes}});
  return options_.fs->WriteFileAtomic(options_.table_dir + "/manifest.json", j.dump(1));
}

absl::Status TableStore::RemoveOrphans() {
  // Files a crashed flush wrote but never committed.
  std::string data_dir = options_.table_dir + "/data";
  ASSIGN_OR_RETURN(auto names, options_.fs->ListDir(data_dir));
  for (const auto& name : names) {
    std::string rel = "data/" + name;
    bool listed = false;
    for (const auto& f : files_) listed = listed || f.path == rel;
    if (!listed) {
      spdlog::info("removing uncommitted file {}/{}", options_.table_dir, rel);
      RETURN_IF_ERROR(options_.fs->Remove(options_.table_dir + "/" + rel));
    }
  }
  return absl::OkStatus();
}

std::string TableStore::ViewSql(const std::vector<FileEntry>& files) const {
  std::string cols = ColumnList(*schema_);
  std::string sql = StrCat("CREATE OR REPLACE VIEW ", engine::QuoteIdentifier(schema_->table), " AS ");
  if (!files.empty()) {
    std::vector<std::string> paths;
    for (const auto& f : files) paths.push_back(engine::QuoteLiteral(options_.table_dir + "/" + f.path));
    sql += StrCat("SELECT ", cols, " FROM read_parquet([", Join(paths, ", "), "]) UNION ALL ");
  }
  sql += StrCat("SELECT ", cols, " FROM ", engine::QuoteIdentifier(buffer_table_));
  return sql;
}

absl::Status TableStore::CreateTables() {
  std::vector<std::string> defs;
  for (const auto& c : schema_->columns) {
    defs.push_back(StrCat(engine::QuoteIdentifier(c.name), " ", columnar::SqlType(c.type)));
  }
  defs.push_back("_wal_seq BIGINT NOT NULL");
  ASSIGN_OR_RETURN(auto conn, db_->Connect());
  RETURN_IF_ERROR(conn->Execute(
      StrCat("CREATE TABLE ", engine::QuoteIdentifier(buffer_table_), " (", Join(defs, ", "), ")")));
  return conn->Execute(ViewSql(files_));
}

absl::StatusOr<std::unique_ptr<engine::Connection>> TableStore::AcquireConnection() {
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      auto c = std::move(pool_.back());
      pool_.pop_back();
      return c;
    }
  }
  return db_->Connect();
}

void TableStore::ReleaseConnection(std::unique_ptr<engine::Connection> conn) {
  std::lock_guard lock(pool_mu_);
  if (pool_.size() < 16) pool_.push_back(std::move(conn));
}

absl::Status TableStore::AppendToBuffer(engine::Connection& conn, const columnar::Batch& batch, uint64_t seq) {
  if (batch.num_rows() == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto app, conn.OpenAppender(buffer_table_));
  RETURN_IF_ERROR(app->AppendBatch(batch, static_cast<int64_t>(seq)));
  return app->Close();
}

absl::StatusOr<uint64_t> TableStore::Ingest(std::string_view payload, const columnar::Batch& batch) {
  {
    std::unique_lock lock(gate_mu_);
    gate_cv_.wait(lock, [&] { return !gate_closed_; });
    ++ingests_in_flight_;
  }
  auto leave = [&](uint64_t seq) {
    std::lock_guard lock(gate_mu_);
    if (seq > last_buffered_seq_) last_buffered_seq_ = seq;
    if (--ingests_in_flight_ == 0) gate_cv_.notify_all();
  };
  auto seq = wal_->Append(wal::RecordType::kOtlpExport, payload);
  if (!seq.ok()) {
    leave(0);
    return seq.status();
  }
  auto conn = AcquireConnection();
  absl::Status st = conn.status();
  if (st.ok()) {
    st = AppendToBuffer(**conn, batch, *seq);
    ReleaseConnection(std::move(*conn));
  }
  if (st.ok()) buffered_rows_ += batch.num_rows();
  leave(*seq);
  if (!st.ok()) {
    // The record is durable and will be replayed after a restart, but this
    // process cannot serve it: report the failure, acknowledge nothing.
    spdlog::error("{}: buffering WAL record {} failed: {}", schema_->table, *seq, st.ToString());
    return absl::InternalError(StrCat("cannot buffer rows: ", st.message()));
  }
  return *seq;
}

absl::Status TableStore::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  uint64_t cut;
  {
    std::unique_lock lock(gate_mu_);
    gate_closed_ = true;
    gate_cv_.wait(lock, [&] { return ingests_in_flight_ == 0; });
    cut = last_buffered_seq_;
    gate_closed_ = false;
    gate_cv_.notify_all();
  }
  if (cut <= committed_seq_) return absl::OkStatus();

  auto record_error = [&](const absl::Status& st) {
    std::lock_guard lock(stats_mu_);
    stats_.last_flush_error = st.ToString();
    return st;
  };
  ASSIGN_OR_RETURN(auto conn, AcquireConnection());
  std::string rel = StrCat("data/", RandomId(), ".parquet");
  std::string path = options_.table_dir + "/" + rel;
  std::string order = schema_->IndexOf("trace_id") >= 0 ? " ORDER BY trace_id, start_time_unix_nano" : "";
  auto copied = conn->Query(StrCat("COPY (SELECT ", ColumnList(*schema_), " FROM ", engine::QuoteIdentifier(buffer_table_),
                                   " WHERE _wal_seq <= ", cut, order, ") TO ", engine::QuoteLiteral(path),
                                   " (FORMAT parquet, COMPRESSION zstd)"));
  if (!copied.ok()) {
    (void)options_.fs->Remove(path);
    ReleaseConnection(std::move(conn));
    return record_error(copied.status());
  }
  uint64_t rows = 0;
  if (!copied->rows.empty() && !copied->rows[0].empty()) {
    if (auto* n = std::get_if<int64_t>(&copied->rows[0][0])) rows = static_cast<uint64_t>(*n);
  }
  std::vector<FileEntry> files = files_;
  if (rows > 0) {
    absl::Status st = options_.fs->SyncFile(path);
    if (st.ok()) st = options_.fs->SyncDir(options_.table_dir + "/data");
    auto size = options_.fs->FileSize(path);
    if (st.ok() && !size.ok()) st = size.status();
    if (!st.ok()) {
      (void)options_.fs->Remove(path);
      ReleaseConnection(std::move(conn));
      return record_error(st);
    }
    files.push_back(FileEntry{rel, rows, *size});
  } else {
    (void)options_.fs->Remove(path);
  }
  // The commit point: after this the rows live in Parquet, not in the WAL.
  if (absl::Status st = WriteManifest(files, cut); !st.ok()) {
    (void)options_.fs->Remove(path);
    ReleaseConnection(std::move(conn));
    return record_error(st);
  }
  files_ = std::move(files);
  committed_seq_ = cut;
  absl::Status swap = conn->Execute(StrCat("BEGIN TRANSACTION; ", ViewSql(files_), "; DELETE FROM ",
                                           engine::QuoteIdentifier(buffer_table_), " WHERE _wal_seq <= ", cut,
                                           "; COMMIT;"));
  if (!swap.ok()) {
    (void)conn->Execute("ROLLBACK");
    // Storage is committed; queries would see these rows twice until restart.
    spdlog::critical("{}: committed flush through {} but could not swap the view: {}", schema_->table, cut,
                     swap.ToString());
    ReleaseConnection(std::move(conn));
    return record_error(swap);
  }
  ReleaseConnection(std::move(conn));
  buffered_rows_ -= std::min<uint64_t>(buffered_rows_, rows);
  absl::Status trim = wal_->TrimThrough(cut);
  if (!trim.ok()) spdlog::warn("{}: WAL trim failed (will retry): {}", schema_->table, trim.ToString());
  {
    std::lock_guard lock(stats_mu_);
    stats_.committed_files = files_.size();
    stats_.committed_rows += rows;
    stats_.committed_sequence = cut;
    ++stats_.flushes;
    stats_.last_flush_error.clear();
  }
  spdlog::debug("{}: flushed {} rows through sequence {} to {}", schema_->table, rows, cut, rel);
  return absl::OkStatus();
}

absl::Status TableStore::Close() {
  if (!wal_) return absl::OkStatus();
  absl::Status st = wal_->Close();
  wal_.reset();
  std::lock_guard lock(pool_mu_);
  pool_.clear();
  return st;
}

TableStats TableStore::Stats() const {
  std::lock_guard lock(stats_mu_);
  TableStats s = stats_;
  s.buffered_rows = buffered_rows_.load();
  if (wal_) s.wal = wal_->GetStats();
  return s;
}

}  // namespace signaldb::writer
