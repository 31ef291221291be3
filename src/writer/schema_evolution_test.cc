// A table written by an older schema version and reopened with a newer one
// (a column renamed, a column and a map column added): the Iceberg table gains a second
// schema, old files read through the view with the renamed column's values
// and NULL in the added one, new rows carry values, compaction merges old
// and new files, and an independent reader (python3) sees both schemas.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/catalog.h"
#include "common/strings.h"
#include "engine/row_source.h"
#include "gtest/gtest.h"
#include "iceberg/table.h"
#include "schema/registry.h"
#include "writer/data_files.h"
#include "writer/signal_store.h"

namespace signaldb::writer {
namespace {

namespace fs = std::filesystem;

// v2 renames `msg` and adds `severity` and the map `tags`; the test starts on v1.
constexpr char kSchemas[] = R"toml(
[metadata]
current = { events = "v2" }

[events.v1]
fields = [
  { id = 1, name = "timestamp", type = "timestamptz", required = true },
  { id = 2, name = "msg", type = "string", required = true },
]

[events.v2]
inherits = "v1"
renames = { msg = "message" }
fields = [
  { id = 3, name = "severity", type = "int" },
  { id = 4, name = "tags", type = "map<string,long>", key_id = 5, value_id = 6 },
]
)toml";

constexpr int64_t kHourMicros = 3600LL * 1000000;
constexpr int64_t kBase = 472222LL * kHourMicros;  // an hour in 2023, long cold

// Serves the store's buffered batches to DuckDB, as the writer's Dataset does.
class Buffers final : public engine::RowSource {
 public:
  explicit Buffers(bool flush) : flush_(flush) {}
  const columnar::Schema* TableSchema(const std::string& table) const override {
    return store_ ? store_->TableSchema(table) : nullptr;
  }
  std::vector<std::shared_ptr<const columnar::Batch>> Snapshot(const std::string& table, int64_t arg) const override {
    if (store_ == nullptr) return {};
    return flush_ ? store_->FlushSnapshot(table, static_cast<uint64_t>(arg)) : store_->ViewSnapshot(table, arg);
  }
  std::vector<columnar::RowRef> Order(const std::string& table,
                                      const std::vector<std::shared_ptr<const columnar::Batch>>& batches) const override {
    if (!flush_ || batches.empty()) return {};
    return columnar::SortRows(batches, SortColumnIndexes(batches[0]->schema()));
  }
  SignalStore* store_ = nullptr;

 private:
  bool flush_;
};

// Payload: one "<micros>,<text>[,<severity>[,<key>:<n>;...]]" line per row.
absl::StatusOr<Decoded> Decode(const columnar::Schema* schema, std::string_view payload) {
  Decoded out;
  out.batches.emplace_back(schema);
  columnar::Batch& b = out.batches[0];
  std::istringstream lines{std::string(payload)};
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> parts;
    std::stringstream fields(line);
    for (std::string p; std::getline(fields, p, ',');) parts.push_back(p);
    b.column(0).AppendInt(std::stoll(parts[0]));
    b.column(1).AppendString(parts[1]);
    if (schema->columns.size() > 2) {
      if (parts.size() > 2) {
        b.column(2).AppendInt(std::stoll(parts[2]));
      } else {
        b.column(2).AppendNull();
      }
      columnar::ColumnData& tags = b.column(3);
      std::stringstream entries(parts.size() > 3 ? parts[3] : "");
      for (std::string e; std::getline(entries, e, ';');) {
        tags.MapKeys().AppendString(e.substr(0, e.find(':')));
        tags.MapValues().AppendInt(std::stoll(e.substr(e.find(':') + 1)));
      }
      tags.EndMap();
    }
    ++out.accepted;
  }
  return out;
}

class SchemaEvolutionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sdb_schema_evolution_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "storage" / ".tmp");
    auto set = schema::SchemaSet::Parse(kSchemas, "test");
    ASSERT_TRUE(set.ok()) << set.status();
    v1_ = set->Find("events", "v1")->ToSchema();
    v2_ = set->Current("events")->ToSchema();
    auto c = catalog::OpenSqliteCatalog((root_ / "catalog.db").string());
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = std::move(*c);
  }
  void TearDown() override {
    Close();
    fs::remove_all(root_);
  }

  // Opens the store on `schema` (closing any open one first).
  void Open(const columnar::Schema* schema) {
    Close();
    std::string storage = (root_ / "storage").string();
    auto db = engine::Database::Open({.allowed_dir = storage, .temp_dir = storage + "/.tmp"});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto flush_db = engine::Database::Open({.allowed_dir = storage, .temp_dir = storage + "/.tmp", .threads = 1});
    ASSERT_TRUE(flush_db.ok()) << flush_db.status();
    flush_db_ = std::move(*flush_db);
    ASSERT_TRUE(db_->RegisterRowSource(kViewFunction, &view_).ok());
    ASSERT_TRUE(flush_db_->RegisterRowSource(kFlushFunction, &flush_).ok());
    if (!objects_) objects_ = std::move(*objstore::Open("file://" + root_.string()));
    SignalStoreOptions o{.fs = DefaultFileSystem(),
                         .catalog = catalog_.get(),
                         .ns = {"default", "default"},
                         .wal_dir = (root_ / "wal").string(),
                         .store = objects_.get(),
                         .prefix = "storage",
                         .storage_dir = storage};
    auto store = SignalStore::Open(o, {schema}, db_.get(), flush_db_.get(),
                                   [schema](wal::RecordType, std::string_view payload) { return Decode(schema, payload); });
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    view_.store_ = flush_.store_ = store_.get();
    ASSERT_TRUE(store_->CreateViews().ok());
  }
  void Close() {
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
    view_.store_ = flush_.store_ = nullptr;
    store_.reset();
    db_.reset();
    flush_db_.reset();
  }
  // Ingests `payload` (decoded with the open schema) and flushes it to a file.
  void Write(const columnar::Schema& schema, const std::string& payload) {
    auto decoded = Decode(&schema, payload);
    ASSERT_TRUE(decoded.ok());
    ASSERT_TRUE(store_->Ingest(payload, std::move(*decoded)).ok());
    ASSERT_TRUE(store_->Flush().ok());
  }
  std::vector<std::string> Rows(const std::string& sql) {
    auto conn = db_->Connect();
    EXPECT_TRUE(conn.ok());
    auto t = (*conn)->Query(sql);
    EXPECT_TRUE(t.ok()) << t.status();
    std::vector<std::string> out;
    if (!t.ok()) return out;
    for (const auto& row : t->rows) {
      std::string line;
      for (const auto& v : row) {
        if (!line.empty()) line += "|";
        if (const auto* s = std::get_if<std::string>(&v)) {
          line += *s;
        } else if (const auto* i = std::get_if<int64_t>(&v)) {
          line += std::to_string(*i);
        } else {
          line += std::holds_alternative<std::monostate>(v) ? "NULL" : "?";
        }
      }
      out.push_back(line);
    }
    return out;
  }
  std::unique_ptr<iceberg::IcebergTable> Table() {
    auto t = iceberg::IcebergTable::Open(catalog_.get(), objects_.get(), {"default", "default"}, "events",
                                         "storage/events", v2_, {"timestamp"});
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::move(*t) : nullptr;
  }

  fs::path root_;
  columnar::Schema v1_, v2_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<objstore::ObjectStore> objects_;
  Buffers view_{false}, flush_{true};
  std::unique_ptr<engine::Database> db_, flush_db_;
  std::unique_ptr<SignalStore> store_;
};

TEST_F(SchemaEvolutionTest, OldFilesReadUnderTheNewSchemaAndCompactWithNewOnes) {
  Open(&v1_);
  Write(v1_, StrCat(kBase + 1, ",a\n", kBase + 2, ",b\n"));
  Write(v1_, StrCat(kBase + 3, ",c\n"));
  Close();

  Open(&v2_);
  auto t = Table();
  ASSERT_NE(t, nullptr);
  const iceberg::TableMetadata& m = t->metadata();
  ASSERT_EQ(m.schemas.size(), 2u);
  EXPECT_EQ(m.current_schema_id, 1);
  EXPECT_EQ(m.last_column_id, 6);  // the map's key and value ids count
  EXPECT_EQ(m.schemas[0].Find(2)->name, "msg");
  EXPECT_EQ(m.schemas[0].Find(3), nullptr);
  EXPECT_EQ(m.current_schema()->Find(2)->name, "message");
  EXPECT_FALSE(m.current_schema()->Find(3)->required);

  // Old files: the renamed column by its id, NULL for the added one; the
  // buffered row carries its value before and after its flush.
  Write(v2_, StrCat(kBase + 4, ",d,7,k:1;j:-2\n"));
  const std::string kQuery =
      "SELECT message, severity, tags['k'], tags['j'], cardinality(tags)::BIGINT FROM events ORDER BY \"timestamp\"";
  const std::vector<std::string> expected = {"a|NULL|NULL|NULL|NULL", "b|NULL|NULL|NULL|NULL",
                                             "c|NULL|NULL|NULL|NULL", "d|7|1|-2|2"};
  auto ingested = Decode(&v2_, StrCat(kBase + 5, ",e,9,k:5\n"));
  ASSERT_TRUE(store_->Ingest(StrCat(kBase + 5, ",e,9,k:5\n"), std::move(*ingested)).ok());
  std::vector<std::string> with_buffer = expected;
  with_buffer.push_back("e|9|5|NULL|1");
  EXPECT_EQ(Rows(kQuery), with_buffer);
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(Rows(kQuery), with_buffer);
  EXPECT_EQ(Rows("SELECT count(*) FROM events WHERE severity IS NULL"), std::vector<std::string>{"3"});

  // Compaction merges the two old files and the two new ones.
  MaintenanceOptions mo;
  mo.min_input_files = 2;
  auto report = store_->Maintain(mo, std::chrono::system_clock::now());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->compacted_files, 4u);
  EXPECT_EQ(report->compacted_outputs, 1u);
  EXPECT_EQ(Rows(kQuery), with_buffer);

  t = Table();
  auto files = t->Files();
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 1u);
  const iceberg::DataFile& merged = files->front();
  EXPECT_EQ(merged.record_count, 5);
  // The merged file's statistics count the old rows as nulls of the new column.
  EXPECT_EQ(merged.value_counts.at(3), 5);
  EXPECT_EQ(merged.null_value_counts.at(3), 3);
  ASSERT_TRUE(merged.lower_bounds.count(3));
  int32_t low = 0, high = 0;
  std::memcpy(&low, merged.lower_bounds.at(3).data(), 4);
  std::memcpy(&high, merged.upper_bounds.at(3).data(), 4);
  EXPECT_EQ(low, 7);
  EXPECT_EQ(high, 9);
  // The output is a file of the current schema: readable by name alone.
  std::string path = merged.file_path.substr(7);
  EXPECT_EQ(Rows(StrCat("SELECT message, severity, tags['k'], tags['j'], cardinality(tags)::BIGINT FROM read_parquet('",
                        path, "') ORDER BY \"timestamp\"")),
            with_buffer);
  // The map's key and value carry their Iceberg field ids in the file.
  EXPECT_EQ(Rows(StrCat("SELECT name, field_id::VARCHAR FROM parquet_schema('", path,
                        "') WHERE name IN ('tags', 'key', 'value') ORDER BY field_id")),
            (std::vector<std::string>{"tags|4", "key|5", "value|6"}));

  // The store reopens on the compacted table (no further schema change).
  Open(&v2_);
  EXPECT_EQ(Rows(kQuery), with_buffer);
  EXPECT_EQ(Table()->metadata().schemas.size(), 2u);

  // An independent reader: catalog -> metadata JSON -> manifests (python3-avro).
  std::string script = (root_ / "read.py").string();
  std::ofstream(script) << R"PY(
import json, sqlite3, sys
import avro.datafile, avro.io
def avro_meta(uri):
    with open(uri[len('file://'):], 'rb') as f:
        r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        return {k: v.decode() for k, v in r.meta.items()}, list(r)
db = sqlite3.connect(sys.argv[1])
(loc,) = db.execute("SELECT metadata_location FROM iceberg_tables WHERE table_name='events'").fetchone()
meta = json.load(open(loc[len('file://'):]))
out = ['current=%d last=%d' % (meta['current-schema-id'], meta['last-column-id'])]
for s in meta['schemas']:
    out.append('schema %d: %s' % (s['schema-id'], ' '.join(
        '%d:%s:%s%s' % (f['id'], f['name'], f['type'], '!' if f['required'] else '') for f in s['fields'])))
for snap in meta['snapshots']:
    _, manifests = avro_meta(snap['manifest-list'])
    ids = sorted({avro_meta(m['manifest_path'])[0]['schema-id'] for m in manifests})
    out.append('%s schema-id=%d manifests=%s' % (snap['summary']['operation'], snap['schema-id'], ','.join(ids)))
print('\n'.join(out))
)PY";
  std::string cmd = "/usr/bin/python3 -W ignore " + script + " " + (root_ / "catalog.db").string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  ASSERT_EQ(p ? ::pclose(p) : -1, 0) << "python3-avro must be installed (scripts/setup.sh): " << out;
  EXPECT_EQ(out,
            "current=1 last=6\n"
            "schema 0: 1:timestamp:timestamptz! 2:msg:string!\n"
            "schema 1: 1:timestamp:timestamptz! 2:message:string! 3:severity:int 4:tags:{'type': 'map', 'key-id': 5, "
            "'key': 'string', 'value-id': 6, 'value': 'long', 'value-required': False}\n"
            "append schema-id=0 manifests=0\n"
            "append schema-id=0 manifests=0\n"
            "append schema-id=1 manifests=0,1\n"
            "append schema-id=1 manifests=0,1\n"
            "replace schema-id=1 manifests=1\n");
}

}  // namespace
}  // namespace signaldb::writer
