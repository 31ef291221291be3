// Two writer processes append to one Iceberg table at the same time through
// each catalog implementation (SQLite file, real PostgreSQL server): every
// commit lands, and the current snapshot lists every file both wrote.
//
// The writers are separate runs of this binary (fork + exec, as two signaldb
// processes would be), not bare forks: a forked child would inherit its
// parent's random generators and pick the same file names and snapshot ids.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "catalog/catalog.h"
#include "catalog/pg_test_server.h"
#include "gtest/gtest.h"
#include <map>

#include "iceberg/table.h"
#include "schema/tables.h"

namespace signaldb::iceberg {
namespace {

namespace fs = std::filesystem;

constexpr char kWriterFlag[] = "--append-writer";
constexpr int kAppendsPerWriter = 15;

// The table's store, rooted at `dir`; lives as long as the process.
objstore::ObjectStore* StoreAt(const std::string& dir) {
  static std::map<std::string, std::unique_ptr<objstore::ObjectStore>> stores;
  auto& s = stores[dir];
  if (!s) s = std::move(*objstore::Open("file://" + dir));
  return s.get();
}

absl::StatusOr<std::unique_ptr<IcebergTable>> OpenTable(catalog::Catalog* c, const std::string& dir) {
  return IcebergTable::Open(c, StoreAt(dir), {"default", "default"}, "traces", "traces", schema::Traces(),
                            {"trace_id", "start_time_unix_nano"});
}

std::string FilePath(char tag, int i) { return "file:///data/" + std::string(1, tag) + std::to_string(i) + ".parquet"; }

int Fail(const absl::Status& st) {
  fprintf(stderr, "writer process: %s\n", st.ToString().c_str());
  return 1;
}

// A writer process's whole life: wait for the start signal (EOF on
// `start_fd`), then its own catalog connection and table, and
// kAppendsPerWriter appends. Returns the exit code.
int RunWriter(char tag, const std::string& catalog_location, const std::string& dir, int start_fd) {
  char byte;
  (void)!::read(start_fd, &byte, 1);
  auto c = catalog::OpenCatalog(catalog_location);
  if (!c.ok()) return Fail(c.status());
  auto t = OpenTable(c->get(), dir);
  if (!t.ok()) return Fail(t.status());
  for (int i = 0; i < kAppendsPerWriter; ++i) {
    DataFile f;
    f.file_path = FilePath(tag, i);
    f.partition_hour = i;
    f.record_count = 1;
    f.file_size_in_bytes = 10;
    if (auto st = (*t)->Append({f}, {}); !st.ok()) return Fail(st);
  }
  return 0;
}

enum class Backend { kSqlite, kPostgres };

class TableProcessesTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    std::string unique = std::to_string(::getpid()) + "_" + std::to_string(counter++);
    dir_ = fs::temp_directory_path() / ("sdb_table_processes_test_" + unique);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (GetParam() == Backend::kSqlite) {
      catalog_ = (dir_ / "catalog.db").string();
      return;
    }
    auto server = catalog::PgTestServer::Shared();
    ASSERT_TRUE(server.ok()) << "PostgreSQL tests need a real server: " << server.status();
    auto uri = (*server)->CreateDatabase("table_processes_test_" + unique);
    ASSERT_TRUE(uri.ok()) << uri.status();
    catalog_ = *uri;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string catalog_;
};

TEST_P(TableProcessesTest, ConcurrentWriterProcessesLoseNoFile) {
  {
    auto c = catalog::OpenCatalog(catalog_);
    ASSERT_TRUE(c.ok()) << c.status();
    auto created = OpenTable(c->get(), dir_.string());
    ASSERT_TRUE(created.ok()) << created.status();
  }
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (char tag : {'a', 'b'}) {
    std::string tag_arg(1, tag), dir = dir_.string(), fd = std::to_string(go[0]);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      const char* argv[] = {"/proc/self/exe", kWriterFlag, tag_arg.c_str(), catalog_.c_str(), dir.c_str(), fd.c_str(),
                            nullptr};
      ::execv(argv[0], const_cast<char* const*>(argv));
      ::_exit(127);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);  // both writers start now
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer process failed (see its stderr)";
  }

  auto c = catalog::OpenCatalog(catalog_);
  ASSERT_TRUE(c.ok()) << c.status();
  auto t = OpenTable(c->get(), dir_.string());
  ASSERT_TRUE(t.ok()) << t.status();
  auto files = (*t)->Files();
  ASSERT_TRUE(files.ok()) << files.status();
  std::vector<std::string> got, want;
  for (const auto& f : *files) got.push_back(f.file_path);
  for (char tag : {'a', 'b'}) {
    for (int i = 0; i < kAppendsPerWriter; ++i) want.push_back(FilePath(tag, i));
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ((*t)->metadata().last_sequence_number, 2 * kAppendsPerWriter);
}

INSTANTIATE_TEST_SUITE_P(Backends, TableProcessesTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace signaldb::iceberg

// The tests, or (with kWriterFlag) one writer process.
int main(int argc, char** argv) {
  using namespace signaldb::iceberg;  // NOLINT
  if (argc == 6 && std::strcmp(argv[1], kWriterFlag) == 0) {
    return RunWriter(argv[2][0], argv[3], argv[4], std::atoi(argv[5]));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
