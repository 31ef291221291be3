// Iceberg v2 manifests and manifest lists (Iceberg spec "Manifests" and
// "Manifest Lists"), as Avro object container files carrying Iceberg's field
// ids, element ids and required file metadata keys. Our tables partition by
// one `hour` field, so the partition tuple is a single optional int.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb::iceberg {

struct DataFile {
  std::string file_path;  // full URI with scheme
  std::string file_format = "parquet";
  std::optional<int32_t> partition_hour;  // hours since the epoch; nullopt = null partition
  int64_t record_count = 0;
  int64_t file_size_in_bytes = 0;
  std::map<int32_t, int64_t> column_sizes, value_counts, null_value_counts, nan_value_counts;
  std::map<int32_t, std::string> lower_bounds, upper_bounds;  // Iceberg single-value binary form
  std::vector<int64_t> split_offsets;
  std::optional<int32_t> sort_order_id;
};

enum class EntryStatus : int32_t { kExisting = 0, kAdded = 1, kDeleted = 2 };

struct ManifestEntry {
  EntryStatus status = EntryStatus::kAdded;
  std::optional<int64_t> snapshot_id;           // inherited from the manifest list when unset
  std::optional<int64_t> sequence_number;       // inherited when unset and status is added
  std::optional<int64_t> file_sequence_number;  // likewise
  DataFile file;
};

struct ManifestOptions {
  std::string schema_json;  // the table schema, Iceberg JSON
  int32_t schema_id = 0;
  int32_t spec_id = 0;
  std::string partition_field = "timestamp_hour";  // partition field name
  int32_t partition_field_id = 1000;
  int32_t partition_source_id = 0;  // the `timestamp` column's field id
};

// The Avro schema of manifest_entry for our partition spec.
std::string ManifestEntrySchema(const ManifestOptions& options);
// The partition spec's fields array, as the manifest's "partition-spec" key.
std::string PartitionSpecFieldsJson(const ManifestOptions& options);
absl::StatusOr<std::string> WriteManifest(const std::vector<ManifestEntry>& entries, const ManifestOptions& options);

struct PartitionSummary {
  bool contains_null = false;
  std::optional<bool> contains_nan;
  std::optional<std::string> lower_bound, upper_bound;
};

struct ManifestFile {
  std::string manifest_path;
  int64_t manifest_length = 0;
  int32_t partition_spec_id = 0;
  int32_t content = 0;  // 0 data, 1 deletes
  int64_t sequence_number = 0;
  int64_t min_sequence_number = 0;
  int64_t added_snapshot_id = 0;
  int32_t added_files_count = 0, existing_files_count = 0, deleted_files_count = 0;
  int64_t added_rows_count = 0, existing_rows_count = 0, deleted_rows_count = 0;
  std::vector<PartitionSummary> partitions;
};

extern const char* const kManifestFileSchema;

// Read manifests and manifest lists back (ours or another writer's; the
// Java names of the file-count fields are accepted too). DataLoss when
// malformed.
absl::StatusOr<std::vector<ManifestEntry>> ReadManifest(std::string_view bytes);
absl::StatusOr<std::vector<ManifestFile>> ReadManifestList(std::string_view bytes);
absl::StatusOr<std::string> WriteManifestList(const std::vector<ManifestFile>& manifests, int64_t snapshot_id,
                                              std::optional<int64_t> parent_snapshot_id, int64_t sequence_number);

}  // namespace signaldb::iceberg
