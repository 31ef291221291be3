// Manifests and manifest lists are read back by an independent Avro reader
// (Debian's python3-avro), which must see every value, every field id and
// the Iceberg file metadata keys.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "iceberg/avro.h"
#include "iceberg/avro_reader.h"
#include "iceberg/manifest.h"
#include "iceberg/metadata.h"
#include "iceberg/stats.h"
#include "schema/tables.h"

namespace signaldb::iceberg {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Reads an Avro file with python3-avro; returns {"meta":{...},"records":[...]}
// with bytes as hex. Fails the test loudly if the reader is missing.
Json ReadWithPythonAvro(const std::string& path) {
  std::string script = R"PY(
import json, sys
import avro.datafile, avro.io
def conv(v):
    if isinstance(v, bytes): return v.hex()
    if isinstance(v, dict): return {k: conv(x) for k, x in v.items()}
    if isinstance(v, list): return [conv(x) for x in v]
    return v
with open(sys.argv[1], 'rb') as f:
    r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
    meta = {k: v.decode() for k, v in r.meta.items()}
    recs = [conv(x) for x in r]
print(json.dumps({"meta": meta, "records": recs}))
)PY";
  std::string script_path = path + ".py";
  std::ofstream(script_path) << script;
  // -W ignore: python3-avro warns that it reads logicalType "map" as a plain array.
  std::string cmd = std::string(SIGNALDB_PYTHON3) + " -W ignore " + script_path + " " + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  int rc = p ? ::pclose(p) : -1;
  EXPECT_EQ(rc, 0) << "python3-avro must be installed (scripts/setup.sh installs it): " << out;
  Json j = Json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j;
}

// Every record field in an Avro schema carries a field-id (and arrays an element-id).
void ExpectFieldIds(const Json& type, const std::string& where) {
  if (type.is_array()) {
    for (const auto& t : type) ExpectFieldIds(t, where);
  } else if (type.is_object() && type.value("type", "") == "record") {
    for (const auto& f : type["fields"]) {
      EXPECT_TRUE(f.contains("field-id")) << where << "." << f["name"];
      ExpectFieldIds(f["type"], where + "." + f["name"].get<std::string>());
    }
  } else if (type.is_object() && type.value("type", "") == "array") {
    bool is_map = type.value("logicalType", "") == "map";
    if (!is_map) {
      EXPECT_TRUE(type.contains("element-id")) << where;
    }
    ExpectFieldIds(type["items"], where + "[]");
  }
}

class IcebergTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sdb_iceberg_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Save(const std::string& name, const std::string& bytes) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  fs::path dir_;
};

TEST_F(IcebergTest, ManifestReadsBackWithFieldIdsAndMetadata) {
  ManifestOptions o;
  o.schema_json = R"({"type":"struct","schema-id":0,"fields":[{"id":1,"name":"timestamp","required":true,"type":"timestamptz"}]})";
  o.partition_source_id = 1;
  DataFile f;
  f.file_path = "file:///data/traces/data/a.parquet";
  f.partition_hour = 472222;
  f.record_count = 1000;
  f.file_size_in_bytes = 123456;
  f.column_sizes = {{1, 800}, {2, 1200}};
  f.value_counts = {{1, 1000}};
  f.null_value_counts = {{1, 0}, {2, 5}};
  f.lower_bounds = {{1, std::string("\x01\x02", 2)}};
  f.upper_bounds = {{1, std::string("\xff", 1)}};
  f.split_offsets = {4, 5000};
  f.sort_order_id = 1;
  ManifestEntry added{EntryStatus::kAdded, std::nullopt, std::nullopt, std::nullopt, f};
  DataFile g;
  g.file_path = "file:///data/traces/data/b.parquet";
  g.record_count = 1;
  g.file_size_in_bytes = 99;
  ManifestEntry existing{EntryStatus::kExisting, int64_t{42}, int64_t{3}, int64_t{3}, g};
  auto bytes = WriteManifest({added, existing}, o);
  ASSERT_TRUE(bytes.ok());
  Json j = ReadWithPythonAvro(Save("m0.avro", *bytes));
  ASSERT_TRUE(j.contains("records"));
  const Json& meta = j["meta"];
  EXPECT_EQ(meta["format-version"], "2");
  EXPECT_EQ(meta["content"], "data");
  EXPECT_EQ(meta["schema-id"], "0");
  EXPECT_EQ(meta["partition-spec-id"], "0");
  EXPECT_EQ(meta["avro.codec"], "deflate");
  EXPECT_EQ(Json::parse(meta["partition-spec"].get<std::string>())[0]["transform"], "hour");
  EXPECT_EQ(Json::parse(meta["schema"].get<std::string>())["fields"][0]["name"], "timestamp");
  ExpectFieldIds(Json::parse(meta["avro.schema"].get<std::string>()), "manifest_entry");

  ASSERT_EQ(j["records"].size(), 2u);
  const Json& r0 = j["records"][0];
  EXPECT_EQ(r0["status"], 1);
  EXPECT_TRUE(r0["snapshot_id"].is_null());
  const Json& df = r0["data_file"];
  EXPECT_EQ(df["file_path"], "file:///data/traces/data/a.parquet");
  EXPECT_EQ(df["file_format"], "parquet");
  EXPECT_EQ(df["partition"]["timestamp_hour"], 472222);
  EXPECT_EQ(df["record_count"], 1000);
  EXPECT_EQ(df["file_size_in_bytes"], 123456);
  EXPECT_EQ(df["column_sizes"], Json::parse(R"([{"key":1,"value":800},{"key":2,"value":1200}])"));
  EXPECT_EQ(df["null_value_counts"][1]["value"], 5);
  EXPECT_EQ(df["lower_bounds"][0]["value"], "0102");
  EXPECT_EQ(df["upper_bounds"][0]["value"], "ff");
  EXPECT_EQ(df["split_offsets"], Json::parse("[4,5000]"));
  EXPECT_EQ(df["sort_order_id"], 1);
  EXPECT_TRUE(df["nan_value_counts"].is_null());
  const Json& r1 = j["records"][1];
  EXPECT_EQ(r1["status"], 0);
  EXPECT_EQ(r1["snapshot_id"], 42);
  EXPECT_EQ(r1["sequence_number"], 3);
  EXPECT_TRUE(r1["data_file"]["partition"]["timestamp_hour"].is_null());
}

TEST_F(IcebergTest, ManifestListReadsBackWithFieldIds) {
  ManifestFile m;
  m.manifest_path = "file:///data/traces/metadata/x-m0.avro";
  m.manifest_length = 4242;
  m.sequence_number = 7;
  m.min_sequence_number = 5;
  m.added_snapshot_id = 99;
  m.added_files_count = 2;
  m.added_rows_count = 1001;
  m.partitions = {PartitionSummary{false, std::nullopt, std::string("\x01\x00\x00\x00", 4),
                                   std::string("\x02\x00\x00\x00", 4)}};
  auto bytes = WriteManifestList({m}, 99, std::nullopt, 7);
  ASSERT_TRUE(bytes.ok());
  Json j = ReadWithPythonAvro(Save("snap.avro", *bytes));
  ASSERT_TRUE(j.contains("records"));
  EXPECT_EQ(j["meta"]["snapshot-id"], "99");
  EXPECT_EQ(j["meta"]["parent-snapshot-id"], "null");
  EXPECT_EQ(j["meta"]["sequence-number"], "7");
  EXPECT_EQ(j["meta"]["format-version"], "2");
  ExpectFieldIds(Json::parse(j["meta"]["avro.schema"].get<std::string>()), "manifest_file");
  const Json& r = j["records"][0];
  EXPECT_EQ(r["manifest_path"], "file:///data/traces/metadata/x-m0.avro");
  EXPECT_EQ(r["manifest_length"], 4242);
  EXPECT_EQ(r["sequence_number"], 7);
  EXPECT_EQ(r["min_sequence_number"], 5);
  EXPECT_EQ(r["added_files_count"], 2);
  EXPECT_EQ(r["added_rows_count"], 1001);
  EXPECT_EQ(r["partitions"][0]["contains_null"], false);
  EXPECT_EQ(r["partitions"][0]["lower_bound"], "01000000");
  EXPECT_TRUE(r["partitions"][0]["contains_nan"].is_null());
}

// Every required v2 field is present, ids are consistent, and the metadata
// reads back to the same JSON.
TEST(TableMetadataTest, SpecValidAndRoundTrips) {
  auto m = NewTableMetadata(schema::Traces(), "file:///data/default/default/traces", {"trace_id", "start_time_unix_nano"});
  ASSERT_TRUE(m.ok()) << m.status();
  Snapshot snap;
  snap.snapshot_id = RandomSnapshotId();
  snap.sequence_number = 1;
  snap.timestamp_ms = 1700000000000;
  snap.manifest_list = "file:///data/default/default/traces/metadata/snap-1.avro";
  snap.summary = {{"operation", "append"}, {"added-records", "10"}};
  m->snapshots.push_back(snap);
  m->current_snapshot_id = snap.snapshot_id;
  m->last_sequence_number = 1;
  Json j = Json::parse(m->ToJson());
  for (const char* key : {"format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms",
                          "last-column-id", "schemas", "current-schema-id", "partition-specs", "default-spec-id",
                          "last-partition-id", "sort-orders", "default-sort-order-id"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["format-version"], 2);
  EXPECT_EQ(j["table-uuid"].get<std::string>().size(), 36u);
  int max_id = 0;
  int timestamp_id = 0;
  std::set<int> ids;
  for (const auto& f : j["schemas"][0]["fields"]) {
    max_id = std::max(max_id, f["id"].get<int>());
    EXPECT_TRUE(ids.insert(f["id"].get<int>()).second) << f["id"];
    if (f["type"].is_object()) {
      // A map: the spec's nested form, its key and value ids unique too.
      const Json& t = f["type"];
      EXPECT_EQ(t["type"], "map");
      EXPECT_EQ(t["key"], "string");
      EXPECT_TRUE(t.contains("value") && t.contains("value-required"));
      for (const char* id : {"key-id", "value-id"}) {
        EXPECT_TRUE(ids.insert(t[id].get<int>()).second) << id;
        max_id = std::max(max_id, t[id].get<int>());
      }
    }
    if (f["name"] == "timestamp") {
      timestamp_id = f["id"];
      EXPECT_EQ(f["type"], "timestamptz");
    }
    EXPECT_NE(f["type"], "timestamp_ns");
  }
  EXPECT_EQ(j["last-column-id"], max_id);
  const Json& field = j["partition-specs"][0]["fields"][0];
  EXPECT_EQ(field["name"], "timestamp_hour");
  EXPECT_EQ(field["transform"], "hour");
  EXPECT_EQ(field["source-id"], timestamp_id);
  EXPECT_EQ(field["field-id"], 1000);
  EXPECT_GE(j["last-partition-id"].get<int>(), 1000);
  EXPECT_EQ(j["default-sort-order-id"], 1);
  EXPECT_EQ(j["sort-orders"][1]["fields"].size(), 2u);
  EXPECT_EQ(j["refs"]["main"]["snapshot-id"], snap.snapshot_id);
  EXPECT_EQ(j["current-snapshot-id"], snap.snapshot_id);
  auto back = TableMetadata::FromJson(m->ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToJson(), m->ToJson());
  EXPECT_EQ(back->current()->summary.at("added-records"), "10");
  EXPECT_FALSE(TableMetadata::FromJson(R"({"format-version":1})").ok());
  EXPECT_FALSE(TableMetadata::FromJson(R"({"format-version":2})").ok());
}

TEST_F(IcebergTest, OurReaderReadsWhatWeWrite) {
  ManifestOptions o;
  o.schema_json = "{}";
  DataFile f;
  f.file_path = "file:///x.parquet";
  f.partition_hour = -5;
  f.record_count = 3;
  f.file_size_in_bytes = 10;
  f.value_counts = {{1, 3}, {7, 2}};
  f.lower_bounds = {{1, std::string("\x00\xff", 2)}};
  f.split_offsets = {4};
  ManifestEntry e{EntryStatus::kAdded, int64_t{9}, std::nullopt, int64_t{2}, f};
  auto bytes = WriteManifest({e, e}, o);
  ASSERT_TRUE(bytes.ok());
  auto back = ReadManifest(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  const auto& r = (*back)[1];
  EXPECT_EQ(r.status, EntryStatus::kAdded);
  EXPECT_EQ(r.snapshot_id, 9);
  EXPECT_FALSE(r.sequence_number.has_value());
  EXPECT_EQ(r.file_sequence_number, 2);
  EXPECT_EQ(r.file.file_path, "file:///x.parquet");
  EXPECT_EQ(r.file.partition_hour, -5);
  EXPECT_EQ(r.file.value_counts, f.value_counts);
  EXPECT_EQ(r.file.lower_bounds, f.lower_bounds);
  EXPECT_EQ(r.file.split_offsets, f.split_offsets);

  ManifestFile m;
  m.manifest_path = "file:///m.avro";
  m.manifest_length = 77;
  m.added_snapshot_id = 9;
  m.added_rows_count = 6;
  m.partitions = {PartitionSummary{true, false, std::nullopt, std::string("\x01\x02\x03\x04", 4)}};
  auto list = WriteManifestList({m}, 9, int64_t{8}, 3);
  ASSERT_TRUE(list.ok());
  auto lback = ReadManifestList(*list);
  ASSERT_TRUE(lback.ok()) << lback.status();
  ASSERT_EQ(lback->size(), 1u);
  EXPECT_EQ((*lback)[0].manifest_path, "file:///m.avro");
  EXPECT_EQ((*lback)[0].manifest_length, 77);
  EXPECT_EQ((*lback)[0].added_rows_count, 6);
  EXPECT_TRUE((*lback)[0].partitions[0].contains_null);
  EXPECT_EQ((*lback)[0].partitions[0].contains_nan, false);
  EXPECT_EQ((*lback)[0].partitions[0].upper_bound, std::string("\x01\x02\x03\x04", 4));

  // Damaged files are refused, not misread.
  for (size_t cut : {size_t{3}, bytes->size() / 2, bytes->size() - 1}) {
    EXPECT_EQ(ReadManifest(bytes->substr(0, cut)).status().code(), absl::StatusCode::kDataLoss) << cut;
  }
  EXPECT_FALSE(ReadAvroFile("not avro").ok());
}

TEST(AvroEncoderTest, ZigZagVarints) {
  AvroEncoder e;
  e.Long(0);
  e.Long(-1);
  e.Long(1);
  e.Long(-64);
  e.Long(64);
  EXPECT_EQ(e.buffer(), std::string("\x00\x01\x02\x7f\x80\x01", 6));
}

}  // namespace
}  // namespace signaldb::iceberg

namespace signaldb::iceberg {
namespace {

// A compaction output's statistics merged from its inputs equal those
// computed from all their rows at once, for every column type, including
// negative numbers (whose little-endian bytes do not sort as values).
TEST(StatsTest, MergedStatsEqualStatsOfAllRows) {
  columnar::Schema schema{"t",
                          {{"s", columnar::ColumnType::kString, false, 1},
                           {"i", columnar::ColumnType::kInt64, false, 2},
                           {"n", columnar::ColumnType::kInt32, false, 3},
                           {"d", columnar::ColumnType::kDouble, false, 4},
                           {"b", columnar::ColumnType::kBool, false, 5},
                           {"ts", columnar::ColumnType::kTimestampMicros, false, 6}}};
  auto make = [&](std::vector<int64_t> ints, std::vector<double> doubles, std::vector<std::string> strings) {
    auto b = std::make_shared<columnar::Batch>(&schema);
    for (size_t r = 0; r < ints.size(); ++r) {
      if (strings[r].empty()) {
        b->column(0).AppendNull();
      } else {
        b->column(0).AppendString(strings[r]);
      }
      b->column(1).AppendInt(ints[r]);
      b->column(2).AppendInt(ints[r] / 3);
      b->column(3).AppendDouble(doubles[r]);
      b->column(4).AppendBool(ints[r] > 0);
      if (r % 2) {
        b->column(5).AppendNull();
      } else {
        b->column(5).AppendInt(ints[r] * 1000);
      }
      b->EndRow();
    }
    return std::shared_ptr<const columnar::Batch>(std::move(b));
  };
  auto a = make({-300, 5, 70000}, {-1.5, std::nan(""), 2.25}, {"k", "", "a"});
  auto b = make({-2, 256, 1}, {-10.0, 3.5, 0.0}, {"zz", "b", "aardvark-longer-than-sixteen"});
  auto all = [](size_t, size_t) { return true; };
  DataFile fa, fb, want, got;
  ComputeStats({a}, all, &fa);
  ComputeStats({b}, all, &fb);
  ComputeStats({a, b}, all, &want);
  fa.record_count = 3;
  fb.record_count = 3;
  MergeStats(schema, {&fa, &fb}, &got);
  EXPECT_EQ(got.record_count, 6);
  EXPECT_EQ(got.value_counts, want.value_counts);
  EXPECT_EQ(got.null_value_counts, want.null_value_counts);
  EXPECT_EQ(got.nan_value_counts, want.nan_value_counts);
  EXPECT_EQ(got.lower_bounds, want.lower_bounds);
  EXPECT_EQ(got.upper_bounds, want.upper_bounds);

  // An input with values but no bound (e.g. written by another engine
  // without statistics) makes the merged bound unknown rather than wrong.
  fb.lower_bounds.erase(2);
  DataFile partial;
  MergeStats(schema, {&fa, &fb}, &partial);
  EXPECT_FALSE(partial.lower_bounds.count(2));
  EXPECT_TRUE(partial.upper_bounds.count(2));
}

}  // namespace
}  // namespace signaldb::iceberg
