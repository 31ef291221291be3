#include "iceberg/metadata.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "common/hex.h"
#include "common/random.h"
#include "common/strings.h"

namespace signaldb::iceberg {
namespace {

using Json = nlohmann::ordered_json;

uint64_t Random64() { return RandomU64(); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

namespace {

const char* PrimitiveType(columnar::ColumnType type) {
  switch (type) {
    case columnar::ColumnType::kString: return "string";
    case columnar::ColumnType::kInt32: return "int";
    case columnar::ColumnType::kInt64: return "long";
    case columnar::ColumnType::kDouble: return "double";
    case columnar::ColumnType::kBool: return "boolean";
    case columnar::ColumnType::kTimestampMicros: return "timestamptz";
    case columnar::ColumnType::kDate: return "date";
    default: return "string";
  }
}

}  // namespace

std::string IcebergType(const columnar::ColumnSpec& column) {
  if (!columnar::IsMap(column.type)) return PrimitiveType(column.type);
  // Nested types are kept as their JSON text (dumped with sorted keys, as a
  // parsed table schema is), so the two compare equal.
  Json map = {{"type", "map"},
              {"key-id", column.key_id},
              {"key", "string"},
              {"value-id", column.value_id},
              {"value", PrimitiveType(columnar::MapValueType(column.type))},
              {"value-required", false}};
  return map.dump();
}

int32_t MaxFieldId(const columnar::ColumnSpec& column) {
  return std::max({column.field_id, column.key_id, column.value_id});
}

TableSchema SchemaOf(const columnar::Schema& schema, int32_t schema_id) {
  TableSchema s;
  s.schema_id = schema_id;
  for (const auto& c : schema.columns) s.fields.push_back({c.field_id, c.name, c.required, IcebergType(c)});
  return s;
}

const SchemaField* TableSchema::Find(int32_t id) const {
  for (const auto& f : fields) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

std::string TableSchema::ToJson() const {
  Json j = {{"type", "struct"},
            {"schema-id", schema_id},
            {"identifier-field-ids", Json::array()},
            {"fields", Json::array()}};
  for (const auto& f : fields) {
    Json type = StartsWith(f.type, "{") ? Json::parse(f.type, nullptr, false) : Json(f.type);
    j["fields"].push_back({{"id", f.id}, {"name", f.name}, {"required", f.required}, {"type", type}});
  }
  return j.dump();
}

namespace {

TableSchema SchemaFromJson(const Json& j) {
  TableSchema s;
  s.schema_id = j.value("schema-id", 0);
  for (const auto& f : j.at("fields")) {
    const Json& type = f.at("type");
    s.fields.push_back({f.at("id").get<int32_t>(), f.at("name").get<std::string>(), f.at("required").get<bool>(),
                        type.is_string() ? type.get<std::string>() : type.dump()});
  }
  return s;
}

}  // namespace

int64_t RandomSnapshotId() { return static_cast<int64_t>(Random64() & 0x7fffffffffffffffULL) | 1; }

std::string RandomUuid() {
  std::string raw(16, '\0');
  uint64_t a = Random64(), b = Random64();
  std::memcpy(raw.data(), &a, 8);
  std::memcpy(raw.data() + 8, &b, 8);
  raw[6] = static_cast<char>((raw[6] & 0x0f) | 0x40);  // version 4
  raw[8] = static_cast<char>((raw[8] & 0x3f) | 0x80);  // variant 10
  std::string h = HexEncode(raw);
  return StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-", h.substr(16, 4), "-", h.substr(20));
}

const TableSchema* TableMetadata::current_schema() const {
  for (const auto& s : schemas) {
    if (s.schema_id == current_schema_id) return &s;
  }
  return nullptr;
}

const Snapshot* TableMetadata::current() const {
  if (!current_snapshot_id) return nullptr;
  for (const auto& s : snapshots) {
    if (s.snapshot_id == *current_snapshot_id) return &s;
  }
  return nullptr;
}

absl::StatusOr<TableMetadata> NewTableMetadata(const columnar::Schema& schema, std::string location,
                                               const std::vector<std::string>& sort_columns) {
  TableMetadata m;
  m.table_uuid = RandomUuid();
  m.location = std::move(location);
  m.last_updated_ms = NowMs();
  std::set<int32_t> ids;
  for (const auto& c : schema.columns) {
    if (c.field_id <= 0 || !ids.insert(c.field_id).second) {
      return absl::InvalidArgumentError(StrCat("table ", schema.table, ": column ", c.name,
                                               " has a missing or duplicate field id ", c.field_id));
    }
    if (columnar::IsMap(c.type) && (c.key_id <= 0 || c.value_id <= 0 || !ids.insert(c.key_id).second ||
                                    !ids.insert(c.value_id).second)) {
      return absl::InvalidArgumentError(StrCat("table ", schema.table, ": map column ", c.name,
                                               " has a missing or duplicate key or value id"));
    }
  }
  m.last_column_id = *ids.rbegin();
  m.schemas = {SchemaOf(schema, 0)};
  m.current_schema_id = 0;
  int ts = schema.IndexOf("timestamp");
  if (ts < 0) return absl::InvalidArgumentError(StrCat("table ", schema.table, " has no timestamp column"));
  m.timestamp_field_id = schema.columns[static_cast<size_t>(ts)].field_id;
  for (const auto& name : sort_columns) {
    int i = schema.IndexOf(name);
    if (i < 0) return absl::InvalidArgumentError(StrCat("sort column ", name, " is not in ", schema.table));
    m.sort_fields.emplace_back(schema.columns[static_cast<size_t>(i)].field_id, false);
  }
  m.properties["write.format.default"] = "parquet";
  m.properties["write.parquet.compression-codec"] = "zstd";
  return m;
}

std::string TableMetadata::ToJson() const {
  Json j;
  j["format-version"] = 2;
  j["table-uuid"] = table_uuid;
  j["location"] = location;
  j["last-sequence-number"] = last_sequence_number;
  j["last-updated-ms"] = last_updated_ms;
  j["last-column-id"] = last_column_id;
  j["schemas"] = Json::array();
  for (const auto& s : schemas) j["schemas"].push_back(Json::parse(s.ToJson()));
  j["current-schema-id"] = current_schema_id;
  j["partition-specs"] = Json::array({{{"spec-id", 0},
                                       {"fields", Json::array({{{"name", "timestamp_hour"},
                                                                {"transform", "hour"},
                                                                {"source-id", timestamp_field_id},
                                                                {"field-id", 1000}}})}}});
  j["default-spec-id"] = 0;
  j["last-partition-id"] = 1000;
  Json order = {{"order-id", 1}, {"fields", Json::array()}};
  for (const auto& [id, desc] : sort_fields) {
    order["fields"].push_back({{"transform", "identity"}, {"source-id", id}, {"direction", desc ? "desc" : "asc"},
                               {"null-order", desc ? "nulls-last" : "nulls-first"}});
  }
  j["sort-orders"] = Json::array({{{"order-id", 0}, {"fields", Json::array()}}, order});
  j["default-sort-order-id"] = sort_fields.empty() ? 0 : 1;
  j["properties"] = properties;
  j["current-snapshot-id"] = current_snapshot_id ? *current_snapshot_id : -1;
  j["snapshots"] = Json::array();
  j["snapshot-log"] = Json::array();
  for (const auto& s : snapshots) {
    Json sj = {{"snapshot-id", s.snapshot_id}};
    if (s.parent_snapshot_id) sj["parent-snapshot-id"] = *s.parent_snapshot_id;
    sj["sequence-number"] = s.sequence_number;
    sj["timestamp-ms"] = s.timestamp_ms;
    sj["manifest-list"] = s.manifest_list;
    sj["summary"] = s.summary;
    sj["schema-id"] = s.schema_id;
    j["snapshots"].push_back(sj);
    j["snapshot-log"].push_back({{"snapshot-id", s.snapshot_id}, {"timestamp-ms", s.timestamp_ms}});
  }
  j["metadata-log"] = Json::array();
  for (const auto& [file, ts] : metadata_log) j["metadata-log"].push_back({{"metadata-file", file}, {"timestamp-ms", ts}});
  j["refs"] = Json::object();
  if (current_snapshot_id) j["refs"]["main"] = {{"snapshot-id", *current_snapshot_id}, {"type", "branch"}};
  return j.dump(2);
}

absl::StatusOr<TableMetadata> TableMetadata::FromJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return absl::DataLossError("table metadata is not JSON");
  if (j.value("format-version", 0) != 2) return absl::FailedPreconditionError("only Iceberg format version 2 is supported");
  try {
    TableMetadata m;
    m.table_uuid = j.at("table-uuid").get<std::string>();
    m.location = j.at("location").get<std::string>();
    m.last_sequence_number = j.at("last-sequence-number").get<int64_t>();
    m.last_updated_ms = j.at("last-updated-ms").get<int64_t>();
    m.last_column_id = j.at("last-column-id").get<int32_t>();
    for (const auto& s : j.at("schemas")) m.schemas.push_back(SchemaFromJson(s));
    m.current_schema_id = j.at("current-schema-id").get<int32_t>();
    if (m.current_schema() == nullptr) {
      return absl::DataLossError(StrCat("table metadata names current schema ", m.current_schema_id,
                                        ", which is not in its schemas"));
    }
    m.timestamp_field_id = j.at("partition-specs").at(0).at("fields").at(0).at("source-id").get<int32_t>();
    for (const auto& order : j.at("sort-orders")) {
      if (order.at("order-id").get<int>() != j.at("default-sort-order-id").get<int>()) continue;
      for (const auto& f : order.at("fields")) {
        m.sort_fields.emplace_back(f.at("source-id").get<int32_t>(), f.at("direction").get<std::string>() == "desc");
      }
    }
    int64_t current = j.value("current-snapshot-id", int64_t{-1});
    if (current >= 0) m.current_snapshot_id = current;
    for (const auto& s : j.value("snapshots", Json::array())) {
      Snapshot snap;
      snap.snapshot_id = s.at("snapshot-id").get<int64_t>();
      if (s.contains("parent-snapshot-id")) snap.parent_snapshot_id = s.at("parent-snapshot-id").get<int64_t>();
      snap.sequence_number = s.at("sequence-number").get<int64_t>();
      snap.timestamp_ms = s.at("timestamp-ms").get<int64_t>();
      snap.manifest_list = s.at("manifest-list").get<std::string>();
      snap.summary = s.at("summary").get<std::map<std::string, std::string>>();
      snap.schema_id = s.value("schema-id", 0);
      m.snapshots.push_back(std::move(snap));
    }
    for (const auto& e : j.value("metadata-log", Json::array())) {
      m.metadata_log.emplace_back(e.at("metadata-file").get<std::string>(), e.at("timestamp-ms").get<int64_t>());
    }
    m.properties = j.value("properties", std::map<std::string, std::string>{});
    return m;
  } catch (const std::exception& e) {
    return absl::DataLossError(StrCat("table metadata is missing a required field: ", e.what()));
  }
}

}  // namespace signaldb::iceberg
