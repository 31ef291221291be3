// Iceberg v2 table metadata (spec "Table Metadata Fields"): the schema built
// from our table definitions with stable field ids, the `hour(timestamp)`
// partition spec named `timestamp_hour`, a declared sort order, snapshots
// with summaries, refs and logs; written and read as JSON.
//
// Thread-safety: values; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "columnar/batch.h"

namespace signaldb::iceberg {

struct Snapshot {
  int64_t snapshot_id = 0;
  std::optional<int64_t> parent_snapshot_id;
  int64_t sequence_number = 0;
  int64_t timestamp_ms = 0;
  std::string manifest_list;
  std::map<std::string, std::string> summary;  // must hold "operation"
  int32_t schema_id = 0;
};

struct TableMetadata {
  std::string table_uuid;
  std::string location;
  int64_t last_sequence_number = 0;
  int64_t last_updated_ms = 0;
  int32_t last_column_id = 0;
  std::string schema_json;  // the current schema (schema-id 0), Iceberg JSON
  int32_t timestamp_field_id = 0;
  std::vector<std::pair<int32_t, bool>> sort_fields;  // (source id, descending)
  std::optional<int64_t> current_snapshot_id;
  std::vector<Snapshot> snapshots;
  std::vector<std::pair<std::string, int64_t>> metadata_log;  // (file, timestamp ms)
  std::map<std::string, std::string> properties;

  const Snapshot* current() const;
  std::string ToJson() const;
  static absl::StatusOr<TableMetadata> FromJson(const std::string& json);
};

// Iceberg type name of a column type.
const char* IcebergType(columnar::ColumnType type);
// The Iceberg schema JSON of `schema`: field ids 1..n in column order.
std::string SchemaJson(const columnar::Schema& schema);

// A new table: schema from `schema`, partitioned by hour(timestamp), sorted
// by `sort_columns` (names), no snapshot yet.
absl::StatusOr<TableMetadata> NewTableMetadata(const columnar::Schema& schema, std::string location,
                                               const std::vector<std::string>& sort_columns);

// A positive random 63-bit id (snapshot ids) and a random UUID string.
int64_t RandomSnapshotId();
std::string RandomUuid();

}  // namespace signaldb::iceberg
