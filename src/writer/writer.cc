#include "writer/writer.h"

#include "writer/data_files.h"
#include "writer/wal_record.h"

#include "common/status_macros.h"
#include "common/strings.h"
#include "otlp/logs_decoder.h"
#include "otlp/metrics_decoder.h"
#include "otlp/trace_decoder.h"
#include "schema/tables.h"
#include "spdlog/spdlog.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace signaldb::writer {

std::vector<const columnar::Schema*> TablesOf(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return {&schema::Traces()};
    case Signal::kLogs:
      return {&schema::Logs()};
    case Signal::kMetrics:
      return {&schema::MetricsGauge(), &schema::MetricsSum(), &schema::MetricsHistogram(),
              &schema::MetricsExponentialHistogram(), &schema::MetricsSummary()};
  }
  return {};
}

absl::StatusOr<Decoded> DecodePayload(Signal signal, std::string_view payload, const otlp::AttributeLimits* limits) {
  Decoded out;
  for (const auto* schema : TablesOf(signal)) out.batches.emplace_back(schema);
  absl::StatusOr<otlp::DecodeResult> r;
  switch (signal) {
    case Signal::kTraces: r = otlp::DecodeTracesProto(payload, &out.batches[0], limits); break;
    case Signal::kLogs: r = otlp::DecodeLogsProto(payload, &out.batches[0], limits); break;
    case Signal::kMetrics: r = otlp::DecodeMetricsProto(payload, &out.batches, limits); break;
  }
  if (!r.ok()) return r.status();
  out.accepted = r->accepted;
  out.rejected = r->rejected;
  out.first_error = std::move(r->first_error);
  out.truncated = r->truncated;
  out.truncation = std::move(r->truncation);
  if (r->limited()) {
    out.record_type = wal::RecordType::kOtlpExportLimited;
    out.record_head = EncodeLimitsHeader(*limits);
  }
  return out;
}

absl::StatusOr<Decoded> DecodeWalRecord(Signal signal, wal::RecordType type, std::string_view payload) {
  switch (type) {
    case wal::RecordType::kOtlpExport:
    case wal::RecordType::kOtlpExportUnchecked: return DecodePayload(signal, payload);
    case wal::RecordType::kOtlpExportLimited:
    case wal::RecordType::kOtlpExportLimitedUnchecked: {
      ASSIGN_OR_RETURN(LimitedRequest limited, ParseLimitedRecord(payload));
      return DecodePayload(signal, limited.request, &limited.limits);
    }
  }
  return absl::DataLossError(StrCat("unknown WAL record type ", static_cast<int>(type)));
}

const columnar::Schema* Dataset::Buffers::TableSchema(const std::string& table) const {
  for (const auto& store : ds_->stores_) {
    if (store == nullptr) continue;
    if (const auto* schema = store->TableSchema(table)) return schema;
  }
  return nullptr;
}

std::vector<std::shared_ptr<const columnar::Batch>> Dataset::Buffers::Snapshot(const std::string& table,
                                                                               int64_t arg) const {
  for (const auto& store : ds_->stores_) {
    if (store == nullptr || store->TableSchema(table) == nullptr) continue;
    return flush_ ? store->FlushSnapshot(table, static_cast<uint64_t>(std::max<int64_t>(arg, 0)))
                  : store->ViewSnapshot(table, arg);
  }
  return {};
}

std::vector<columnar::RowRef> Dataset::Buffers::Order(
    const std::string& table, const std::vector<std::shared_ptr<const columnar::Batch>>& batches) const {
  if (!flush_ || batches.empty()) return {};
  return columnar::SortRows(batches, SortColumnIndexes(batches[0]->schema()));
}

absl::StatusOr<std::unique_ptr<Dataset>> Dataset::Open(const WriterOptions& options, catalog::Catalog* catalog,
                                                       objstore::ObjectStore* store, const TenantContext& ctx,
                                                       ThreadPool* log_pool) {
  auto ds = std::unique_ptr<Dataset>(new Dataset());
  ds->ctx_ = ctx;
  const std::string prefix = StrCat(ctx.tenant, "/", ctx.dataset);
  // The dataset's local directory: its tables on a local store; staging,
  // cache and temp files otherwise. DuckDB may read nothing outside it.
  const std::string storage =
      store->LocalPath(prefix).value_or(StrCat(options.storage_dir, "/", ctx.tenant, "/", ctx.dataset));
  RETURN_IF_ERROR(options.fs->CreateDirs(storage + "/.tmp"));
  if (!store->LocalPath(prefix)) {
    ASSIGN_OR_RETURN(ds->cache_, objstore::DiskCache::Open(storage + "/.cache", options.cache_bytes));
  }
  ASSIGN_OR_RETURN(ds->db_, engine::Database::Open({.allowed_dir = storage, .temp_dir = storage + "/.tmp"}));
  RETURN_IF_ERROR(ds->db_->RegisterRowSource(kViewFunction, &ds->view_buffers_));
  // Flushes run in their own single-threaded instance: a flush then uses at
  // most one core, and ingest and queries keep the rest.
  ASSIGN_OR_RETURN(ds->flush_db_,
                   engine::Database::Open({.allowed_dir = storage, .temp_dir = storage + "/.tmp", .threads = 1,
                                           .memory_limit = "2GB"}));
  RETURN_IF_ERROR(ds->flush_db_->RegisterRowSource(kFlushFunction, &ds->flush_buffers_));
  {
    // attr(attributes_column, key): the value of one attribute as text (NULL
    // when absent), so SQL users need not unpack the OTLP JSON by hand.
    ASSIGN_OR_RETURN(auto conn, ds->db_->Connect());
    RETURN_IF_ERROR(conn->Execute(
        "CREATE MACRO attr(attrs, k) AS (SELECT CASE WHEN v IS NULL THEN NULL ELSE coalesce("
        "v->>'stringValue', v->>'intValue', v->>'doubleValue', v->>'boolValue', v->>'bytesValue', "
        "CAST(v->'arrayValue' AS VARCHAR), CAST(v->'kvlistValue' AS VARCHAR)) END "
        "FROM (SELECT list_filter(CAST(attrs AS JSON[]), lambda kv: kv->>'key' = k)[1]->'value' AS v))"));
  }
  for (Signal s : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
    SignalStoreOptions so{
        .fs = options.fs,
        .catalog = catalog,
        .ns = {ctx.tenant, ctx.dataset},
        .wal_dir = StrCat(options.wal_dir, "/", ctx.tenant, "/", ctx.dataset, "/", SignalName(s)),
        .store = store,
        .prefix = prefix,
        .cache = ds->cache_.get(),
        .storage_dir = storage,
        .wal = options.wal,
        .compression_level = options.compression_level,
        .parquet_encoder = options.parquet_encoder,
        .log_pool = log_pool,
        .flush_threads = options.flush_threads > 0
                             ? options.flush_threads
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())),
        .expiry = options.expiry,
        .use_trace_index = options.use_trace_index,
    };
    ASSIGN_OR_RETURN(ds->stores_[static_cast<int>(s)],
                     SignalStore::Open(so, TablesOf(s), ds->db_.get(), ds->flush_db_.get(),
                                       [s](wal::RecordType type, std::string_view payload) {
                                         return DecodeWalRecord(s, type, payload);
                                       }));
    RETURN_IF_ERROR(ds->stores_[static_cast<int>(s)]->CreateViews());
  }
  return ds;
}

absl::Status Dataset::Flush(bool wide) {
  absl::Status first;
  for (auto& store : stores_) {
    absl::Status st = store->Flush(wide);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

absl::StatusOr<MaintenanceReport> Dataset::Maintain(const MaintenanceOptions& options,
                                                    std::chrono::system_clock::time_point now) {
  MaintenanceReport total;
  absl::Status first;
  for (auto& store : stores_) {
    auto r = store->Maintain(options, now);
    if (!r.ok()) {
      if (first.ok()) first = r.status();
      continue;
    }
    total += *r;
  }
  if (!first.ok()) return first;
  return total;
}

absl::Status Dataset::Close() {
  absl::Status first = Flush();
  for (auto& store : stores_) {
    absl::Status st = store->Close();
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

Writer::Writer(WriterOptions options) : options_(std::move(options)) {}

Writer::~Writer() { (void)Close(); }

absl::StatusOr<std::unique_ptr<Writer>> Writer::Open(WriterOptions options) {
  RETURN_IF_ERROR(options.fs->CreateDirs(options.wal_dir));
  RETURN_IF_ERROR(options.fs->CreateDirs(options.storage_dir));
  auto w = std::unique_ptr<Writer>(new Writer(std::move(options)));
  std::string catalog_uri =
      w->options_.catalog_uri.empty() ? w->options_.storage_dir + "/catalog.db" : w->options_.catalog_uri;
  ASSIGN_OR_RETURN(w->catalog_, catalog::OpenCatalog(catalog_uri));
  auto start = std::chrono::steady_clock::now();
  // Recover every dataset that has a WAL or storage now, not on first use:
  // replayed data must be queryable right after a restart.
  for (const std::string& root : {w->options_.wal_dir, w->options_.storage_dir}) {
    ASSIGN_OR_RETURN(auto tenants, w->options_.fs->ListDir(root));
    for (const auto& tenant : tenants) {
      auto datasets = w->options_.fs->ListDir(root + "/" + tenant);
      if (!datasets.ok()) continue;  // a stray file, not a tenant directory
      for (const auto& dataset : *datasets) {
        auto ds = w->GetDataset(TenantContext{tenant, dataset});
        if (!ds.ok()) return ds.status();
      }
    }
  }
  // The default dataset always exists, so health and queries see it at once.
  if (auto ds = w->GetDataset(TenantContext{}); !ds.ok()) return ds.status();
  w->recovery_ms_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("recovery took {} ms", w->recovery_ms_);
  w->flusher_ = std::thread([raw = w.get()] { raw->FlusherLoop(); });
  if (w->options_.maintenance_interval.count() > 0) {
    w->maintainer_ = std::thread([raw = w.get()] { raw->MaintainerLoop(); });
  }
  return w;
}

absl::StatusOr<Dataset*> Writer::GetDataset(const TenantContext& ctx) {
  std::lock_guard lock(mu_);
  if (closed_) return absl::UnavailableError("writer is shutting down");
  auto it = datasets_.find(ctx);
  if (it != datasets_.end()) return it->second.get();
  const std::string uri = StorageUri(ctx);
  if (uri != DefaultStorageUri() && !options_.fs->Exists(StorageMarker(ctx))) {
    const std::string marker = StorageMarker(ctx);
    RETURN_IF_ERROR(options_.fs->CreateDirs(marker.substr(0, marker.rfind('/'))));
    RETURN_IF_ERROR(options_.fs->WriteFileAtomic(marker, uri));
  }
  ASSIGN_OR_RETURN(objstore::ObjectStore * store, StoreFor(uri));
  ASSIGN_OR_RETURN(auto ds, Dataset::Open(options_, catalog_.get(), store, ctx, &log_pool_));
  Dataset* raw = ds.get();
  datasets_.emplace(ctx, std::move(ds));
  dataset_uris_[ctx] = uri;
  spdlog::info("opened dataset {}/{}", ctx.tenant, ctx.dataset);
  return raw;
}

std::string Writer::DefaultStorageUri() const {
  return options_.storage_uri.empty() ? "file://" + options_.storage_dir : options_.storage_uri;
}

std::string Writer::StorageMarker(const TenantContext& ctx) const {
  return StrCat(options_.wal_dir, "/", ctx.tenant, "/", ctx.dataset, "/storage.uri");
}

std::string Writer::StorageUri(const TenantContext& ctx) const {
  if (auto it = options_.dataset_storage.find(StrCat(ctx.tenant, "/", ctx.dataset));
      it != options_.dataset_storage.end()) {
    return it->second;
  }
  const std::string wanted = options_.storage_of ? options_.storage_of(ctx) : "";
  if (auto marker = options_.fs->ReadFile(StorageMarker(ctx)); marker.ok() && !marker->empty()) {
    if (!wanted.empty() && wanted != *marker) {
      spdlog::warn("dataset {}/{}: its data is on {}, not on {} as the service database says; opening {}", ctx.tenant,
                   ctx.dataset, *marker, wanted, *marker);
    }
    return *marker;
  }
  return wanted.empty() ? DefaultStorageUri() : wanted;
}

absl::Status Writer::CheckStorage(const TenantContext& ctx, const std::string& dsn) {
  std::lock_guard lock(mu_);
  std::string current;
  if (auto it = dataset_uris_.find(ctx); it != dataset_uris_.end()) {
    current = it->second;
  } else if (auto marker = options_.fs->ReadFile(StorageMarker(ctx)); marker.ok() && !marker->empty()) {
    current = *marker;
  } else if (options_.fs->Exists(StrCat(options_.wal_dir, "/", ctx.tenant, "/", ctx.dataset)) ||
             options_.fs->Exists(StrCat(options_.storage_dir, "/", ctx.tenant, "/", ctx.dataset))) {
    current = DefaultStorageUri();  // data from before, on the default storage
  } else {
    return absl::OkStatus();  // no data anywhere yet
  }
  std::string wanted = dsn;
  if (wanted.empty()) {
    auto configured = options_.dataset_storage.find(StrCat(ctx.tenant, "/", ctx.dataset));
    wanted = configured != options_.dataset_storage.end() ? configured->second : DefaultStorageUri();
  }
  if (wanted == current) return absl::OkStatus();
  return absl::FailedPreconditionError(StrCat("dataset ", ctx.tenant, "/", ctx.dataset, " already holds data on ",
                                              current, "; give it that storage, or remove its data first"));
}

absl::StatusOr<objstore::ObjectStore*> Writer::StoreFor(const std::string& uri) {
  std::lock_guard lock(stores_mu_);
  auto& store = stores_[uri];
  if (!store) {
    if (StartsWith(uri, "file://")) {
      // Local stores write through the writer's file system (fault tests).
      ASSIGN_OR_RETURN(store, objstore::OpenLocal(uri.substr(7), options_.fs));
    } else {
      ASSIGN_OR_RETURN(store, objstore::Open(uri, options_.s3));
    }
  }
  return store.get();
}

namespace {

// What the client is told about a decoded request.
ExportResult ResultOf(const Decoded& decoded) {
  ExportResult result{decoded.accepted, decoded.rejected, decoded.truncated, decoded.first_error};
  if (!decoded.truncation.empty()) {
    result.message += StrCat(result.message.empty() ? "" : "; ", decoded.truncation);
  }
  return result;
}

}  // namespace

absl::StatusOr<ExportResult> Writer::Write(const TenantContext& ctx, Signal signal, std::string_view payload,
                                           const otlp::AttributeLimits* limits,
                                           std::chrono::steady_clock::time_point deadline) {
  RETURN_IF_ERROR(WaitForCapacity(deadline));
  const uint64_t buffered = BufferedBytes();
  ASSIGN_OR_RETURN(Dataset * ds, GetDataset(ctx));
  SignalStore& store = ds->store(signal);
  // The record must replay to the rows acknowledged now, before the decode
  // has said whether the limits changed anything: with limits in force they
  // always go in its header.
  const bool limited = limits != nullptr && limits->active();
  const std::string head = limited ? EncodeLimitsHeader(*limits) : std::string();
  ASSIGN_OR_RETURN(Decoded decoded,
                   store.IngestWhileDecoding(
                       limited ? wal::RecordType::kOtlpExportLimitedUnchecked : wal::RecordType::kOtlpExportUnchecked,
                       head, payload, [&] { return DecodePayload(signal, payload, limits); }));
  ExportResult result = ResultOf(decoded);
  if (store.buffered_rows() >= options_.max_buffer_rows || buffered >= options_.max_buffer_bytes / 2) RequestFlush();
  return result;
}

absl::StatusOr<ExportResult> Writer::WriteDecoded(const TenantContext& ctx, Signal signal, std::string_view payload,
                                                  Decoded decoded) {
  ExportResult result = ResultOf(decoded);
  if (decoded.rows() == 0) return result;  // nothing to store
  uint64_t buffered = BufferedBytes();
  ASSIGN_OR_RETURN(Dataset * ds, GetDataset(ctx));
  SignalStore& store = ds->store(signal);
  RETURN_IF_ERROR(store.Ingest(payload, std::move(decoded)).status());
  if (store.buffered_rows() >= options_.max_buffer_rows || buffered >= options_.max_buffer_bytes / 2) RequestFlush();
  return result;
}

absl::Status Writer::CheckCapacity() {
  uint64_t buffered = BufferedBytes();
  if (buffered <= options_.max_buffer_bytes) return absl::OkStatus();
  // Storage is not keeping up; make clients back off instead of growing.
  RequestFlush();
  return absl::UnavailableError(
      StrCat("write buffers are full (", buffered, " bytes waiting for storage); retry later"));
}

absl::Status Writer::WaitForCapacity(std::chrono::steady_clock::time_point client_deadline) {
  if (BufferedBytes() <= options_.max_buffer_bytes) return absl::OkStatus();
  // While flushes fail, waiting cannot help: refuse at once.
  if (options_.max_buffer_wait.count() <= 0 || last_flush_failed_.load()) return CheckCapacity();
  RequestFlush();
  const auto deadline = std::min(client_deadline, std::chrono::steady_clock::now() + options_.max_buffer_wait);
  std::unique_lock lock(capacity_mu_);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard stop_lock(flusher_mu_);
      if (stop_) break;
    }
    // Each flush notifies; the timeout only bounds a missed turn.
    capacity_cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
    if (BufferedBytes() <= options_.max_buffer_bytes) return absl::OkStatus();
    if (last_flush_failed_.load()) break;
  }
  lock.unlock();
  return CheckCapacity();
}

void Writer::NotifyCapacity() {
  std::lock_guard lock(capacity_mu_);
  capacity_cv_.notify_all();
}

void Writer::RequestFlush() {
  std::lock_guard lock(flusher_mu_);
  flush_requested_ = true;
  flusher_cv_.notify_all();
}

namespace {

// Background work (flushes, maintenance) yields the cores to ingest and
// queries when both want them: acknowledgements wait on ingest threads, not
// on flushes. Linux keeps a nice value per thread, and threads a flush
// starts inherit it. Best effort: failure leaves the default priority.
void RunAsBackgroundThread() {
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kBackgroundNice);
}

}  // namespace

void Writer::FlusherLoop() {
  RunAsBackgroundThread();
  std::unique_lock lock(flusher_mu_);
  auto last_report = std::chrono::steady_clock::now();
  while (!stop_) {
    if (std::chrono::steady_clock::now() - last_report >= std::chrono::minutes(1)) {
      // A periodic word on the WAL, so a log that cannot drain is visible in logs too.
      last_report = std::chrono::steady_clock::now();
      lock.unlock();
      auto stats = Stats();
      uint64_t segments = 0, bytes = 0;
      int64_t oldest = 0;
      for (const auto& [name, w] : stats.wals) {
        segments += w.segments;
        bytes += w.bytes;
      }
      for (const auto& [name, t] : stats.tables) oldest = std::max(oldest, t.oldest_unflushed_ms);
      spdlog::info("wal: {} segments, {} bytes; oldest unflushed data {} ms old", segments, bytes, oldest);
      lock.lock();
    }
    flusher_cv_.wait_for(lock, options_.flush_interval, [&] { return stop_ || flush_requested_; });
    if (stop_) break;
    flush_requested_ = false;
    lock.unlock();
    absl::Status st = FlushAll();
    if (!st.ok()) spdlog::warn("flush failed (will retry): {}", st.ToString());
    lock.lock();
    // Still a large backlog (ingest outpaced that flush): go again at once,
    // unless storage is failing, which gets the normal interval as backoff.
    if (st.ok() && BufferedBytes() >= options_.max_buffer_bytes / 2) flush_requested_ = true;
    if (!st.ok()) {
      // Back off for a whole interval, whatever writers request meanwhile.
      flusher_cv_.wait_for(lock, options_.flush_interval, [&] { return stop_; });
      flush_requested_ = false;
    }
  }
}

absl::Status Writer::FlushAll() {
  // Ingest is outpacing the flushes: this pass may take every flush thread.
  const bool wide = BufferedBytes() >= options_.max_buffer_bytes / 2;
  std::vector<Dataset*> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [ctx, ds] : datasets_) all.push_back(ds.get());
  }
  absl::Status first;
  for (Dataset* ds : all) {
    absl::Status st = ds->Flush(wide);
    if (!st.ok() && first.ok()) first = st;
    NotifyCapacity();
  }
  last_flush_failed_.store(!first.ok());
  NotifyCapacity();  // waiters see the failure (they stop waiting) or the room
  return first;
}

std::chrono::milliseconds Writer::RetentionFor(const TenantContext& ctx) const {
  const auto& o = options_.retention_overrides;
  if (auto it = o.find(StrCat(ctx.tenant, "/", ctx.dataset)); it != o.end()) return it->second;
  if (auto it = o.find(ctx.tenant); it != o.end()) return it->second;
  return options_.maintenance.retention;
}

absl::StatusOr<MaintenanceReport> Writer::MaintainAll(std::chrono::system_clock::time_point now) {
  std::vector<Dataset*> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [ctx, ds] : datasets_) all.push_back(ds.get());
  }
  MaintenanceReport total;
  absl::Status first;
  for (Dataset* ds : all) {
    MaintenanceOptions o = options_.maintenance;
    o.retention = RetentionFor(ds->context());
    auto r = ds->Maintain(o, now);
    if (!r.ok()) {
      if (first.ok()) first = r.status();
      continue;
    }
    total += *r;
  }
  if (!first.ok()) return first;
  return total;
}

void Writer::MaintainerLoop() {
  RunAsBackgroundThread();
  std::unique_lock lock(flusher_mu_);
  while (!stop_) {
    flusher_cv_.wait_for(lock, options_.maintenance_interval, [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    auto r = MaintainAll(std::chrono::system_clock::now());
    if (!r.ok()) spdlog::warn("maintenance failed (will retry): {}", r.status().ToString());
    lock.lock();
  }
}

absl::Status Writer::Close() {
  {
    std::lock_guard lock(flusher_mu_);
    stop_ = true;
    flusher_cv_.notify_all();
  }
  NotifyCapacity();
  if (flusher_.joinable()) flusher_.join();
  if (maintainer_.joinable()) maintainer_.join();
  std::map<TenantContext, std::unique_ptr<Dataset>> datasets;
  {
    std::lock_guard lock(mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    datasets.swap(datasets_);
  }
  absl::Status first;
  for (auto& [ctx, ds] : datasets) {
    absl::Status st = ds->Close();
    if (!st.ok()) {
      spdlog::error("closing dataset {}/{}: {}", ctx.tenant, ctx.dataset, st.ToString());
      if (first.ok()) first = st;
    }
  }
  return first;
}

Writer::AllStats Writer::Stats() {
  AllStats out;
  std::lock_guard lock(mu_);
  for (auto& [ctx, ds] : datasets_) {
    for (Signal s : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
      SignalStats ss = ds->store(s).Stats();
      for (auto& [table, ts] : ss.tables) out.tables[StrCat(ctx.tenant, "/", ctx.dataset, "/", table)] = ts;
      out.wals[StrCat(ctx.tenant, "/", ctx.dataset, "/", SignalName(s))] = ss.wal;
    }
  }
  return out;
}

uint64_t Writer::BufferedBytes() {
  uint64_t n = 0;
  std::lock_guard lock(mu_);
  for (auto& [ctx, ds] : datasets_) {
    for (Signal s : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) n += ds->store(s).buffered_bytes();
  }
  return n;
}

bool Writer::Healthy(std::string* why) {
  for (const auto& [name, s] : Stats().wals) {
    if (s.failed) {
      *why = StrCat(name, ": WAL failed");
      return false;
    }
  }
  return true;
}

}  // namespace signaldb::writer
