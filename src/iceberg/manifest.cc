#include "iceberg/manifest.h"

#include "common/strings.h"
#include "iceberg/avro.h"
#include "iceberg/avro_reader.h"

namespace signaldb::iceberg {
namespace {

// `map<int, T>` is an Avro array of {key, value} records in Iceberg.
std::string IntMap(const char* name, int field_id, int key_id, int value_id, const char* value_type) {
  return StrCat(R"({"name":")", name, R"(","field-id":)", field_id,
                R"(,"type":["null",{"type":"array","items":{"type":"record","name":"k)", key_id, "_v", value_id,
                R"(","fields":[{"name":"key","type":"int","field-id":)", key_id,
                R"(},{"name":"value","type":")", value_type, R"(","field-id":)", value_id,
                R"(}]},"logicalType":"map"}],"default":null})");
}

template <typename T, typename Fn>
void EncodeMap(AvroEncoder& e, const std::map<int32_t, T>& m, Fn value) {
  if (m.empty()) {
    e.Union(0);
    return;
  }
  e.Union(1);
  e.BlockStart(static_cast<int64_t>(m.size()));
  for (const auto& [k, v] : m) {
    e.Int(k);
    value(v);
  }
  e.BlockEnd();
}

void OptionalLong(AvroEncoder& e, const std::optional<int64_t>& v) {
  if (!v) {
    e.Union(0);
  } else {
    e.Union(1);
    e.Long(*v);
  }
}

}  // namespace

std::string ManifestEntrySchema(const ManifestOptions& o) {
  return StrCat(
      R"({"type":"record","name":"manifest_entry","fields":[)",
      R"({"name":"status","field-id":0,"type":"int"},)",
      R"({"name":"snapshot_id","field-id":1,"type":["null","long"],"default":null},)",
      R"({"name":"sequence_number","field-id":3,"type":["null","long"],"default":null},)",
      R"({"name":"file_sequence_number","field-id":4,"type":["null","long"],"default":null},)",
      R"({"name":"data_file","field-id":2,"type":{"type":"record","name":"r2","fields":[)",
      R"({"name":"content","field-id":134,"type":"int"},)",
      R"({"name":"file_path","field-id":100,"type":"string"},)",
      R"({"name":"file_format","field-id":101,"type":"string"},)",
      R"({"name":"partition","field-id":102,"type":{"type":"record","name":"r102","fields":[)",
      R"({"name":")", o.partition_field, R"(","field-id":)", o.partition_field_id,
      R"(,"type":["null","int"],"default":null}]}},)",
      R"({"name":"record_count","field-id":103,"type":"long"},)",
      R"({"name":"file_size_in_bytes","field-id":104,"type":"long"},)",
      IntMap("column_sizes", 108, 117, 118, "long"), ",", IntMap("value_counts", 109, 119, 120, "long"), ",",
      IntMap("null_value_counts", 110, 121, 122, "long"), ",", IntMap("nan_value_counts", 137, 138, 139, "long"),
      ",", IntMap("lower_bounds", 125, 126, 127, "bytes"), ",", IntMap("upper_bounds", 128, 129, 130, "bytes"), ",",
      R"({"name":"key_metadata","field-id":131,"type":["null","bytes"],"default":null},)",
      R"({"name":"split_offsets","field-id":132,"type":["null",{"type":"array","element-id":133,"items":"long"}],"default":null},)",
      R"({"name":"equality_ids","field-id":135,"type":["null",{"type":"array","element-id":136,"items":"int"}],"default":null},)",
      R"({"name":"sort_order_id","field-id":140,"type":["null","int"],"default":null}]}}]})");
}

std::string PartitionSpecFieldsJson(const ManifestOptions& o) {
  return StrCat(R"([{"name":")", o.partition_field, R"(","transform":"hour","source-id":)", o.partition_source_id,
                R"(,"field-id":)", o.partition_field_id, "}]");
}

absl::StatusOr<std::string> WriteManifest(const std::vector<ManifestEntry>& entries, const ManifestOptions& o) {
  AvroFileWriter w(ManifestEntrySchema(o),
                   {{"schema", o.schema_json},
                    {"schema-id", std::to_string(o.schema_id)},
                    {"partition-spec", PartitionSpecFieldsJson(o)},
                    {"partition-spec-id", std::to_string(o.spec_id)},
                    {"format-version", "2"},
                    {"content", "data"}},
                   AvroCodec::kDeflate);
  for (const auto& entry : entries) {
    AvroEncoder& e = w.record();
    const DataFile& f = entry.file;
    e.Int(static_cast<int32_t>(entry.status));
    OptionalLong(e, entry.snapshot_id);
    OptionalLong(e, entry.sequence_number);
    OptionalLong(e, entry.file_sequence_number);
    e.Int(0);  // content: data
    e.String(f.file_path);
    e.String(f.file_format);
    if (f.partition_hour) {
      e.Union(1);
      e.Int(*f.partition_hour);
    } else {
      e.Union(0);
    }
    e.Long(f.record_count);
    e.Long(f.file_size_in_bytes);
    auto long_value = [&](int64_t v) { e.Long(v); };
    auto bytes_value = [&](const std::string& v) { e.Bytes(v); };
    EncodeMap(e, f.column_sizes, long_value);
    EncodeMap(e, f.value_counts, long_value);
    EncodeMap(e, f.null_value_counts, long_value);
    EncodeMap(e, f.nan_value_counts, long_value);
    EncodeMap(e, f.lower_bounds, bytes_value);
    EncodeMap(e, f.upper_bounds, bytes_value);
    e.Union(0);  // key_metadata
    if (f.split_offsets.empty()) {
      e.Union(0);
    } else {
      e.Union(1);
      e.BlockStart(static_cast<int64_t>(f.split_offsets.size()));
      for (int64_t off : f.split_offsets) e.Long(off);
      e.BlockEnd();
    }
    e.Union(0);  // equality_ids
    if (f.sort_order_id) {
      e.Union(1);
      e.Int(*f.sort_order_id);
    } else {
      e.Union(0);
    }
    w.EndRecord();
  }
  return w.Finish();
}

const char* const kManifestFileSchema =
    R"({"type":"record","name":"manifest_file","fields":[)"
    R"({"name":"manifest_path","type":"string","field-id":500},)"
    R"({"name":"manifest_length","type":"long","field-id":501},)"
    R"({"name":"partition_spec_id","type":"int","field-id":502},)"
    R"({"name":"content","type":"int","field-id":517},)"
    R"({"name":"sequence_number","type":"long","field-id":515},)"
    R"({"name":"min_sequence_number","type":"long","field-id":516},)"
    R"({"name":"added_snapshot_id","type":"long","field-id":503},)"
    R"({"name":"added_files_count","type":"int","field-id":504},)"
    R"({"name":"existing_files_count","type":"int","field-id":505},)"
    R"({"name":"deleted_files_count","type":"int","field-id":506},)"
    R"({"name":"added_rows_count","type":"long","field-id":512},)"
    R"({"name":"existing_rows_count","type":"long","field-id":513},)"
    R"({"name":"deleted_rows_count","type":"long","field-id":514},)"
    R"({"name":"partitions","type":["null",{"type":"array","items":{"type":"record","name":"r508","fields":[)"
    R"({"name":"contains_null","type":"boolean","field-id":509},)"
    R"({"name":"contains_nan","type":["null","boolean"],"default":null,"field-id":518},)"
    R"({"name":"lower_bound","type":["null","bytes"],"default":null,"field-id":510},)"
    R"({"name":"upper_bound","type":["null","bytes"],"default":null,"field-id":511}]},)"
    R"("element-id":508}],"default":null,"field-id":507},)"
    R"({"name":"key_metadata","type":["null","bytes"],"default":null,"field-id":519}]})";

absl::StatusOr<std::string> WriteManifestList(const std::vector<ManifestFile>& manifests, int64_t snapshot_id,
                                              std::optional<int64_t> parent_snapshot_id, int64_t sequence_number) {
  AvroFileWriter w(kManifestFileSchema,
                   {{"snapshot-id", std::to_string(snapshot_id)},
                    {"parent-snapshot-id", parent_snapshot_id ? std::to_string(*parent_snapshot_id) : "null"},
                    {"sequence-number", std::to_string(sequence_number)},
                    {"format-version", "2"}},
                   AvroCodec::kDeflate);
  for (const auto& m : manifests) {
    AvroEncoder& e = w.record();
    e.String(m.manifest_path);
    e.Long(m.manifest_length);
    e.Int(m.partition_spec_id);
    e.Int(m.content);
    e.Long(m.sequence_number);
    e.Long(m.min_sequence_number);
    e.Long(m.added_snapshot_id);
    e.Int(m.added_files_count);
    e.Int(m.existing_files_count);
    e.Int(m.deleted_files_count);
    e.Long(m.added_rows_count);
    e.Long(m.existing_rows_count);
    e.Long(m.deleted_rows_count);
    if (m.partitions.empty()) {
      e.Union(0);
    } else {
      e.Union(1);
      e.BlockStart(static_cast<int64_t>(m.partitions.size()));
      for (const auto& p : m.partitions) {
        e.Bool(p.contains_null);
        if (p.contains_nan) {
          e.Union(1);
          e.Bool(*p.contains_nan);
        } else {
          e.Union(0);
        }
        for (const auto* b : {&p.lower_bound, &p.upper_bound}) {
          if (*b) {
            e.Union(1);
            e.Bytes(**b);
          } else {
            e.Union(0);
          }
        }
      }
      e.BlockEnd();
    }
    e.Union(0);  // key_metadata
    w.EndRecord();
  }
  return w.Finish();
}

namespace {

using Json = nlohmann::json;

std::optional<int64_t> OptLong(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<int64_t>();
}

template <typename T>
std::map<int32_t, T> IntMapOf(const Json& j, const char* key) {
  std::map<int32_t, T> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  for (const auto& kv : j[key]) out[kv.at("key").get<int32_t>()] = kv.at("value").get<T>();
  return out;
}

}  // namespace

absl::StatusOr<std::vector<ManifestEntry>> ReadManifest(std::string_view bytes) {
  auto file = ReadAvroFile(bytes);
  if (!file.ok()) return file.status();
  std::vector<ManifestEntry> out;
  try {
    for (const Json& r : file->records) {
      ManifestEntry e;
      e.status = static_cast<EntryStatus>(r.at("status").get<int32_t>());
      e.snapshot_id = OptLong(r, "snapshot_id");
      e.sequence_number = OptLong(r, "sequence_number");
      e.file_sequence_number = OptLong(r, "file_sequence_number");
      const Json& f = r.at("data_file");
      DataFile& d = e.file;
      d.file_path = f.at("file_path").get<std::string>();
      d.file_format = f.at("file_format").get<std::string>();
      const Json& part = f.at("partition");
      if (!part.empty() && !part.begin()->is_null()) d.partition_hour = part.begin()->get<int32_t>();
      d.record_count = f.at("record_count").get<int64_t>();
      d.file_size_in_bytes = f.at("file_size_in_bytes").get<int64_t>();
      d.column_sizes = IntMapOf<int64_t>(f, "column_sizes");
      d.value_counts = IntMapOf<int64_t>(f, "value_counts");
      d.null_value_counts = IntMapOf<int64_t>(f, "null_value_counts");
      d.nan_value_counts = IntMapOf<int64_t>(f, "nan_value_counts");
      d.lower_bounds = IntMapOf<std::string>(f, "lower_bounds");
      d.upper_bounds = IntMapOf<std::string>(f, "upper_bounds");
      if (f.contains("split_offsets") && !f["split_offsets"].is_null()) {
        d.split_offsets = f["split_offsets"].get<std::vector<int64_t>>();
      }
      if (f.contains("sort_order_id") && !f["sort_order_id"].is_null()) d.sort_order_id = f["sort_order_id"].get<int32_t>();
      out.push_back(std::move(e));
    }
  } catch (const Json::exception& ex) {
    return absl::DataLossError(StrCat("manifest entry is missing a field: ", ex.what()));
  }
  return out;
}

absl::StatusOr<std::vector<ManifestFile>> ReadManifestList(std::string_view bytes) {
  auto file = ReadAvroFile(bytes);
  if (!file.ok()) return file.status();
  std::vector<ManifestFile> out;
  auto either = [](const Json& r, const char* spec, const char* java) -> const Json& {
    return r.contains(spec) ? r.at(spec) : r.at(java);
  };
  try {
    for (const Json& r : file->records) {
      ManifestFile m;
      m.manifest_path = r.at("manifest_path").get<std::string>();
      m.manifest_length = r.at("manifest_length").get<int64_t>();
      m.partition_spec_id = r.at("partition_spec_id").get<int32_t>();
      m.content = r.value("content", 0);
      m.sequence_number = r.value("sequence_number", int64_t{0});
      m.min_sequence_number = r.value("min_sequence_number", int64_t{0});
      m.added_snapshot_id = r.at("added_snapshot_id").get<int64_t>();
      m.added_files_count = either(r, "added_files_count", "added_data_files_count").get<int32_t>();
      m.existing_files_count = either(r, "existing_files_count", "existing_data_files_count").get<int32_t>();
      m.deleted_files_count = either(r, "deleted_files_count", "deleted_data_files_count").get<int32_t>();
      m.added_rows_count = r.at("added_rows_count").get<int64_t>();
      m.existing_rows_count = r.at("existing_rows_count").get<int64_t>();
      m.deleted_rows_count = r.at("deleted_rows_count").get<int64_t>();
      if (r.contains("partitions") && !r["partitions"].is_null()) {
        for (const Json& p : r["partitions"]) {
          PartitionSummary ps;
          ps.contains_null = p.at("contains_null").get<bool>();
          if (p.contains("contains_nan") && !p["contains_nan"].is_null()) ps.contains_nan = p["contains_nan"].get<bool>();
          if (p.contains("lower_bound") && !p["lower_bound"].is_null()) ps.lower_bound = p["lower_bound"].get<std::string>();
          if (p.contains("upper_bound") && !p["upper_bound"].is_null()) ps.upper_bound = p["upper_bound"].get<std::string>();
          m.partitions.push_back(std::move(ps));
        }
      }
      out.push_back(std::move(m));
    }
  } catch (const Json::exception& ex) {
    return absl::DataLossError(StrCat("manifest list entry is missing a field: ", ex.what()));
  }
  return out;
}

}  // namespace signaldb::iceberg
