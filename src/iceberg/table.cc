#include "iceberg/table.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "iceberg/schema_evolution.h"

namespace signaldb::iceberg {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The version number in "<dir>/metadata/NNNNN-<uuid>.metadata.json".
int64_t VersionOf(const std::string& location) {
  auto slash = location.rfind('/');
  int64_t v = 0;
  ParseInt(std::string_view(location).substr(slash + 1, 5), &v);
  return v;
}

std::string Int32Bytes(int32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

// Bounds on what every commit rewrites: past these, manifests are merged into
// one and the oldest snapshots leave the metadata (their data stays listed by
// the current snapshot's manifests).
constexpr size_t kMaxManifests = 32;
constexpr size_t kMaxMetadataLog = 50;

}  // namespace

absl::StatusOr<std::string> IcebergTable::Read(const std::string& uri) {
  auto key = store_->KeyOf(uri);
  if (!key) return absl::FailedPreconditionError(StrCat("table ", name_, " references ", uri, " outside its store"));
  return store_->Get(*key);
}

void IcebergTable::Remove(const std::string& uri) {
  // Best effort: a file left behind is only wasted space, never lost data.
  if (auto key = store_->KeyOf(uri)) (void)store_->Delete(*key);
}

absl::StatusOr<std::string> IcebergTable::WriteMetadata(const TableMetadata& m, int64_t version) {
  char name[32];
  std::snprintf(name, sizeof(name), "%05lld-", static_cast<long long>(version));
  std::string key = StrCat(dir_, "/metadata/", name, RandomUuid(), ".metadata.json");
  RETURN_IF_ERROR(store_->Put(key, m.ToJson()));
  return Uri(key);
}

absl::StatusOr<TableMetadata> IcebergTable::Load(const std::string& location) {
  ASSIGN_OR_RETURN(std::string text, Read(location));
  return TableMetadata::FromJson(text);
}

absl::StatusOr<std::unique_ptr<IcebergTable>> IcebergTable::Open(catalog::Catalog* catalog,
                                                                 objstore::ObjectStore* store,
                                                                 std::vector<std::string> ns, std::string name,
                                                                 std::string prefix, const columnar::Schema& schema,
                                                                 const std::vector<std::string>& sort_columns) {
  std::string dir = prefix;
  auto t = std::unique_ptr<IcebergTable>(new IcebergTable(catalog, store, ns, name, std::move(prefix)));
  RETURN_IF_ERROR(catalog->CreateNamespace(ns));
  ASSIGN_OR_RETURN(auto existing, catalog->LoadTable(ns, name));
  if (!existing) {
    ASSIGN_OR_RETURN(TableMetadata m, NewTableMetadata(schema, t->Uri(dir), sort_columns));
    ASSIGN_OR_RETURN(std::string location, t->WriteMetadata(m, 0));
    absl::Status created = catalog->CreateTable(ns, name, location);
    if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) return created;
    // Another writer may have created it first: take theirs.
    ASSIGN_OR_RETURN(existing, catalog->LoadTable(ns, name));
  }
  if (!existing) return absl::InternalError(StrCat("table ", name, " vanished from the catalog while being created"));
  t->location_ = *existing;
  ASSIGN_OR_RETURN(t->metadata_, t->Load(t->location_));
  RETURN_IF_ERROR(t->CommitSchema(schema));
  return t;
}

absl::Status IcebergTable::CommitSchema(const columnar::Schema& schema) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    TableMetadata next = metadata_;
    ASSIGN_OR_RETURN(bool changed, EvolveSchema(schema, &next));
    if (!changed) return absl::OkStatus();
    next.last_updated_ms = NowMs();
    ASSIGN_OR_RETURN(bool committed, Swap(std::move(next), {}));
    if (committed) return absl::OkStatus();
    // Another writer committed first (perhaps this very change): evolve what
    // they committed instead.
    RETURN_IF_ERROR(Refresh());
  }
  return absl::AbortedError(StrCat("could not commit the schema of ", name_, " after 100 attempts"));
}

absl::StatusOr<bool> IcebergTable::Swap(TableMetadata next, const std::vector<Snapshot>& expired) {
  next.metadata_log.emplace_back(location_, metadata_.last_updated_ms);
  std::vector<std::string> dropped_metadata;
  if (next.metadata_log.size() > kMaxMetadataLog) {
    auto cut = next.metadata_log.end() - kMaxMetadataLog;
    for (auto it = next.metadata_log.begin(); it != cut; ++it) dropped_metadata.push_back(it->first);
    next.metadata_log.erase(next.metadata_log.begin(), cut);
  }
  ASSIGN_OR_RETURN(std::string new_location, WriteMetadata(next, VersionOf(location_) + 1));
  absl::Status committed = catalog_->CommitTable(ns_, name_, location_, new_location);
  if (committed.ok()) {
    metadata_ = std::move(next);
    location_ = new_location;
    RemoveExpired(expired, dropped_metadata);
    return true;
  }
  if (committed.code() != absl::StatusCode::kAborted) return committed;
  Remove(new_location);  // never published
  return false;
}

absl::Status IcebergTable::Refresh() {
  ASSIGN_OR_RETURN(auto location, catalog_->LoadTable(ns_, name_));
  if (!location) return absl::NotFoundError(StrCat("table ", name_, " is gone from the catalog"));
  ASSIGN_OR_RETURN(metadata_, Load(*location));
  location_ = *location;
  return absl::OkStatus();
}

absl::Status IcebergTable::Append(const std::vector<DataFile>& files,
                                  const std::map<std::string, std::string>& summary) {
  return Commit(files, {}, "append", summary);
}

absl::Status IcebergTable::Rewrite(const std::vector<std::string>& removed, const std::vector<DataFile>& added,
                                   const std::string& operation) {
  if (removed.empty() && added.empty()) return absl::OkStatus();
  return Commit(added, std::set<std::string>(removed.begin(), removed.end()), operation, {});
}

absl::StatusOr<std::vector<ManifestEntry>> IcebergTable::ReadEntries(const ManifestFile& m) {
  ASSIGN_OR_RETURN(std::string bytes, Read(m.manifest_path));
  return ReadManifest(bytes);
}

absl::Status IcebergTable::Commit(const std::vector<DataFile>& files, const std::set<std::string>& removed,
                                  const std::string& operation, const std::map<std::string, std::string>& summary) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    TableMetadata next = metadata_;
    const Snapshot* parent = metadata_.current();
    const int64_t seq = metadata_.last_sequence_number + 1;
    const int64_t snapshot_id = RandomSnapshotId();

    ManifestOptions mo;
    // Manifests carry the schema in force when they are written.
    mo.schema_json = metadata_.current_schema()->ToJson();
    mo.schema_id = metadata_.current_schema_id;
    mo.partition_source_id = metadata_.timestamp_field_id;
    std::vector<ManifestEntry> entries;
    int64_t rows = 0, bytes = 0;
    PartitionSummary summary_part;
    std::optional<int32_t> low, high;
    for (const auto& f : files) {
      entries.push_back(ManifestEntry{EntryStatus::kAdded, snapshot_id, seq, seq, f});
      rows += f.record_count;
      bytes += f.file_size_in_bytes;
      if (!f.partition_hour) {
        summary_part.contains_null = true;
        continue;
      }
      low = low ? std::min(*low, *f.partition_hour) : *f.partition_hour;
      high = high ? std::max(*high, *f.partition_hour) : *f.partition_hour;
    }
    if (low) summary_part.lower_bound = Int32Bytes(*low);
    if (high) summary_part.upper_bound = Int32Bytes(*high);

    std::vector<ManifestFile> manifests;
    int64_t total_rows = rows, total_files = static_cast<int64_t>(files.size());
    int64_t deleted_files = 0, deleted_rows = 0, deleted_bytes = 0;
    if (parent != nullptr) {
      ASSIGN_OR_RETURN(std::string list_bytes, Read(parent->manifest_list));
      ASSIGN_OR_RETURN(manifests, ReadManifestList(list_bytes));
      if (!removed.empty() || manifests.size() >= kMaxManifests) {
        // Removing files rewrites the manifests that list them; merging them
        // all keeps that one pass.
        ASSIGN_OR_RETURN(ManifestFile merged,
                         MergeManifests(manifests, snapshot_id, seq, mo, removed, &deleted_bytes));
        deleted_files = merged.deleted_files_count;
        deleted_rows = merged.deleted_rows_count;
        manifests = {merged};
      }
      for (const auto& m : manifests) {
        total_rows += m.added_rows_count + m.existing_rows_count;
        total_files += m.added_files_count + m.existing_files_count;
      }
    } else if (!removed.empty()) {
      return absl::FailedPreconditionError(StrCat("table ", name_, " has no snapshot to remove files from"));
    }
    if (!files.empty()) {
      ASSIGN_OR_RETURN(std::string manifest_bytes, WriteManifest(entries, mo));
      std::string manifest_path = StrCat(dir_, "/metadata/", RandomUuid(), "-m0.avro");
      RETURN_IF_ERROR(store_->Put(manifest_path, manifest_bytes));
      ManifestFile mf;
      mf.manifest_path = Uri(manifest_path);
      mf.manifest_length = static_cast<int64_t>(manifest_bytes.size());
      mf.sequence_number = seq;
      mf.min_sequence_number = seq;
      mf.added_snapshot_id = snapshot_id;
      mf.added_files_count = static_cast<int32_t>(files.size());
      mf.added_rows_count = rows;
      mf.partitions = {summary_part};
      manifests.insert(manifests.begin(), mf);
    }
    ASSIGN_OR_RETURN(std::string list_bytes,
                     WriteManifestList(manifests, snapshot_id,
                                       parent ? std::optional<int64_t>(parent->snapshot_id) : std::nullopt, seq));
    std::string list_path = StrCat(dir_, "/metadata/snap-", snapshot_id, "-", RandomUuid(), ".avro");
    RETURN_IF_ERROR(store_->Put(list_path, list_bytes));

    Snapshot snap;
    snap.snapshot_id = snapshot_id;
    if (parent) snap.parent_snapshot_id = parent->snapshot_id;
    snap.sequence_number = seq;
    snap.timestamp_ms = NowMs();
    snap.manifest_list = Uri(list_path);
    snap.schema_id = metadata_.current_schema_id;
    if (parent) {
      for (const auto& [k, v] : parent->summary) {
        if (StartsWith(k, "signaldb.")) snap.summary[k] = v;
      }
    }
    for (const auto& [k, v] : summary) snap.summary[k] = v;
    snap.summary["operation"] = operation;
    snap.summary["added-data-files"] = std::to_string(files.size());
    snap.summary["added-records"] = std::to_string(rows);
    snap.summary["added-files-size"] = std::to_string(bytes);
    if (!removed.empty()) {
      snap.summary["deleted-data-files"] = std::to_string(deleted_files);
      snap.summary["deleted-records"] = std::to_string(deleted_rows);
      snap.summary["removed-files-size"] = std::to_string(deleted_bytes);
    }
    snap.summary["total-records"] = std::to_string(total_rows);
    snap.summary["total-data-files"] = std::to_string(total_files);
    next.snapshots.push_back(snap);
    next.current_snapshot_id = snapshot_id;
    next.last_sequence_number = seq;
    next.last_updated_ms = snap.timestamp_ms;
    std::vector<Snapshot> expired;
    // Snapshots are in commit order: expire a prefix, by count and by age.
    size_t keep_from = 0;
    size_t max_kept = std::max<size_t>(1, expiry_.max_snapshots);
    if (next.snapshots.size() > max_kept) keep_from = next.snapshots.size() - max_kept;
    if (expiry_.max_age.count() > 0) {
      int64_t oldest_ms = snap.timestamp_ms - expiry_.max_age.count();
      while (keep_from + 1 < next.snapshots.size() && next.snapshots[keep_from].timestamp_ms < oldest_ms) ++keep_from;
    }
    if (keep_from > 0) {
      auto cut = next.snapshots.begin() + static_cast<std::ptrdiff_t>(keep_from);
      expired.assign(next.snapshots.begin(), cut);
      next.snapshots.erase(next.snapshots.begin(), cut);
      // The oldest kept snapshot's parent is gone from the metadata.
      next.snapshots.front().parent_snapshot_id.reset();
    }
    ASSIGN_OR_RETURN(bool committed, Swap(std::move(next), expired));
    if (committed) return absl::OkStatus();
    // Someone else committed first: build on their snapshot and try again
    // (re-checking that the files to remove are still there). The manifests
    // this attempt wrote are orphans that cleanup removes.
    RETURN_IF_ERROR(Refresh());
  }
  return absl::AbortedError(StrCat("could not commit to ", name_, " after 100 attempts"));
}

absl::StatusOr<ManifestFile> IcebergTable::MergeManifests(const std::vector<ManifestFile>& manifests,
                                                          int64_t snapshot_id, int64_t seq, const ManifestOptions& mo,
                                                          const std::set<std::string>& removed,
                                                          int64_t* deleted_bytes) {
  std::vector<ManifestEntry> entries;
  ManifestFile merged;
  merged.min_sequence_number = seq;
  PartitionSummary part;
  std::optional<int32_t> low, high;
  size_t found = 0;
  for (const auto& m : manifests) {
    ASSIGN_OR_RETURN(auto read, ReadEntries(m));
    for (auto& e : read) {
      if (e.status == EntryStatus::kDeleted) continue;
      // Inherited values become explicit: the entry keeps its sequence
      // numbers (and, unless deleted now, its snapshot) in its new manifest.
      if (!e.snapshot_id) e.snapshot_id = m.added_snapshot_id;
      if (!e.sequence_number) e.sequence_number = m.sequence_number;
      if (!e.file_sequence_number) e.file_sequence_number = e.sequence_number;
      if (removed.count(e.file.file_path)) {
        // A deleted entry names the snapshot that deleted it.
        e.status = EntryStatus::kDeleted;
        e.snapshot_id = snapshot_id;
        ++found;
        ++merged.deleted_files_count;
        merged.deleted_rows_count += e.file.record_count;
        if (deleted_bytes) *deleted_bytes += e.file.file_size_in_bytes;
        if (e.file.partition_hour) {
          low = low ? std::min(*low, *e.file.partition_hour) : *e.file.partition_hour;
          high = high ? std::max(*high, *e.file.partition_hour) : *e.file.partition_hour;
        } else {
          part.contains_null = true;
        }
        merged.min_sequence_number = std::min(merged.min_sequence_number, *e.sequence_number);
        entries.push_back(std::move(e));
        continue;
      }
      e.status = EntryStatus::kExisting;
      merged.min_sequence_number = std::min(merged.min_sequence_number, *e.sequence_number);
      ++merged.existing_files_count;
      merged.existing_rows_count += e.file.record_count;
      if (e.file.partition_hour) {
        low = low ? std::min(*low, *e.file.partition_hour) : *e.file.partition_hour;
        high = high ? std::max(*high, *e.file.partition_hour) : *e.file.partition_hour;
      } else {
        part.contains_null = true;
      }
      entries.push_back(std::move(e));
    }
  }
  if (found != removed.size()) {
    return absl::FailedPreconditionError(
        StrCat(removed.size() - found, " file(s) to remove are no longer in table ", name_));
  }
  if (low) part.lower_bound = Int32Bytes(*low);
  if (high) part.upper_bound = Int32Bytes(*high);
  ASSIGN_OR_RETURN(std::string bytes, WriteManifest(entries, mo));
  std::string path = StrCat(dir_, "/metadata/", RandomUuid(), "-m1.avro");
  RETURN_IF_ERROR(store_->Put(path, bytes));
  merged.manifest_path = Uri(path);
  merged.manifest_length = static_cast<int64_t>(bytes.size());
  merged.sequence_number = seq;
  merged.added_snapshot_id = snapshot_id;
  merged.partitions = {part};
  return merged;
}

void IcebergTable::RemoveExpired(const std::vector<Snapshot>& expired, const std::vector<std::string>& metadata_files) {
  for (const auto& uri : metadata_files) Remove(uri);
  if (expired.empty()) return;
  std::set<std::string> retained;
  for (const auto& snap : metadata_.snapshots) {
    auto bytes = Read(snap.manifest_list);
    if (!bytes.ok()) return;  // cannot tell what is still in use: keep everything
    auto list = ReadManifestList(*bytes);
    if (!list.ok()) return;
    for (const auto& m : *list) retained.insert(m.manifest_path);
  }
  for (const auto& snap : expired) {
    if (auto bytes = Read(snap.manifest_list); bytes.ok()) {
      if (auto list = ReadManifestList(*bytes); list.ok()) {
        for (const auto& m : *list) {
          if (!retained.count(m.manifest_path)) Remove(m.manifest_path);
        }
      }
    }
    Remove(snap.manifest_list);
  }
}

absl::StatusOr<std::vector<DataFile>> IcebergTable::Files() {
  std::vector<DataFile> out;
  const Snapshot* snap = metadata_.current();
  if (snap == nullptr) return out;
  ASSIGN_OR_RETURN(std::string list_bytes, Read(snap->manifest_list));
  ASSIGN_OR_RETURN(auto manifests, ReadManifestList(list_bytes));
  for (const auto& m : manifests) {
    ASSIGN_OR_RETURN(auto entries, ReadEntries(m));
    for (auto& e : entries) {
      if (e.status != EntryStatus::kDeleted) out.push_back(std::move(e.file));
    }
  }
  return out;
}

absl::StatusOr<std::set<std::string>> IcebergTable::ReferencedFiles() {
  std::set<std::string> out{location_};
  for (const auto& [file, ms] : metadata_.metadata_log) out.insert(file);
  std::set<std::string> manifests_seen;
  for (const auto& snap : metadata_.snapshots) {
    out.insert(snap.manifest_list);
    ASSIGN_OR_RETURN(std::string list_bytes, Read(snap.manifest_list));
    ASSIGN_OR_RETURN(auto manifests, ReadManifestList(list_bytes));
    for (const auto& m : manifests) {
      out.insert(m.manifest_path);
      if (!manifests_seen.insert(m.manifest_path).second) continue;
      ASSIGN_OR_RETURN(auto entries, ReadEntries(m));
      // A file deleted by some snapshot is still live in kept snapshots
      // before it, whose own manifests list it as added or existing.
      for (const auto& e : entries) {
        if (e.status != EntryStatus::kDeleted) out.insert(e.file.file_path);
      }
    }
  }
  return out;
}

}  // namespace signaldb::iceberg
