#include "writer/signal_store.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <ctime>
#include <new>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <system_error>
#include <thread>

#include "writer/data_files.h"
#include "iceberg/stats.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace signaldb::writer {
namespace {

constexpr const char* kWalSequenceKey = "signaldb.wal-sequence";

// The table's declared sort order (also recorded in its Iceberg metadata).
std::vector<std::string> SortColumnNames(const columnar::Schema& schema) {
  if (schema.IndexOf("trace_id") >= 0 && schema.IndexOf("start_time_unix_nano") >= 0) {
    return {"trace_id", "start_time_unix_nano"};
  }
  if (schema.IndexOf("metric_name") >= 0) return {"metric_name", "timestamp"};
  return {"timestamp"};
}

}  // namespace

SignalStore::SignalStore(SignalStoreOptions options, engine::Database* db, engine::Database* flush_db,
                         PayloadDecoder decoder)
    : options_(std::move(options)), db_(db), flush_db_(flush_db), decoder_(std::move(decoder)) {}

SignalStore::~SignalStore() { (void)Close(); }

absl::StatusOr<std::unique_ptr<SignalStore>> SignalStore::Open(const SignalStoreOptions& options,
                                                               std::vector<const columnar::Schema*> tables,
                                                               engine::Database* db, engine::Database* flush_db,
                                                               PayloadDecoder decoder) {
  auto store = std::unique_ptr<SignalStore>(new SignalStore(options, db, flush_db, std::move(decoder)));
  uint64_t min_committed = UINT64_MAX, max_committed = 0;
  for (const auto* schema : tables) {
    auto t = std::make_unique<Table>();
    t->schema = schema;
    t->prefix = options.prefix + "/" + schema->table;
    store->stats_[schema->table] = TableStats{};
    RETURN_IF_ERROR(store->LoadTable(*t));
    // What a crashed flush or compaction left behind. One writer per table:
    // nothing of this table is being written while it opens.
    RETURN_IF_ERROR(store->RemoveUnreferenced(*t, std::chrono::milliseconds(0), std::chrono::system_clock::now())
                        .status());
    min_committed = std::min(min_committed, t->committed_seq);
    max_committed = std::max(max_committed, t->committed_seq);
    store->tables_.push_back(std::move(t));
  }
  ASSIGN_OR_RETURN(store->wal_, wal::Wal::Open(options.fs, options.wal_dir, options.wal, max_committed + 1));

  // Replay what the WAL holds beyond each table's last commit.
  auto start = std::chrono::steady_clock::now();
  uint64_t records = 0, rows = 0;
  uint64_t refused = 0, first_refused = 0, last_refused = 0;
  absl::Status replay = store->wal_->Replay(
      min_committed, [&](uint64_t seq, wal::RecordType type, std::string_view payload) -> absl::Status {
        auto decoded = store->decoder_(type, payload);
        if (!decoded.ok()) {
          // A request logged while it was decoded and found malformed was
          // refused (or never answered): nothing of it was acknowledged.
          if (wal::LoggedBeforeDecoding(type) && decoded.status().code() == absl::StatusCode::kInvalidArgument) {
            if (refused++ == 0) first_refused = seq;
            last_refused = seq;
            return absl::OkStatus();
          }
          // A record that was valid when acknowledged must decode the same way.
          return absl::DataLossError(StrCat("WAL record ", seq, " cannot be decoded: ", decoded.status().message()));
        }
        for (size_t i = 0; i < store->tables_.size(); ++i) {
          Table& t = *store->tables_[i];
          if (seq <= t.committed_seq) continue;
          rows += decoded->batches[i].num_rows();
          store->AppendToBuffer(t, std::move(decoded->batches[i]), seq);
        }
        ++records;
        return absl::OkStatus();
      });
  RETURN_IF_ERROR(replay);
  if (refused > 0) {
    // Expected after malformed requests; a warning all the same, since a
    // decoder grown stricter would also land here.
    spdlog::warn("{}: skipped {} WAL record(s) (sequences {} to {}) whose requests do not decode; their clients "
                 "were refused when they sent them",
                 options.wal_dir, refused, first_refused, last_refused);
  }
  store->trimmed_through_ = min_committed;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (records > 0) {
    spdlog::info("{}: replayed {} WAL records ({} rows) in {} ms", options.wal_dir, records, rows, ms.count());
  }
  return store;
}

absl::Status SignalStore::LoadTable(Table& t) {
  ASSIGN_OR_RETURN(t.iceberg, iceberg::IcebergTable::Open(options_.catalog, options_.store, options_.ns,
                                                          t.schema->table, t.prefix, *t.schema,
                                                          SortColumnNames(*t.schema)));
  t.iceberg->set_expiry(options_.expiry);
  if (const iceberg::Snapshot* snap = t.iceberg->metadata().current()) {
    auto it = snap->summary.find(kWalSequenceKey);
    uint64_t seq = 0;
    if (it != snap->summary.end() && !ParseInt(std::string_view(it->second), &seq)) {
      return absl::DataLossError(StrCat("table ", t.schema->table, " has a malformed ", kWalSequenceKey));
    }
    t.committed_seq = seq;
  }
  ASSIGN_OR_RETURN(auto files, t.iceberg->Files());
  for (const auto& f : files) {
    auto key = options_.store->KeyOf(f.file_path);
    if (!key) {
      return absl::DataLossError(
          StrCat("table ", t.schema->table, " lists ", f.file_path, ", which is outside its store ", options_.store->Uri("")));
    }
    std::string path = options_.store->LocalPath(*key).value_or("");
    if (!path.empty() && !options_.fs->Exists(path)) {
      return absl::DataLossError(StrCat("table ", t.schema->table, " lists missing file ", path));
    }
    FileEntry entry{path, *key, f, nullptr};
    if (t.schema->IndexOf("trace_id") >= 0) {
      // Files without a readable filter are simply always read.
      if (auto bytes = options_.store->Get(TraceIndexPath(*key)); bytes.ok()) {
        if (auto index = TraceIndex::Parse(*bytes); index.ok()) {
          entry.trace_index = std::make_shared<const TraceIndex>(std::move(*index));
        } else {
          spdlog::warn("{}: ignoring trace index: {}", f.file_path, index.status().ToString());
        }
      }
    }
    t.files.push_back(std::move(entry));
  }
  std::lock_guard lock(stats_mu_);
  auto& s = stats_[t.schema->table];
  s.committed_files = t.files.size();
  for (const auto& f : t.files) s.committed_rows += static_cast<uint64_t>(f.file.record_count);
  s.committed_sequence = t.committed_seq;
  return absl::OkStatus();
}

std::string SignalStore::ViewSql(const Table& t, const std::vector<FileEntry>& files) const {
  std::string cols = ColumnList(*t.schema);
  int64_t gen;
  {
    std::lock_guard lock(t.mu);
    gen = t.gen;
  }
  std::string sql = StrCat("CREATE OR REPLACE VIEW ", engine::QuoteIdentifier(t.schema->table), " AS ");
  // Remote files are not listed: queries plan and fetch them (see
  // PlanScan), so the long-lived view holds only the buffer.
  if (!files.empty() && !remote()) {
    std::vector<std::string> paths;
    for (const auto& f : files) paths.push_back(f.path);
    sql += StrCat("SELECT ", cols, " FROM ", ReadParquetById(*t.schema, paths), " UNION ALL ");
  }
  sql += StrCat("SELECT ", cols, " FROM ", kViewFunction, "(", engine::QuoteLiteral(t.schema->table), ", ", gen, ")");
  return sql;
}

absl::Status SignalStore::CreateViews() {
  ASSIGN_OR_RETURN(auto conn, db_->Connect());
  for (const auto& t : tables_) RETURN_IF_ERROR(conn->Execute(ViewSql(*t, t->files)));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<engine::Connection>> SignalStore::AcquireConnection() {
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      auto c = std::move(pool_.back());
      pool_.pop_back();
      return c;
    }
  }
  return flush_db_->Connect();
}

void SignalStore::ReleaseConnection(std::unique_ptr<engine::Connection> conn) {
  std::lock_guard lock(pool_mu_);
  if (pool_.size() < 16) pool_.push_back(std::move(conn));
}

void SignalStore::AppendToBuffer(Table& t, columnar::Batch batch, uint64_t seq) {
  if (batch.num_rows() == 0) return;
  buffered_rows_ += batch.num_rows();
  buffered_bytes_ += batch.ByteSize();
  auto shared = std::make_shared<const columnar::Batch>(std::move(batch));
  std::lock_guard lock(t.mu);
  t.buffer.push_back(Buffered{std::move(shared), seq});
}

absl::StatusOr<SignalStore::ScanPlan> SignalStore::PlanScan(const std::string& table,
                                                             const std::vector<Predicate>& predicates) const {
  ScanPlan plan;
  Table* t = FindTable(table);
  if (t == nullptr) return plan;
  std::vector<int32_t> ids;
  for (const auto& p : predicates) {
    const int i = t->schema->IndexOf(p.column);
    ids.push_back(i < 0 ? 0 : t->schema->columns[static_cast<size_t>(i)].field_id);
  }
  auto as_int = [](const std::string& bytes) {
    int64_t v = 0;
    std::memcpy(&v, bytes.data(), std::min<size_t>(bytes.size(), 8));
    return v;
  };
  // A file can match unless a bound rules it out; missing bounds never do.
  auto may_match = [&](const FileEntry& f) {
    for (size_t i = 0; i < predicates.size(); ++i) {
      const Predicate& p = predicates[i];
      if (ids[i] <= 0) continue;
      if (p.kind == Predicate::kStringEquals && f.trace_index && options_.use_trace_index &&
          p.column == "trace_id" && !f.trace_index->MayContain(p.text)) {
        return false;
      }
      // The partition: every row's `timestamp` (the start, in microseconds)
      // lies in the file's hour, statistics or not.
      if (f.file.partition_hour && (p.column == "timestamp" || p.column == "start_time_unix_nano")) {
        const int64_t per_us = p.column == "timestamp" ? 1 : 1000;
        const int64_t hour_start = static_cast<int64_t>(*f.file.partition_hour) * 3600LL * 1000000;
        if (p.kind == Predicate::kIntAtMost && hour_start > p.number / per_us) return false;
        if (p.kind == Predicate::kIntAtLeast && hour_start + 3600LL * 1000000 <= p.number / per_us) return false;
      }
      const auto& lower = f.file.lower_bounds;
      const auto& upper = f.file.upper_bounds;
      auto lo = lower.find(ids[i]), hi = upper.find(ids[i]);
      switch (p.kind) {
        case Predicate::kStringEquals:
          if (lo != lower.end() && p.text < lo->second) return false;
          if (hi != upper.end() && p.text > hi->second) return false;
          break;
        case Predicate::kIntAtLeast:
          if (hi != upper.end() && hi->second.size() == 8 && as_int(hi->second) < p.number) return false;
          break;
        case Predicate::kIntAtMost:
          if (lo != lower.end() && lo->second.size() == 8 && as_int(lo->second) > p.number) return false;
          break;
      }
    }
    return true;
  };
  std::vector<FileEntry> chosen;
  {
    std::lock_guard plan_lock(plan_mu_);
    plan.total_files = t->files.size();
    for (const auto& f : t->files) {
      if (may_match(f)) chosen.push_back(FileEntry{f.path, f.key, f.file, nullptr});
    }
    std::lock_guard lock(t->mu);
    plan.generation = t->gen;
  }
  // Fetching happens outside the locks; a replaced file stays in the store
  // for the orphan grace period, so it can still be read.
  std::vector<const FileEntry*> entries;
  for (const auto& f : chosen) entries.push_back(&f);
  RETURN_IF_ERROR(Localize(entries, &plan));
  return plan;
}

uint64_t SignalStore::StoredBytes(const std::string& table) const {
  Table* t = FindTable(table);
  if (t == nullptr) return 0;
  std::lock_guard plan_lock(plan_mu_);
  uint64_t bytes = 0;
  for (const auto& f : t->files) bytes += static_cast<uint64_t>(f.file.file_size_in_bytes);
  return bytes;
}

absl::Status SignalStore::Localize(const std::vector<const FileEntry*>& files, ScanPlan* plan) const {
  uint64_t bytes = 0;
  for (const FileEntry* f : files) {
    bytes += static_cast<uint64_t>(f->file.file_size_in_bytes);
    plan->stats.push_back(f->file);
  }
  plan->bytes += bytes;
  if (!remote()) {
    for (const FileEntry* f : files) plan->files.push_back(f->path);
    return absl::OkStatus();
  }
  if (bytes > options_.cache->capacity()) {
    return absl::ResourceExhaustedError(
        StrCat("the query needs ", bytes, " bytes of remote data files, more than the local cache holds (",
               options_.cache->capacity(), " bytes, storage.cache_size); narrow its time range"));
  }
  for (const FileEntry* f : files) {
    ASSIGN_OR_RETURN(objstore::CachedFile local, options_.cache->Fetch(options_.store, f->key));
    plan->files.push_back(local.path());
    plan->pins.push_back(std::move(local));
  }
  return absl::OkStatus();
}

std::string SignalStore::PlannedViewSql(const std::string& table, const ScanPlan& plan) const {
  Table* t = FindTable(table);
  if (t == nullptr) return "";
  std::string cols = ColumnList(*t->schema);
  std::string sql;
  if (!plan.files.empty()) {
    sql += StrCat("SELECT ", cols, " FROM ", ReadParquetById(*t->schema, plan.files), " UNION ALL ");
  }
  return sql + StrCat("SELECT ", cols, " FROM ", kViewFunction, "(", engine::QuoteLiteral(table), ", ",
                      plan.generation, ")");
}

std::string SignalStore::WritePath(const std::string& key) const {
  if (auto local = options_.store->LocalPath(key)) return *local;
  return StrCat(options_.storage_dir, "/.staging/", key.substr(key.rfind('/') + 1));
}

absl::Status SignalStore::Publish(const std::string& local_path, const std::string& key) {
  if (options_.store->LocalPath(key) == local_path) {
    // In place: make the file, its partition directory and that directory's
    // entry durable.
    std::string dir = local_path.substr(0, local_path.rfind('/'));
    RETURN_IF_ERROR(options_.fs->SyncFile(local_path));
    RETURN_IF_ERROR(options_.fs->SyncDir(dir));
    return options_.fs->SyncDir(dir.substr(0, dir.rfind('/')));
  }
  RETURN_IF_ERROR(options_.store->PutFile(key, local_path));
  (void)options_.fs->Remove(local_path);  // the store holds it now
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const TraceIndex>> SignalStore::WriteTraceIndex(
    const Table& t, const std::string& data_key, const std::vector<std::string_view>& ids) {
  if (t.schema->IndexOf("trace_id") < 0) return nullptr;
  auto index = std::make_shared<const TraceIndex>(TraceIndex::Build(ids));
  // Durable before the commit that publishes the data file.
  RETURN_IF_ERROR(options_.store->Put(TraceIndexPath(data_key), index->Serialize()));
  return index;
}

SignalStore::Table* SignalStore::FindTable(const std::string& name) const {
  for (const auto& t : tables_) {
    if (t->schema->table == name) return t.get();
  }
  return nullptr;
}

const columnar::Schema* SignalStore::TableSchema(const std::string& table) const {
  Table* t = FindTable(table);
  return t ? t->schema : nullptr;
}

std::vector<std::shared_ptr<const columnar::Batch>> SignalStore::ViewSnapshot(const std::string& table,
                                                                              int64_t gen) const {
  std::vector<std::shared_ptr<const columnar::Batch>> out;
  Table* t = FindTable(table);
  if (t == nullptr) return out;
  std::lock_guard lock(t->mu);
  for (const auto& b : t->buffer) {
    if (b.committed_gen > gen) out.push_back(b.batch);
  }
  return out;
}

std::vector<std::shared_ptr<const columnar::Batch>> SignalStore::FlushSnapshot(const std::string& table,
                                                                               uint64_t cut) const {
  std::vector<std::shared_ptr<const columnar::Batch>> out;
  Table* t = FindTable(table);
  if (t == nullptr) return out;
  std::lock_guard lock(t->mu);
  for (const auto& b : t->buffer) {
    if (b.committed_gen == kUncommitted && b.seq <= cut) out.push_back(b.batch);
  }
  return out;
}

uint64_t SignalStore::EnterIngest() {
  std::lock_guard lock(gate_mu_);
  ++in_flight_[epoch_ & 1];
  return epoch_;
}

void SignalStore::LeaveIngest(uint64_t epoch) {
  std::lock_guard lock(gate_mu_);
  if (--in_flight_[epoch & 1] == 0 && epoch != epoch_) gate_cv_.notify_all();
}

absl::StatusOr<uint64_t> SignalStore::Ingest(std::string_view payload, Decoded decoded) {
  const uint64_t epoch = EnterIngest();
  auto seq = wal_->Append(decoded.record_type, decoded.record_head, payload);
  if (seq.ok()) {
    for (size_t i = 0; i < tables_.size(); ++i) AppendToBuffer(*tables_[i], std::move(decoded.batches[i]), *seq);
  }
  LeaveIngest(epoch);
  return seq;
}

absl::StatusOr<Decoded> SignalStore::IngestWhileDecoding(wal::RecordType type, std::string_view head,
                                                         std::string_view payload,
                                                         const std::function<absl::StatusOr<Decoded>()>& decode) {
  const uint64_t epoch = EnterIngest();
  // Leaves the epoch however this ends: a flush waits for it to empty.
  struct Leave {
    SignalStore* store;
    uint64_t epoch;
    ~Leave() { store->LeaveIngest(epoch); }
  } leave{this, epoch};
  // The decode's result; running out of memory is an error for this request,
  // not for the server.
  auto decode_safely = [&]() -> absl::StatusOr<Decoded> {
    try {
      return decode();
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError("out of memory while decoding the request; retry later");
    }
  };
  // The append's outcome, handed back by a pool thread. It is set and
  // signalled under the mutex, and this frame waits for it before it ends.
  struct {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    absl::StatusOr<uint64_t> seq;
  } logged;
  bool submitted = false;
  if (options_.log_pool != nullptr) {
    try {
      options_.log_pool->Submit([&] {
        auto appended = wal_->Append(type, head, payload);
        std::lock_guard lock(logged.mu);
        logged.seq = std::move(appended);
        logged.done = true;
        logged.cv.notify_one();
      });
      submitted = true;
    } catch (const std::bad_alloc&) {
      // Appended below, after the decode.
    }
  }
  absl::StatusOr<Decoded> decoded = decode_safely();
  absl::StatusOr<uint64_t> seq;
  if (submitted) {
    std::unique_lock lock(logged.mu);
    logged.cv.wait(lock, [&] { return logged.done; });
    seq = std::move(logged.seq);
  } else if (decoded.ok()) {
    seq = wal_->Append(type, head, payload);
  }
  if (seq.ok() && decoded.ok()) {
    for (size_t i = 0; i < tables_.size(); ++i) AppendToBuffer(*tables_[i], std::move(decoded->batches[i]), *seq);
  }
  // A malformed request is the client's error whatever the log did.
  if (!decoded.ok()) return decoded.status();
  if (!seq.ok()) return seq.status();
  return decoded;
}

void SignalStore::RecordFlushError(const Table& t, const absl::Status& st) {
  std::lock_guard lock(stats_mu_);
  stats_[t.schema->table].last_flush_error = st.ToString();
}

absl::Status SignalStore::WriteNativeParquet(const Table& t,
                                             const std::vector<std::shared_ptr<const columnar::Batch>>& batches,
                                             std::span<const columnar::RowRef> rows, const std::string& path) {
  ASSIGN_OR_RETURN(auto file, options_.fs->OpenAppendable(path));
  auto written =
      parquet::WriteFile(*t.schema, batches, rows, NativeParquetOptions(*t.schema, options_.compression_level), file.get());
  absl::Status closed = file->Close();
  if (!written.ok()) return written.status();
  return closed;
}

std::vector<std::vector<std::shared_ptr<const columnar::Batch>>> ChunkBatches(
    const std::vector<std::shared_ptr<const columnar::Batch>>& batches, size_t rows) {
  size_t total = 0;
  for (const auto& b : batches) total += b->num_rows();
  const size_t chunks = std::max<size_t>(1, (total + rows - 1) / std::max<size_t>(rows, 1));
  std::vector<std::vector<std::shared_ptr<const columnar::Batch>>> out(1);
  size_t taken = 0;  // rows in the chunks before the last
  size_t in_last = 0;
  for (const auto& b : batches) {
    // The last chunk is full once the chunks so far hold their share.
    if (in_last > 0 && out.size() < chunks && (taken + in_last) * chunks >= total * out.size()) {
      taken += in_last;
      in_last = 0;
      out.emplace_back();
    }
    out.back().push_back(b);
    in_last += b->num_rows();
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

absl::Status SignalStore::FlushTable(Table& t, engine::Connection& conn, uint64_t cut, bool wide) {
  if (cut <= t.committed_seq) return absl::OkStatus();
  std::vector<std::shared_ptr<const columnar::Batch>> batches = FlushSnapshot(t.schema->table, cut);
  uint64_t rows = 0, bytes = 0;
  for (const auto& b : batches) {
    rows += b->num_rows();
    bytes += b->ByteSize();
  }
  if (rows == 0) {
    // Nothing of this table up to `cut`: no file and no commit; its WAL
    // records hold no rows for it, so trimming them loses nothing.
    return absl::OkStatus();
  }
  const auto started = std::chrono::steady_clock::now();
  // One file per hour(timestamp) partition, as the table's spec says.
  const int ts = t.schema->IndexOf("timestamp");
  auto hours_of = [ts](const std::vector<std::shared_ptr<const columnar::Batch>>& of) {
    std::set<int32_t> hours;
    for (const auto& b : of) {
      const auto& col = b->column(static_cast<size_t>(ts));
      for (size_t r = 0; r < col.size(); ++r) hours.insert(iceberg::HourOf(col.ints[r]));
    }
    return hours;
  };
  const int tid = t.schema->IndexOf("trace_id");
  // The native writer encodes the buffered batches in chunks of consecutive
  // (arrival-order) batches of about kFlushChunkRows rows, each chunk sorted
  // on its own and split by hour, one file per chunk and hour: the rows an
  // encoder gathers then fit in the caches (a 120 k-row file encodes ~25%
  // slower per row than 30 k-row ones). Chunks go to up to flush_threads
  // threads. Compaction later merges the files of a partition.
  const bool native = options_.parquet_encoder == ParquetEncoder::kNative;
  struct Part {
    int32_t hour = 0;
    std::vector<std::shared_ptr<const columnar::Batch>> batches;  // native: the chunk's batches
    std::vector<columnar::RowRef> rows;  // native: the file's rows (of `batches`), in order
    bool filter_hour = false;            // the chunk spans hours: only `hour`'s rows are this file's
    std::string key, path;
    iceberg::DataFile file;
    std::shared_ptr<const TraceIndex> index;
    absl::Status status;
  };
  std::vector<Part> parts;
  if (native) {
    for (auto& chunk : ChunkBatches(batches, kFlushChunkRows)) {
      std::vector<columnar::RowRef> order = columnar::SortRows(chunk, SortColumnIndexes(*t.schema));
      const std::set<int32_t> chunk_hours = hours_of(chunk);
      for (int32_t hour : chunk_hours) {
        Part part{.hour = hour, .batches = chunk, .filter_hour = chunk_hours.size() > 1};
        if (part.filter_hour) {
          for (const auto& ref : order) {
            if (iceberg::HourOf(chunk[ref.batch]->column(static_cast<size_t>(ts)).ints[ref.row]) == hour) {
              part.rows.push_back(ref);
            }
          }
        } else {
          part.rows = std::move(order);
        }
        parts.push_back(std::move(part));
      }
    }
  } else {
    const std::set<int32_t> hours = hours_of(batches);
    for (int32_t hour : hours) parts.push_back(Part{.hour = hour, .batches = batches, .filter_hour = hours.size() > 1});
  }
  std::vector<std::string> keys, locals;
  auto discard = [&](const absl::Status& st) {
    // Never referenced by any snapshot.
    for (const auto& p : locals) (void)options_.fs->Remove(p);
    for (const auto& k : keys) (void)options_.store->Delete(k);
    return st;
  };
  for (Part& p : parts) {
    p.key = StrCat(t.prefix, "/data/", PartitionDirName(p.hour), "/", NewDataFileName());
    p.path = WritePath(p.key);
    keys.push_back(p.key);
    locals.push_back(p.path);
    if (tid >= 0) keys.push_back(TraceIndexPath(p.key));  // removed with the data file if the flush fails
    if (absl::Status st = options_.fs->CreateDirs(p.path.substr(0, p.path.rfind('/'))); !st.ok()) return discard(st);
  }
  auto write_part = [&](size_t i) -> absl::Status {
    Part& p = parts[i];
    if (native) {
      RETURN_IF_ERROR(WriteNativeParquet(t, p.batches, p.rows, p.path));
    } else {
      RETURN_IF_ERROR(conn.Query(StrCat("COPY (SELECT ", ColumnList(*t.schema), " FROM ", kFlushFunction, "(",
                                        engine::QuoteLiteral(t.schema->table), ", ", cut,
                                        ") WHERE CAST(floor(epoch_us(\"timestamp\") / 3600000000) AS BIGINT) = ",
                                        p.hour, ") TO ", engine::QuoteLiteral(p.path), " ",
                                        ParquetCopyOptions(*t.schema, options_.compression_level)))
                          .status());
    }
    ASSIGN_OR_RETURN(uint64_t size, options_.fs->FileSize(p.path));
    RETURN_IF_ERROR(Publish(p.path, p.key));
    iceberg::DataFile& f = p.file;
    f.file_path = options_.store->Uri(p.key);
    f.partition_hour = p.hour;
    f.file_size_in_bytes = static_cast<int64_t>(size);
    f.sort_order_id = 1;
    std::function<bool(size_t, size_t)> include;  // empty: every row of p.batches
    if (p.filter_hour) {
      include = [&](size_t b, size_t r) {
        return iceberg::HourOf(p.batches[b]->column(static_cast<size_t>(ts)).ints[r]) == p.hour;
      };
    }
    iceberg::ComputeStats(p.batches, include, &f);
    f.record_count = f.value_counts.begin()->second;
    std::vector<std::string_view> ids;
    if (tid >= 0) {
      for (size_t b = 0; b < p.batches.size(); ++b) {
        const auto& icol = p.batches[b]->column(static_cast<size_t>(tid));
        for (size_t r = 0; r < icol.size(); ++r) {
          if (icol.IsValid(r) && (!include || include(b, r))) ids.push_back(icol.StringAt(r));
        }
      }
    }
    ASSIGN_OR_RETURN(p.index, WriteTraceIndex(t, p.key, ids));
    return absl::OkStatus();
  };
  // Parts are taken in turn by up to flush_threads threads (when ingest is
  // outpacing the flushes), this one among them; the DuckDB encoder writes
  // through one connection, so one at a time.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < parts.size(); i = next++) parts[i].status = write_part(i);
  };
  std::vector<std::thread> helpers;
  const size_t threads =
      native && wide ? std::min<size_t>(parts.size(), static_cast<size_t>(std::max(options_.flush_threads, 1))) : 1;
  for (size_t i = 1; i < threads; ++i) {
    try {
      helpers.emplace_back(worker);
    } catch (const std::system_error& e) {
      spdlog::warn("{}: cannot start a flush thread ({}); this one encodes the rest", t.schema->table, e.what());
      break;
    }
  }
  worker();
  for (auto& h : helpers) h.join();
  const int used_threads = static_cast<int>(helpers.size()) + 1;
  std::vector<iceberg::DataFile> written;
  std::vector<std::shared_ptr<const TraceIndex>> indexes;
  for (Part& p : parts) {
    if (!p.status.ok()) return discard(p.status);
    written.push_back(std::move(p.file));
    indexes.push_back(std::move(p.index));
  }
  const auto files_written = std::chrono::steady_clock::now();
  // The commit point: a new Iceberg snapshot recording the WAL position it
  // covers, swapped in through the catalog.
  absl::Status st = t.iceberg->Append(written, {{kWalSequenceKey, std::to_string(cut)}});
  if (!st.ok()) {
    // Whether the catalog took the commit is unknown after some failures, so
    // the files stay; the next start removes them if no snapshot lists them.
    // The rows stay buffered and in the WAL; the next flush writes them again.
    return st;
  }
  const auto committed = std::chrono::steady_clock::now();
  std::vector<FileEntry> files = t.files;
  for (size_t i = 0; i < written.size(); ++i) {
    std::string key = *options_.store->KeyOf(written[i].file_path);
    files.push_back(FileEntry{options_.store->LocalPath(key).value_or(""), key, written[i], indexes[i]});
  }
  std::string rel = StrCat(written.size(), " file(s)");
  // Batches leaving memory are freed after the locks are released: freeing
  // hundreds of MB takes milliseconds that ingest (which appends under t.mu)
  // must not wait for.
  std::vector<Buffered> released;
  {
    // Files and generation change together for PlanScan.
    std::lock_guard plan_lock(plan_mu_);
    t.files = std::move(files);
    t.committed_seq = cut;
    {
      // The flushed batches now belong to the next generation's files; views of
      // the current generation keep serving them from memory until replaced.
      // Batches committed one generation earlier are no longer referenced by
      // any view and leave memory.
      std::lock_guard lock(t.mu);
      int64_t next = t.gen + 1;
      for (auto& b : t.buffer) {
        if (b.committed_gen == kUncommitted && b.seq <= cut) b.committed_gen = next;
      }
      auto kept = std::stable_partition(t.buffer.begin(), t.buffer.end(),
                                        [&](const Buffered& b) { return b.committed_gen >= next; });
      released.assign(std::make_move_iterator(kept), std::make_move_iterator(t.buffer.end()));
      t.buffer.erase(kept, t.buffer.end());
      t.gen = next;
    }
  }
  buffered_rows_ -= std::min<uint64_t>(buffered_rows_, rows);
  buffered_bytes_ -= std::min<uint64_t>(buffered_bytes_, bytes);
  auto query_conn = db_->Connect();
  absl::Status swap = query_conn.ok() ? (*query_conn)->Execute(ViewSql(t, t.files)) : query_conn.status();
  if (!swap.ok()) {
    // Storage is committed; the old view still shows every row once (files of
    // the old generation plus the batches), so only new files are missing.
    spdlog::critical("{}: committed flush through {} but could not replace the view: {}", t.schema->table, cut,
                     swap.ToString());
    return swap;
  }
  std::lock_guard lock(stats_mu_);
  auto& s = stats_[t.schema->table];
  s.committed_files = t.files.size();
  s.committed_rows += rows;
  s.committed_sequence = cut;
  s.widest_flush_threads = std::max(s.widest_flush_threads, used_threads);
  ++s.flushes;
  s.last_flush_error.clear();
  auto ms = [](auto from, auto to) { return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count(); };
  const auto done = std::chrono::steady_clock::now();
  spdlog::debug("{}: flushed {} rows ({} MB buffered) through sequence {} to {} in {} ms ({} writer: files {} ms, "
                "commit {} ms, view {} ms)",
                t.schema->table, rows, bytes >> 20, cut, rel, ms(started, done), native ? "native" : "duckdb",
                ms(started, files_written), ms(files_written, committed), ms(committed, done));
  return absl::OkStatus();
}

absl::Status SignalStore::Flush(bool wide) {
  std::lock_guard flush_lock(flush_mu_);
  // Everything logged so far, once the ingests that logged it have buffered
  // their rows (new ingests go on meanwhile, in the next epoch).
  const uint64_t cut = wal_->LastAssignedSequence();
  {
    std::unique_lock lock(gate_mu_);
    const uint64_t old = epoch_++;
    gate_cv_.wait(lock, [&] { return in_flight_[old & 1] == 0; });
  }
  if (cut <= trimmed_through_) {
    // Nothing logged since the last flush. Once the log has been idle for
    // a while (wal::Options::spare_idle), the spare segments it keeps for
    // busy times go (up to segment_size of disk each).
    if (absl::Status st = wal_->DropIdleSpares(); !st.ok()) {
      spdlog::warn("{}: cannot delete spare WAL segments (will retry): {}", options_.wal_dir, st.ToString());
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto conn, AcquireConnection());
  absl::Status first;
  for (auto& t : tables_) {
    absl::Status st = FlushTable(*t, *conn, cut, wide);
    if (!st.ok()) {
      RecordFlushError(*t, st);
      if (first.ok()) first = st;
    }
  }
  ReleaseConnection(std::move(conn));
  if (!first.ok()) return first;  // the WAL keeps everything until every table committed
  absl::Status trim = wal_->TrimThrough(cut);
  if (!trim.ok()) {
    spdlog::warn("{}: WAL trim failed (will retry): {}", options_.wal_dir, trim.ToString());
  } else {
    trimmed_through_ = cut;
  }
  return absl::OkStatus();
}

absl::Status SignalStore::Close() {
  if (!wal_) return absl::OkStatus();
  absl::Status st = wal_->Close();
  wal_.reset();
  std::lock_guard lock(pool_mu_);
  pool_.clear();
  return st;
}

SignalStats SignalStore::Stats() const {
  SignalStats s;
  {
    std::lock_guard lock(stats_mu_);
    s.tables = stats_;
  }
  auto now = std::chrono::steady_clock::now();
  for (const auto& t : tables_) {
    uint64_t rows = 0, bytes = 0;
    int64_t oldest = 0;
    std::lock_guard lock(t->mu);
    for (const auto& b : t->buffer) {
      if (b.committed_gen != kUncommitted) continue;
      rows += b.batch->num_rows();
      bytes += b.batch->ByteSize();
      oldest = std::max<int64_t>(oldest, std::chrono::duration_cast<std::chrono::milliseconds>(now - b.arrived).count());
    }
    auto& ts = s.tables[t->schema->table];
    ts.buffered_rows = rows;
    ts.buffered_bytes = bytes;
    ts.oldest_unflushed_ms = oldest;
  }
  if (wal_) s.wal = wal_->GetStats();
  return s;
}

}  // namespace signaldb::writer
