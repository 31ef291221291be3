// One Iceberg v2 table: metadata, manifests and manifest lists under
// `<prefix>/metadata/` in an object store (local files, memory or S3), its
// pointer in the SQL catalog. Append() adds data files
// as a new snapshot and commits by compare-and-swap in the catalog, reloading
// and retrying when another writer committed first, so concurrent writers
// (threads or processes) both succeed without losing a file.
//
// Thread-safety: not thread-safe; use one IcebergTable per writer.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/catalog.h"
#include "columnar/batch.h"
#include "objstore/object_store.h"
#include "iceberg/manifest.h"
#include "iceberg/metadata.h"

namespace signaldb::iceberg {

// Which snapshots a commit keeps in the table metadata (older ones are
// expired: their manifest lists, and manifests no kept snapshot uses, are
// deleted; data files stay as long as a kept snapshot lists them). The new
// current snapshot is always kept.
struct ExpiryPolicy {
  size_t max_snapshots = 50;
  std::chrono::milliseconds max_age{0};  // 0: no age limit
};

class IcebergTable {
 public:
  // Loads the table, creating it (with `schema` and `sort_columns`) when the
  // catalog does not have it. `prefix` is the table's key prefix in `store`
  // (its location is store->Uri(prefix)). `store` is not owned. When the
  // table exists but its current schema lacks columns of `schema` (or names
  // them differently), a metadata-only commit adds a schema that has them and
  // makes it current (iceberg/schema_evolution.h), with the same
  // compare-and-swap and retry as data commits. FailedPrecondition when
  // `schema` cannot write to the table.
  static absl::StatusOr<std::unique_ptr<IcebergTable>> Open(catalog::Catalog* catalog, objstore::ObjectStore* store,
                                                            std::vector<std::string> ns, std::string name,
                                                            std::string prefix, const columnar::Schema& schema,
                                                            const std::vector<std::string>& sort_columns);

  // Commits `files` as one append snapshot; `summary` adds summary entries
  // (e.g. the WAL position the files cover). Retries on commit conflicts.
  absl::Status Append(const std::vector<DataFile>& files, const std::map<std::string, std::string>& summary);

  // Removes the data files at `removed` (URIs, as listed by Files()) and
  // adds `added`, in one snapshot: "replace" when the rows stay the same
  // (compaction), "delete" when rows leave the table (retention). Summary
  // entries under "signaldb." carry over from the parent snapshot, so the WAL
  // position recovery relies on survives maintenance commits. On a commit
  // conflict it reloads and retries; FailedPrecondition (nothing committed)
  // when a removed file is no longer in the table, e.g. because a concurrent
  // compaction took it.
  absl::Status Rewrite(const std::vector<std::string>& removed, const std::vector<DataFile>& added,
                       const std::string& operation);

  // Every file the kept snapshots and the metadata log reference: data files,
  // manifests, manifest lists and metadata files (URIs). A file of the
  // table's directories that is not in this set belongs to no live snapshot.
  absl::StatusOr<std::set<std::string>> ReferencedFiles();

  // The data files of the current snapshot.
  absl::StatusOr<std::vector<DataFile>> Files();
  // Re-reads the current metadata from the catalog.
  absl::Status Refresh();

  void set_expiry(ExpiryPolicy policy) { expiry_ = policy; }

  const TableMetadata& metadata() const { return metadata_; }
  const std::string& metadata_location() const { return location_; }

 private:
  IcebergTable(catalog::Catalog* catalog, objstore::ObjectStore* store, std::vector<std::string> ns, std::string name,
               std::string prefix)
      : catalog_(catalog), store_(store), ns_(std::move(ns)), name_(std::move(name)), dir_(std::move(prefix)) {}
  absl::StatusOr<TableMetadata> Load(const std::string& location);
  // The object at an absolute URI of this table's store.
  absl::StatusOr<std::string> Read(const std::string& uri);
  void Remove(const std::string& uri);
  // Commits the schema change `schema` needs, if any (see Open).
  absl::Status CommitSchema(const columnar::Schema& schema);
  // One commit: `added` files in a new manifest, `removed` marked deleted.
  absl::Status Commit(const std::vector<DataFile>& added, const std::set<std::string>& removed,
                      const std::string& operation, const std::map<std::string, std::string>& summary);
  absl::StatusOr<std::vector<ManifestEntry>> ReadEntries(const ManifestFile& m);
  std::string Uri(const std::string& key) const { return store_->Uri(key); }
  absl::StatusOr<std::string> WriteMetadata(const TableMetadata& m, int64_t version);
  // The commit point: logs the current metadata file in `next`, writes
  // `next` and swaps it in through the catalog. False (and nothing changed)
  // when another writer committed first; on success the expired snapshots'
  // files and metadata that left the log are deleted.
  absl::StatusOr<bool> Swap(TableMetadata next, const std::vector<Snapshot>& expired);
  // After a commit: deletes metadata files that left the metadata log, and
  // the manifest lists (and manifests no kept snapshot uses) of snapshots
  // that left the metadata.
  void RemoveExpired(const std::vector<Snapshot>& expired, const std::vector<std::string>& metadata_files);
  // Rewrites every live entry of `manifests` into one manifest (status
  // EXISTING, sequence numbers explicit), bounding what each commit reads;
  // entries whose file is in `removed` get status DELETED. NotFound-free:
  // FailedPrecondition when some file of `removed` is not live.
  absl::StatusOr<ManifestFile> MergeManifests(const std::vector<ManifestFile>& manifests, int64_t snapshot_id,
                                              int64_t seq, const ManifestOptions& mo,
                                              const std::set<std::string>& removed = {},
                                              int64_t* deleted_bytes = nullptr);

  catalog::Catalog* catalog_;
  objstore::ObjectStore* store_;
  std::vector<std::string> ns_;
  std::string name_;
  std::string dir_;  // key prefix of the table in store_
  TableMetadata metadata_;
  std::string location_;  // current metadata file URI
  ExpiryPolicy expiry_;
};

}  // namespace signaldb::iceberg
