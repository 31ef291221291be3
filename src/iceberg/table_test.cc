// Iceberg tables end to end: appends as snapshots committed through the SQL
// catalog, concurrent writers, a fresh reader, and an independent reader
// (python3 + python3-avro, given only the catalog path) finding every file.
#include "iceberg/table.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "objstore/s3rver_process.h"
#include "schema/tables.h"

namespace signaldb::iceberg {
namespace {

namespace fs = std::filesystem;

class TableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sdb_table_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<catalog::Catalog> Catalog() {
    auto c = catalog::OpenSqliteCatalog((dir_ / "catalog.db").string());
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }
  std::unique_ptr<IcebergTable> Open(catalog::Catalog* c) {
    if (!store_) store_ = std::move(*objstore::Open("file://" + dir_.string()));
    auto t = IcebergTable::Open(c, store_.get(), {"default", "default"}, "traces", "traces", schema::Traces(),
                                {"trace_id", "start_time_unix_nano"});
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::move(*t) : nullptr;
  }
  static DataFile File(const std::string& name, int32_t hour, int64_t rows) {
    DataFile f;
    f.file_path = "file:///data/" + name + ".parquet";
    f.partition_hour = hour;
    f.record_count = rows;
    f.file_size_in_bytes = rows * 10;
    return f;
  }
  static std::vector<std::string> Paths(const std::vector<DataFile>& files) {
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(f.file_path);
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir_;
  std::unique_ptr<objstore::ObjectStore> store_;
};

TEST_F(TableTest, AppendsAreSnapshotsVisibleToAFreshReader) {
  auto c = Catalog();
  auto t = Open(c.get());
  EXPECT_EQ(t->metadata().current(), nullptr);
  ASSERT_TRUE(t->Append({File("a", 10, 5)}, {{"signaldb.wal-sequence", "7"}}).ok());
  ASSERT_TRUE(t->Append({File("b", 11, 3), File("c", 12, 2)}, {{"signaldb.wal-sequence", "9"}}).ok());
  const Snapshot* snap = t->metadata().current();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->sequence_number, 2);
  EXPECT_TRUE(snap->parent_snapshot_id.has_value());
  EXPECT_EQ(snap->summary.at("signaldb.wal-sequence"), "9");
  EXPECT_EQ(snap->summary.at("total-records"), "10");
  EXPECT_EQ(snap->summary.at("operation"), "append");
  EXPECT_NE(t->metadata_location().find("/metadata/00002-"), std::string::npos);
  auto files = t->Files();
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(Paths(*files), (std::vector<std::string>{"file:///data/a.parquet", "file:///data/b.parquet",
                                                      "file:///data/c.parquet"}));
  // Another process: a new catalog connection and table object.
  auto c2 = Catalog();
  auto fresh = Open(c2.get());
  auto again = fresh->Files();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Paths(*again), Paths(*files));
  EXPECT_EQ(fresh->metadata().current()->summary.at("signaldb.wal-sequence"), "9");
}

// Long-running writers: manifests are merged and old snapshots leave the
// metadata, so a commit's cost stays bounded; no file is lost on the way.
TEST_F(TableTest, ManyAppendsStayBounded) {
  auto c = Catalog();
  auto t = Open(c.get());
  for (int i = 0; i < 120; ++i) ASSERT_TRUE(t->Append({File("f" + std::to_string(i), i % 7, 2)}, {}).ok());
  auto files = t->Files();
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->size(), 120u);
  EXPECT_LE(t->metadata().snapshots.size(), 50u);
  EXPECT_LE(t->metadata().metadata_log.size(), 50u);
  EXPECT_EQ(t->metadata().current()->summary.at("total-records"), "240");
  EXPECT_EQ(t->metadata().current()->summary.at("total-data-files"), "120");
  std::string list = t->metadata().current()->manifest_list.substr(7);
  std::ifstream in(list, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto manifests = ReadManifestList(bytes);
  ASSERT_TRUE(manifests.ok());
  EXPECT_LE(manifests->size(), 33u);
  // Old metadata files, manifest lists and merged-away manifests are deleted.
  size_t metadata_files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "traces" / "metadata")) {
    (void)e;
    ++metadata_files;
  }
  EXPECT_LT(metadata_files, 200u);
  // A fresh reader agrees.
  auto c2 = Catalog();
  auto again = Open(c2.get())->Files();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Paths(*again), Paths(*files));
}

// Snapshot expiry by count and by age: old snapshots leave the metadata
// (their manifest lists are deleted) while every data file stays listed.
TEST_F(TableTest, ExpiryPolicyLimitsKeptSnapshots) {
  auto c = Catalog();
  auto t = Open(c.get());
  t->set_expiry({.max_snapshots = 3, .max_age = std::chrono::milliseconds(0)});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(t->Append({File("f" + std::to_string(i), i, 1)}, {}).ok());
  EXPECT_EQ(t->metadata().snapshots.size(), 3u);
  EXPECT_FALSE(t->metadata().snapshots.front().parent_snapshot_id.has_value());
  size_t lists = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "traces" / "metadata")) {
    if (e.path().filename().string().rfind("snap-", 0) == 0) ++lists;
  }
  EXPECT_EQ(lists, 3u);
  auto files = t->Files();
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->size(), 10u);

  t->set_expiry({.max_snapshots = 50, .max_age = std::chrono::milliseconds(1)});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(t->Append({File("g", 20, 1)}, {}).ok());
  ASSERT_EQ(t->metadata().snapshots.size(), 1u);  // everything older than 1 ms went
  EXPECT_EQ(t->metadata().snapshots.front().snapshot_id, t->metadata().current()->snapshot_id);
  files = t->Files();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 11u);
}

TEST_F(TableTest, ConcurrentWritersBothSucceedWithoutLosingAFile) {
  Open(Catalog().get());  // create it once
  auto writer = [&](char tag) {
    auto c = Catalog();
    auto t = Open(c.get());
    for (int i = 0; i < 15; ++i) ASSERT_TRUE(t->Append({File(std::string(1, tag) + std::to_string(i), i, 1)}, {}).ok());
  };
  std::thread a(writer, 'a'), b(writer, 'b');
  a.join();
  b.join();
  auto c = Catalog();
  auto t = Open(c.get());
  auto files = t->Files();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 30u);
  EXPECT_EQ(t->metadata().last_sequence_number, 30);
}

// Compaction's commit: files replaced in one snapshot, the WAL position of
// the parent carried over, deleted entries named in the new manifest, and a
// fresh reader sees exactly the new set.
TEST_F(TableTest, RewriteReplacesFilesAndKeepsTheWalPosition) {
  auto c = Catalog();
  auto t = Open(c.get());
  ASSERT_TRUE(t->Append({File("a", 5, 4), File("b", 5, 6)}, {{"signaldb.wal-sequence", "12"}}).ok());
  ASSERT_TRUE(t->Append({File("c", 6, 1)}, {{"signaldb.wal-sequence", "13"}}).ok());
  ASSERT_TRUE(t->Rewrite({"file:///data/a.parquet", "file:///data/b.parquet"}, {File("ab", 5, 10)}, "replace").ok());
  const Snapshot* snap = t->metadata().current();
  EXPECT_EQ(snap->summary.at("operation"), "replace");
  EXPECT_EQ(snap->summary.at("signaldb.wal-sequence"), "13");
  EXPECT_EQ(snap->summary.at("deleted-data-files"), "2");
  EXPECT_EQ(snap->summary.at("deleted-records"), "10");
  EXPECT_EQ(snap->summary.at("added-records"), "10");
  EXPECT_EQ(snap->summary.at("total-records"), "11");
  EXPECT_EQ(snap->summary.at("total-data-files"), "2");
  auto fresh = Open(c.get());
  auto files = fresh->Files();
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(Paths(*files), (std::vector<std::string>{"file:///data/ab.parquet", "file:///data/c.parquet"}));

  // Retention: a delete snapshot with nothing added.
  ASSERT_TRUE(t->Rewrite({"file:///data/c.parquet"}, {}, "delete").ok());
  EXPECT_EQ(t->metadata().current()->summary.at("operation"), "delete");
  EXPECT_EQ(t->metadata().current()->summary.at("signaldb.wal-sequence"), "13");
  files = t->Files();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(Paths(*files), (std::vector<std::string>{"file:///data/ab.parquet"}));

  // A file that is not (or no longer) in the table cannot be removed, and
  // nothing is committed.
  auto seq = t->metadata().last_sequence_number;
  absl::Status st = t->Rewrite({"file:///data/a.parquet"}, {File("x", 5, 4)}, "replace");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(t->metadata().last_sequence_number, seq);
}

// A compaction that loses the race to an append rebuilds on it: the appended
// file survives; one that loses to another compaction of the same files
// gives up.
TEST_F(TableTest, RewriteRebasesOnConcurrentCommits) {
  auto c = Catalog();
  auto t1 = Open(c.get());
  ASSERT_TRUE(t1->Append({File("a", 1, 1), File("b", 1, 1)}, {}).ok());
  auto t2 = Open(c.get());
  ASSERT_TRUE(t2->Append({File("new", 1, 1)}, {}).ok());  // t1 has not seen it
  ASSERT_TRUE(t1->Rewrite({"file:///data/a.parquet", "file:///data/b.parquet"}, {File("ab", 1, 2)}, "replace").ok());
  auto files = t1->Files();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(Paths(*files), (std::vector<std::string>{"file:///data/ab.parquet", "file:///data/new.parquet"}));

  // t2 still believes a and b are there; its compaction must not resurrect them.
  absl::Status st = t2->Rewrite({"file:///data/a.parquet", "file:///data/b.parquet"}, {File("ab2", 1, 2)}, "replace");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  ASSERT_TRUE(t2->Refresh().ok());
  files = t2->Files();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(Paths(*files), (std::vector<std::string>{"file:///data/ab.parquet", "file:///data/new.parquet"}));
}

// What a kept snapshot references is never an orphan: replaced files stay
// referenced until the snapshots that list them expire.
TEST_F(TableTest, ReferencedFilesFollowSnapshotExpiry) {
  auto c = Catalog();
  auto t = Open(c.get());
  t->set_expiry({.max_snapshots = 2, .max_age = std::chrono::milliseconds(0)});
  ASSERT_TRUE(t->Append({File("a", 1, 1), File("b", 1, 1)}, {}).ok());
  ASSERT_TRUE(t->Rewrite({"file:///data/a.parquet", "file:///data/b.parquet"}, {File("ab", 1, 2)}, "replace").ok());
  auto refs = t->ReferencedFiles();
  ASSERT_TRUE(refs.ok()) << refs.status();
  EXPECT_TRUE(refs->count("file:///data/a.parquet"));  // the first snapshot is kept
  EXPECT_TRUE(refs->count("file:///data/ab.parquet"));
  EXPECT_TRUE(refs->count(t->metadata_location()));
  ASSERT_TRUE(t->Append({File("c", 2, 1)}, {}).ok());  // the first snapshot expires
  refs = t->ReferencedFiles();
  ASSERT_TRUE(refs.ok());
  EXPECT_FALSE(refs->count("file:///data/a.parquet"));
  EXPECT_FALSE(refs->count("file:///data/b.parquet"));
  EXPECT_TRUE(refs->count("file:///data/ab.parquet"));
  EXPECT_TRUE(refs->count("file:///data/c.parquet"));
  for (const auto& snap : t->metadata().snapshots) EXPECT_TRUE(refs->count(snap.manifest_list));
  // Every metadata file on disk that is referenced exists, and the rest are
  // exactly what cleanup may delete.
  for (const auto& uri : *refs) {
    if (uri.find("/metadata/") != std::string::npos) {
      EXPECT_TRUE(fs::exists(uri.substr(7))) << uri;
    }
  }
}

// The same table on S3 (a real S3-compatible server) and in memory:
// metadata, manifests and lists are objects; commits, rewrites and a fresh
// reader work as on local files, and expiry deletes objects.
TEST_F(TableTest, TablesLiveInObjectStores) {
  auto s3rver = objstore::S3rverProcess::Start({"lake"});
  ASSERT_TRUE(s3rver.ok()) << s3rver.status();
  objstore::S3Options o;
  o.endpoint = (*s3rver)->endpoint();
  o.path_style = true;
  o.access_key_id = objstore::S3rverProcess::kAccessKeyId;
  o.secret_access_key = objstore::S3rverProcess::kSecretAccessKey;
  for (std::string uri : {std::string("s3://lake/warehouse"), std::string("memory://table-test")}) {
    SCOPED_TRACE(uri);
    auto store = objstore::Open(uri, o);
    ASSERT_TRUE(store.ok()) << store.status();
    auto c = catalog::OpenSqliteCatalog((dir_ / (uri[0] == 's' ? "s3.db" : "mem.db")).string());
    ASSERT_TRUE(c.ok());
    auto open = [&] {
      auto t = IcebergTable::Open(c->get(), store->get(), {"acme", "prod"}, "traces", "acme/prod/traces",
                                  schema::Traces(), {"trace_id", "start_time_unix_nano"});
      EXPECT_TRUE(t.ok()) << t.status();
      return t.ok() ? std::move(*t) : nullptr;
    };
    auto t = open();
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->metadata().location, uri + "/acme/prod/traces");
    t->set_expiry({.max_snapshots = 2, .max_age = std::chrono::milliseconds(0)});
    ASSERT_TRUE(t->Append({File("a", 1, 1), File("b", 1, 2)}, {{"signaldb.wal-sequence", "4"}}).ok());
    ASSERT_TRUE(t->Append({File("c", 2, 3)}, {}).ok());
    ASSERT_TRUE(t->Rewrite({"file:///data/a.parquet", "file:///data/b.parquet"}, {File("ab", 1, 3)}, "replace").ok());
    EXPECT_EQ(t->metadata_location().rfind(uri + "/acme/prod/traces/metadata/00003-", 0), 0u) << t->metadata_location();
    auto fresh = open();
    ASSERT_NE(fresh, nullptr);
    auto files = fresh->Files();
    ASSERT_TRUE(files.ok()) << files.status();
    EXPECT_EQ(Paths(*files), (std::vector<std::string>{"file:///data/ab.parquet", "file:///data/c.parquet"}));
    EXPECT_EQ(fresh->metadata().current()->summary.at("signaldb.wal-sequence"), "4");
    // Only what the two kept snapshots and the metadata log use is left.
    auto listed = (*store)->List("acme/prod/traces/metadata/snap-");
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_EQ(listed->size(), 2u);
  }
}

// An independent reader finds every data file from the catalog alone:
// catalog row -> metadata JSON -> manifest list -> manifests (python3-avro).
TEST_F(TableTest, IndependentReaderFollowsTheCatalog) {
  auto c = Catalog();
  auto t = Open(c.get());
  ASSERT_TRUE(t->Append({File("x", 1, 1)}, {}).ok());
  ASSERT_TRUE(t->Append({File("y", 2, 1), File("z", 3, 1)}, {}).ok());
  ASSERT_TRUE(t->Append({File("w", 3, 1)}, {}).ok());
  ASSERT_TRUE(t->Rewrite({"file:///data/w.parquet"}, {}, "delete").ok());  // a deleted entry
  std::string script = (dir_ / "read.py").string();
  std::ofstream(script) << R"PY(
import json, sqlite3, sys
import avro.datafile, avro.io
def avro_records(uri):
    with open(uri[len('file://'):], 'rb') as f:
        r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        schema = json.loads(r.meta['avro.schema'].decode())
        return schema, list(r)
db = sqlite3.connect(sys.argv[1])
(loc,) = db.execute("SELECT metadata_location FROM iceberg_tables WHERE catalog_name='signaldb' "
                    "AND table_namespace='default.default' AND table_name='traces' "
                    "AND (iceberg_type='TABLE' OR iceberg_type IS NULL)").fetchone()
meta = json.load(open(loc[len('file://'):]))
assert meta['format-version'] == 2
snap = [s for s in meta['snapshots'] if s['snapshot-id'] == meta['current-snapshot-id']][0]
_, manifests = avro_records(snap['manifest-list'])
paths = []
for m in manifests:
    schema, entries = avro_records(m['manifest_path'])
    assert all('field-id' in f for f in schema['fields'])
    paths += [e['data_file']['file_path'] for e in entries if e['status'] != 2]
print(' '.join(sorted(paths)))
)PY";
  std::string cmd = "/usr/bin/python3 -W ignore " + script + " " + (dir_ / "catalog.db").string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  ASSERT_EQ(p ? ::pclose(p) : -1, 0) << "python3-avro must be installed (scripts/setup.sh): " << out;
  EXPECT_EQ(out, "file:///data/x.parquet file:///data/y.parquet file:///data/z.parquet\n");
}

}  // namespace
}  // namespace signaldb::iceberg
