// Table maintenance for SignalStore: retention, compaction and cleanup of
// files no snapshot references. See SignalStore::Maintain.
//
// Every change to a table is an Iceberg commit first ("delete" for retention,
// "replace" for compaction) and only then a change of the in-memory file list
// and the query view, both under flush_mu_, so flushes and maintenance never
// interleave their commits. Compaction writes its output files without the
// lock; flushes go on meanwhile. Replaced files are not deleted at once:
// older kept snapshots (and queries planned before the swap) still use them;
// they go once no kept snapshot references them and the grace period passed.
#include <algorithm>
#include <map>

#include "common/status_macros.h"
#include "common/strings.h"
#include "iceberg/stats.h"
#include "spdlog/spdlog.h"
#include "writer/data_files.h"
#include "writer/signal_store.h"

namespace signaldb::writer {
namespace {

int64_t MicrosOf(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

absl::StatusOr<MaintenanceReport> SignalStore::Maintain(const MaintenanceOptions& options,
                                                        std::chrono::system_clock::time_point now) {
  MaintenanceReport report;
  absl::Status first;
  auto note = [&](const Table& t, const absl::Status& st) {
    if (st.ok()) return;
    spdlog::warn("{}/{}: maintenance failed: {}", options_.storage_dir, t.schema->table, st.ToString());
    if (first.ok()) first = st;
  };
  for (auto& t : tables_) {
    if (options.retention.count() > 0) {
      std::lock_guard lock(flush_mu_);
      note(*t, ApplyRetention(*t, options, now, &report));
    }
    if (options.compaction) {
      auto compacted = CompactTable(*t, options, now, &report);
      if (!compacted.ok()) note(*t, compacted.status());
    }
    std::lock_guard lock(flush_mu_);
    auto removed = RemoveUnreferenced(*t, options.orphan_grace, now);
    if (removed.ok()) {
      report.orphans_removed += *removed;
    } else {
      note(*t, removed.status());
    }
  }
  if (!first.ok()) return first;
  return report;
}

absl::Status SignalStore::ReplaceFiles(Table& t, const std::set<std::string>& removed, std::vector<FileEntry> added) {
  int64_t rows_delta = 0;
  {
    std::lock_guard plan_lock(plan_mu_);
    std::vector<FileEntry> files;
    files.reserve(t.files.size() + added.size());
    for (auto& f : t.files) {
      if (removed.count(f.file.file_path)) {
        rows_delta -= f.file.record_count;
      } else {
        files.push_back(std::move(f));
      }
    }
    for (auto& f : added) {
      rows_delta += f.file.record_count;
      files.push_back(std::move(f));
    }
    t.files = std::move(files);
  }
  {
    std::lock_guard lock(stats_mu_);
    auto& s = stats_[t.schema->table];
    s.committed_files = t.files.size();
    s.committed_rows = static_cast<uint64_t>(std::max<int64_t>(0, static_cast<int64_t>(s.committed_rows) + rows_delta));
  }
  ASSIGN_OR_RETURN(auto conn, db_->Connect());
  return conn->Execute(ViewSql(t, t.files));
}

absl::Status SignalStore::ApplyRetention(Table& t, const MaintenanceOptions& o,
                                         std::chrono::system_clock::time_point now, MaintenanceReport* report) {
  // A partition goes once all of its hour is older than the cut-off.
  const int64_t cutoff_us = MicrosOf(now - o.retention);
  std::vector<std::string> removed;
  uint64_t rows = 0;
  for (const auto& f : t.files) {
    const auto& hour = f.file.partition_hour;
    if (!hour) continue;
    if ((static_cast<int64_t>(*hour) + 1) * 3600LL * 1000000 <= cutoff_us) {
      removed.push_back(f.file.file_path);
      rows += static_cast<uint64_t>(f.file.record_count);
    }
  }
  if (removed.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(t.iceberg->Rewrite(removed, {}, "delete"));
  report->expired_files += removed.size();
  report->expired_rows += rows;
  spdlog::info("{}/{}: retention dropped {} file(s), {} rows", options_.storage_dir, t.schema->table, removed.size(),
               rows);
  return ReplaceFiles(t, std::set<std::string>(removed.begin(), removed.end()), {});
}

absl::StatusOr<uint64_t> SignalStore::CompactTable(Table& t, const MaintenanceOptions& o,
                                                   std::chrono::system_clock::time_point now,
                                                   MaintenanceReport* report) {
  // Choose groups of small files, partition by partition, from the current
  // file list (in commit order, so outputs keep roughly the arrival order).
  std::map<int32_t, std::vector<FileEntry>> small;
  {
    std::lock_guard lock(flush_mu_);
    for (const auto& f : t.files) {
      if (!f.file.partition_hour) continue;
      if (static_cast<uint64_t>(f.file.file_size_in_bytes) * 4 >= o.target_file_bytes * 3) continue;
      small[*f.file.partition_hour].push_back(f);
    }
  }
  const int32_t current_hour = iceberg::HourOf(MicrosOf(now));
  std::vector<std::pair<int32_t, std::vector<FileEntry>>> groups;
  for (auto& [hour, files] : small) {
    const bool hot = hour >= current_hour - 1;
    if (files.size() < 2 || (hot && files.size() < std::max<size_t>(2, o.min_input_files))) continue;
    std::vector<FileEntry> group;
    uint64_t bytes = 0;
    for (auto& f : files) {
      group.push_back(std::move(f));
      bytes += static_cast<uint64_t>(group.back().file.file_size_in_bytes);
      if (bytes >= o.target_file_bytes) {
        if (group.size() >= 2) groups.emplace_back(hour, std::move(group));
        group.clear();
        bytes = 0;
      }
    }
    if (group.size() >= 2) groups.emplace_back(hour, std::move(group));
  }
  if (groups.empty()) return 0;

  // Write the merged files (no lock: flushes continue).
  std::vector<std::string> inputs, keys, locals;
  std::vector<FileEntry> outputs;
  auto discard = [&](const absl::Status& st) {
    // Never committed.
    for (const auto& p : locals) (void)options_.fs->Remove(p);
    for (const auto& k : keys) (void)options_.store->Delete(k);
    return st;
  };
  ASSIGN_OR_RETURN(auto conn, AcquireConnection());
  for (const auto& [hour, group] : groups) {
    // Compaction is off the ingest path: it may spend more CPU per byte.
    const int level = o.compression_level > 0 ? o.compression_level : options_.compression_level;
    auto out = CompactGroup(t, *conn, hour, group, level, &keys, &locals);
    if (!out.ok()) {
      ReleaseConnection(std::move(conn));
      return discard(out.status());
    }
    outputs.push_back(std::move(*out));
    for (const auto& f : group) inputs.push_back(f.file.file_path);
  }
  ReleaseConnection(std::move(conn));

  // One replace snapshot for the whole table.
  std::lock_guard lock(flush_mu_);
  std::vector<iceberg::DataFile> added;
  for (const auto& o : outputs) added.push_back(o.file);
  absl::Status committed = t.iceberg->Rewrite(inputs, added, "replace");
  if (committed.code() == absl::StatusCode::kFailedPrecondition) {
    // Some input left the table meanwhile (another process's maintenance):
    // nothing was committed; the next run chooses again.
    spdlog::info("{}/{}: compaction skipped: {}", options_.storage_dir, t.schema->table, std::string(committed.message()));
    (void)discard(absl::OkStatus());
    return 0;
  }
  // Other failures may or may not have committed; the outputs stay for the
  // orphan cleanup to judge against what the table references.
  RETURN_IF_ERROR(committed);
  report->compacted_files += inputs.size();
  report->compacted_outputs += outputs.size();
  spdlog::info("{}/{}: compacted {} file(s) into {}", options_.storage_dir, t.schema->table, inputs.size(),
               outputs.size());
  RETURN_IF_ERROR(ReplaceFiles(t, std::set<std::string>(inputs.begin(), inputs.end()), std::move(outputs)));
  return inputs.size();
}

absl::StatusOr<SignalStore::FileEntry> SignalStore::CompactGroup(Table& t, engine::Connection& conn, int32_t hour,
                                                                 const std::vector<FileEntry>& group, int level,
                                                                 std::vector<std::string>* keys,
                                                                 std::vector<std::string>* locals) {
  ScanPlan inputs;  // local paths of the inputs (cached copies stay pinned)
  std::vector<const FileEntry*> entries;
  std::vector<const iceberg::DataFile*> stats;
  int64_t expected_rows = 0;
  for (const auto& f : group) {
    entries.push_back(&f);
    stats.push_back(&f.file);
    expected_rows += f.file.record_count;
  }
  RETURN_IF_ERROR(Localize(entries, &inputs));

  std::string key = StrCat(t.prefix, "/data/", PartitionDirName(hour), "/", NewDataFileName());
  std::string path = WritePath(key);
  keys->push_back(key);
  locals->push_back(path);
  RETURN_IF_ERROR(options_.fs->CreateDirs(path.substr(0, path.rfind('/'))));
  // By field id: inputs written before a column was added read it as NULL.
  ASSIGN_OR_RETURN(auto copied, conn.Query(StrCat("COPY (SELECT ", ColumnList(*t.schema), " FROM ",
                                                  ReadParquetById(*t.schema, inputs.files), SortKey(*t.schema),
                                                  ") TO ", engine::QuoteLiteral(path), " ",
                                                  ParquetCopyOptions(*t.schema, level))));
  // COPY reports the rows it wrote: they must be exactly the inputs' rows.
  int64_t copied_rows = -1;
  if (!copied.rows.empty() && !copied.rows[0].empty()) {
    if (const auto* n = std::get_if<int64_t>(&copied.rows[0][0])) copied_rows = *n;
    if (const auto* n = std::get_if<uint64_t>(&copied.rows[0][0])) copied_rows = static_cast<int64_t>(*n);
  }
  if (copied_rows != expected_rows) {
    return absl::DataLossError(StrCat("compaction of ", group.size(), " files of ", t.schema->table, " wrote ",
                                      copied_rows, " rows, expected ", expected_rows));
  }
  ASSIGN_OR_RETURN(uint64_t size, options_.fs->FileSize(path));
  std::shared_ptr<const TraceIndex> index;
  if (t.schema->IndexOf("trace_id") >= 0) {
    // The filter is built from the output itself, before it leaves staging.
    keys->push_back(TraceIndexPath(key));
    ASSIGN_OR_RETURN(auto ids,
                     conn.Query(StrCat("SELECT DISTINCT trace_id FROM read_parquet(", engine::QuoteLiteral(path), ")")));
    std::vector<std::string_view> trace_ids;
    for (const auto& row : ids.rows) {
      if (const auto* v = std::get_if<std::string>(&row[0])) trace_ids.push_back(*v);
    }
    ASSIGN_OR_RETURN(index, WriteTraceIndex(t, key, trace_ids));
  }
  RETURN_IF_ERROR(Publish(path, key));
  FileEntry out;
  out.path = options_.store->LocalPath(key).value_or("");
  out.key = key;
  out.trace_index = std::move(index);
  out.file.file_path = options_.store->Uri(key);
  out.file.partition_hour = hour;
  out.file.file_size_in_bytes = static_cast<int64_t>(size);
  out.file.sort_order_id = 1;
  iceberg::MergeStats(*t.schema, stats, &out.file);
  return out;
}

absl::StatusOr<uint64_t> SignalStore::RemoveUnreferenced(Table& t, std::chrono::milliseconds grace,
                                                         std::chrono::system_clock::time_point now) {
  // Nothing can have become unreferenced since the last pass unless the
  // table committed since, or files were left young then: skip the listing
  // and the manifest reads.
  const std::string location = t.iceberg->metadata_location();
  if (location == t.cleaned_location && !t.cleanup_pending) return 0;
  ASSIGN_OR_RETURN(std::set<std::string> referenced, t.iceberg->ReferencedFiles());
  ASSIGN_OR_RETURN(auto objects, options_.store->List(t.prefix + "/"));
  uint64_t removed = 0;
  bool pending = false;
  for (const auto& o : objects) {
    const std::string& key = o.key;
    if (referenced.count(options_.store->Uri(key))) continue;
    if (EndsWith(key, ".tidx")) {
      // A trace-id filter lives as long as its data file.
      std::string data = key.substr(0, key.size() - std::string_view(".tidx").size()) + ".parquet";
      if (referenced.count(options_.store->Uri(data))) continue;
    } else if (!EndsWith(key, ".parquet") && !EndsWith(key, ".avro") && !EndsWith(key, ".metadata.json")) {
      continue;  // only what we write: data, filters, manifests and lists, metadata
    }
    if (grace.count() > 0 && now - o.modified < grace) {
      pending = true;
      continue;
    }
    spdlog::info("removing unreferenced file {}", options_.store->Uri(key));
    RETURN_IF_ERROR(options_.store->Delete(key));
    ++removed;
  }
  t.cleaned_location = location;
  t.cleanup_pending = pending;
  return removed;
}

}  // namespace signaldb::writer
