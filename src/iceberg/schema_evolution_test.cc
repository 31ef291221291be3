// Schema evolution by field id: the rules of EvolveSchema, and IcebergTable
// committing the change when a table is opened with a newer schema, also by
// several openers at once.
#include "iceberg/schema_evolution.h"

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "gtest/gtest.h"
#include "iceberg/table.h"

namespace signaldb::iceberg {
namespace {

namespace fs = std::filesystem;
using columnar::ColumnType;

columnar::Schema V1() {
  return {"events",
          {{"timestamp", ColumnType::kTimestampMicros, true, 1},
           {"msg", ColumnType::kString, true, 2},
           {"code", ColumnType::kInt32, false, 3}}};
}

// v1 with `msg` renamed and a column added.
columnar::Schema V2() {
  columnar::Schema s = V1();
  s.columns[1].name = "message";
  s.columns.push_back({"severity", ColumnType::kInt64, true, 4});
  return s;
}

TableMetadata Created(const columnar::Schema& schema) {
  auto m = NewTableMetadata(schema, "file:///t", {"timestamp"});
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

TEST(EvolveSchemaTest, SameSchemaChangesNothing) {
  TableMetadata m = Created(V1());
  auto changed = EvolveSchema(V1(), &m);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_FALSE(*changed);
  EXPECT_EQ(m.schemas.size(), 1u);
}

TEST(EvolveSchemaTest, AddsColumnsAsOptionalAndRenamesById) {
  TableMetadata m = Created(V1());
  EXPECT_EQ(m.last_column_id, 3);
  auto changed = EvolveSchema(V2(), &m);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  ASSERT_EQ(m.schemas.size(), 2u);
  EXPECT_EQ(m.current_schema_id, 1);
  EXPECT_EQ(m.last_column_id, 4);
  const TableSchema& old = m.schemas[0];
  const TableSchema& now = *m.current_schema();
  EXPECT_EQ(old.Find(2)->name, "msg");  // the old schema is kept as it was
  EXPECT_EQ(now.Find(2)->name, "message");
  EXPECT_TRUE(now.Find(2)->required);
  // Older files lack it, so the added column is optional in the table.
  ASSERT_NE(now.Find(4), nullptr);
  EXPECT_EQ(now.Find(4)->type, "long");
  EXPECT_FALSE(now.Find(4)->required);
  // Applying it again is a no-op.
  auto again = EvolveSchema(V2(), &m);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST(EvolveSchemaTest, GoingBackReusesTheEarlierSchema) {
  TableMetadata m = Created(V1());
  ASSERT_TRUE(EvolveSchema(V2(), &m).ok());
  // An older build: `severity` is optional in the table, so it stays; the
  // rename goes back. No third schema is needed when one matches...
  auto changed = EvolveSchema(V1(), &m);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(m.current_schema()->Find(2)->name, "msg");
  EXPECT_NE(m.current_schema()->Find(4), nullptr);
  EXPECT_EQ(m.schemas.size(), 3u);
  // ...and returning to the newer build reuses schema 1.
  ASSERT_TRUE(EvolveSchema(V2(), &m).ok());
  EXPECT_EQ(m.current_schema_id, 1);
  EXPECT_EQ(m.schemas.size(), 3u);
  EXPECT_EQ(m.last_column_id, 4);
}

TEST(EvolveSchemaTest, RequiredBecomesOptionalWhenTheBuildMayWriteNulls) {
  TableMetadata m = Created(V1());
  columnar::Schema s = V1();
  s.columns[1].required = false;
  auto changed = EvolveSchema(s, &m);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_FALSE(m.current_schema()->Find(2)->required);
  // The reverse never tightens the table.
  auto back = EvolveSchema(V1(), &m);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(*back);
}

TEST(EvolveSchemaTest, RefusesWhatWouldCorruptTheTable) {
  const TableMetadata base = Created(V1());
  auto refused = [&](const columnar::Schema& s, const std::string& why) {
    TableMetadata m = base;
    auto r = EvolveSchema(s, &m);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status();
    EXPECT_EQ(m.schemas.size(), 1u);
  };
  columnar::Schema retyped = V1();
  retyped.columns[2].type = ColumnType::kInt64;
  refused(retyped, "column code (field id 3) is int in the table but long in this build");
  // A table whose column 3 (`code`) was dropped: id 3 stays taken, so a new
  // column may not have it (it would read code's values in older files).
  TableMetadata dropped = base;
  dropped.schemas[0].fields.pop_back();
  columnar::Schema reused = V1();
  reused.columns[2] = {"other", ColumnType::kInt32, false, 3};
  auto r = EvolveSchema(reused, &dropped);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("new column other has field id 3, not above the table's last-column-id 3"),
            std::string::npos)
      << r.status();
  columnar::Schema missing = V1();
  missing.columns.erase(missing.columns.begin() + 1);
  refused(missing, "required column msg (field id 2) is not in this build's schema");
  columnar::Schema moved = V1();
  moved.columns[0].field_id = 9;
  refused(moved, "partition source timestamp has field id 1 in the table but 9");
  columnar::Schema clash = V1();
  clash.columns[2].name = "msg";
  refused(clash, "two columns would be named msg");
}

class EvolvingTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sdb_evolve_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(*objstore::Open("file://" + dir_.string()));
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<catalog::Catalog> Catalog() {
    auto c = catalog::OpenSqliteCatalog((dir_ / "catalog.db").string());
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }
  absl::StatusOr<std::unique_ptr<IcebergTable>> Open(catalog::Catalog* c, const columnar::Schema& s) {
    return IcebergTable::Open(c, store_.get(), {"default", "default"}, "events", "events", s, {"timestamp"});
  }
  static DataFile File(const std::string& name) {
    DataFile f;
    f.file_path = "file:///data/" + name + ".parquet";
    f.partition_hour = 1;
    f.record_count = 1;
    f.file_size_in_bytes = 10;
    return f;
  }
  fs::path dir_;
  std::unique_ptr<objstore::ObjectStore> store_;
};

TEST_F(EvolvingTableTest, OpeningWithANewerSchemaCommitsItAndKeepsTheData) {
  auto c = Catalog();
  auto old = Open(c.get(), V1());
  ASSERT_TRUE(old.ok()) << old.status();
  ASSERT_TRUE((*old)->Append({File("a")}, {{"signaldb.wal-sequence", "5"}}).ok());
  EXPECT_EQ((*old)->metadata().current()->schema_id, 0);

  auto t = Open(c.get(), V2());
  ASSERT_TRUE(t.ok()) << t.status();
  const TableMetadata& m = (*t)->metadata();
  EXPECT_EQ(m.schemas.size(), 2u);
  EXPECT_EQ(m.current_schema_id, 1);
  EXPECT_EQ(m.last_column_id, 4);
  EXPECT_EQ(m.metadata_log.size(), 2u);  // a metadata-only commit
  EXPECT_EQ(m.current()->summary.at("signaldb.wal-sequence"), "5");
  ASSERT_TRUE((*t)->Append({File("b")}, {}).ok());
  EXPECT_EQ((*t)->metadata().current()->schema_id, 1);
  auto files = (*t)->Files();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 2u);

  // The writer still holding the old metadata loses the race, rebuilds on
  // the new schema and keeps it.
  ASSERT_TRUE((*old)->Append({File("c")}, {}).ok());
  EXPECT_EQ((*old)->metadata().current_schema_id, 1);
  EXPECT_EQ((*old)->metadata().schemas.size(), 2u);
  files = (*old)->Files();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 3u);
}

// Openers racing to evolve the same table, while another writer appends:
// one schema change lands, nothing is duplicated, no file is lost.
TEST_F(EvolvingTableTest, ConcurrentOpenersCommitOneSchema) {
  auto appender_catalog = Catalog();
  auto appender = Open(appender_catalog.get(), V1());
  ASSERT_TRUE(appender.ok()) << appender.status();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = 0; i < 10; ++i) {
      if (!(*appender)->Append({File("f" + std::to_string(i))}, {}).ok()) ++failures;
    }
  });
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto c = Catalog();
      if (!Open(c.get(), V2()).ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto c = Catalog();
  auto t = Open(c.get(), V2());
  ASSERT_TRUE(t.ok()) << t.status();
  const TableMetadata& m = (*t)->metadata();
  EXPECT_EQ(m.schemas.size(), 2u);
  EXPECT_EQ(m.current_schema_id, 1);
  EXPECT_EQ(m.last_column_id, 4);
  auto files = (*t)->Files();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 10u);
}

}  // namespace
}  // namespace signaldb::iceberg
