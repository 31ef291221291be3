// Iceberg v2 table metadata (spec "Table Metadata Fields"): every schema the
// table had (field ids from schemas.toml, stable across renames; see
// iceberg/schema_evolution.h for how a table gains columns), the `hour(timestamp)`
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

// One field of an Iceberg schema. Our tables only hold primitive types;
// another writer's nested type is kept as its JSON text.
struct SchemaField {
  int32_t id = 0;
  std::string name;
  bool required = false;
  std::string type;  // Iceberg primitive type name, or the JSON of a nested type

  bool operator==(const SchemaField&) const = default;
};

struct TableSchema {
  int32_t schema_id = 0;
  std::vector<SchemaField> fields;

  const SchemaField* Find(int32_t id) const;
  // The schema object of the metadata's "schemas" list (and of manifests).
  std::string ToJson() const;
};

struct TableMetadata {
  std::string table_uuid;
  std::string location;
  int64_t last_sequence_number = 0;
  int64_t last_updated_ms = 0;
  int32_t last_column_id = 0;
  std::vector<TableSchema> schemas;  // every schema the table had, oldest first
  int32_t current_schema_id = 0;
  int32_t timestamp_field_id = 0;
  std::vector<std::pair<int32_t, bool>> sort_fields;  // (source id, descending)
  std::optional<int64_t> current_snapshot_id;
  std::vector<Snapshot> snapshots;
  std::vector<std::pair<std::string, int64_t>> metadata_log;  // (file, timestamp ms)
  std::map<std::string, std::string> properties;

  const Snapshot* current() const;
  // The schema `current_schema_id` names (never null in valid metadata).
  const TableSchema* current_schema() const;
  std::string ToJson() const;
  static absl::StatusOr<TableMetadata> FromJson(const std::string& json);
};

// Iceberg type name of a column type.
std::string IcebergType(const columnar::ColumnSpec& column);
// The largest field id a column uses (its own, or its map key or value id).
int32_t MaxFieldId(const columnar::ColumnSpec& column);
// The Iceberg schema of `schema` (its columns' field ids, in column order).
TableSchema SchemaOf(const columnar::Schema& schema, int32_t schema_id);

// A new table: schema from `schema`, partitioned by hour(timestamp), sorted
// by `sort_columns` (names), no snapshot yet.
absl::StatusOr<TableMetadata> NewTableMetadata(const columnar::Schema& schema, std::string location,
                                               const std::vector<std::string>& sort_columns);

// A positive random 63-bit id (snapshot ids) and a random UUID string.
int64_t RandomSnapshotId();
std::string RandomUuid();

}  // namespace signaldb::iceberg
