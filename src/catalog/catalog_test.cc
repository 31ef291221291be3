// The catalog contract, run against both implementations: SQLite and a real
// PostgreSQL server (scripts/pg-test-server.sh). Then what only PostgreSQL
// has: reconnecting, schema creation racing between processes, connection
// errors that keep the password out.
#include "catalog/catalog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "catalog/pg_test_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace signaldb::catalog {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

enum class Backend { kSqlite, kPostgres };

std::string Name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// A fresh database per test: a SQLite file in a temp dir, or a new database
// on the shared PostgreSQL test server.
class CatalogTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    std::string unique = std::to_string(::getpid()) + "_" + std::to_string(counter++);
    if (GetParam() == Backend::kSqlite) {
      dir_ = fs::temp_directory_path() / ("sdb_catalog_test_" + unique);
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      location_ = (dir_ / "catalog.db").string();
      return;
    }
    auto server = PgTestServer::Shared();
    ASSERT_TRUE(server.ok()) << "PostgreSQL tests need a real server: " << server.status();
    server_ = *server;
    auto uri = server_->CreateDatabase("catalog_test_" + unique);
    ASSERT_TRUE(uri.ok()) << uri.status();
    location_ = *uri;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // A new connection to this test's catalog, through the factory.
  std::unique_ptr<Catalog> Open(const std::string& catalog_name = "signaldb") {
    auto c = OpenCatalog(location_, catalog_name);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  fs::path dir_;
  std::string location_;
  PgTestServer* server_ = nullptr;
};

const std::vector<std::string> kNs = {"acme", "prod"};

TEST_P(CatalogTest, CreateLoadCommitAndConflicts) {
  auto c = Open();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->CreateNamespace(kNs).ok());
  ASSERT_TRUE(c->CreateNamespace(kNs).ok());  // idempotent
  auto unknown = c->LoadTable(kNs, "traces");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_FALSE(unknown->has_value());
  ASSERT_TRUE(c->CreateTable(kNs, "traces", "m1").ok());
  EXPECT_EQ(c->CreateTable(kNs, "traces", "x").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(**c->LoadTable(kNs, "traces"), "m1");
  ASSERT_TRUE(c->CommitTable(kNs, "traces", "m1", "m2").ok());
  // A commit based on a stale location is refused.
  EXPECT_EQ(c->CommitTable(kNs, "traces", "m1", "m3").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(**c->LoadTable(kNs, "traces"), "m2");
  // So is a commit to a table that does not exist.
  EXPECT_EQ(c->CommitTable(kNs, "nope", "m1", "m2").code(), absl::StatusCode::kAborted);
  ASSERT_TRUE(c->CreateTable(kNs, "logs", "l1").ok());
  EXPECT_EQ(*c->ListTables(kNs), (std::vector<std::string>{"logs", "traces"}));
  // Another namespace is separate.
  EXPECT_FALSE(c->LoadTable({"other", "prod"}, "traces")->has_value());
  EXPECT_TRUE(c->ListTables({"other", "prod"})->empty());
}

TEST_P(CatalogTest, ReopenedCatalogSeesCommits) {
  {
    auto c = Open();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->CreateTable(kNs, "traces", "m1").ok());
    ASSERT_TRUE(c->CommitTable(kNs, "traces", "m1", "m2").ok());
  }
  auto c = Open();  // the tables exist now: opening must not trip over them
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(**c->LoadTable(kNs, "traces"), "m2");
}

TEST_P(CatalogTest, CatalogNamesAreSeparate) {
  auto a = Open("a");
  auto b = Open("b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->CreateTable(kNs, "traces", "a1").ok());
  ASSERT_TRUE(b->CreateTable(kNs, "traces", "b1").ok());
  EXPECT_EQ(**a->LoadTable(kNs, "traces"), "a1");
  EXPECT_EQ(**b->LoadTable(kNs, "traces"), "b1");
  EXPECT_EQ(b->CommitTable(kNs, "traces", "a1", "a2").code(), absl::StatusCode::kAborted);
}

// Two writers (separate connections, as two processes would have) commit to
// the same table concurrently with reload-and-retry: every commit lands.
TEST_P(CatalogTest, ConcurrentCommittersLoseNothing) {
  ASSERT_TRUE(Open()->CreateTable(kNs, "traces", "").ok());
  auto writer = [&](char tag) {
    auto c = Open();
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 50; ++i) {
      while (true) {
        auto current = c->LoadTable(kNs, "traces");
        ASSERT_TRUE(current.ok()) << current.status();
        std::string next = **current + tag;
        absl::Status st = c->CommitTable(kNs, "traces", **current, next);
        if (st.ok()) break;
        ASSERT_EQ(st.code(), absl::StatusCode::kAborted) << st;
      }
    }
  };
  std::thread a(writer, 'a'), b(writer, 'b');
  a.join();
  b.join();
  std::string final = **Open()->LoadTable(kNs, "traces");
  EXPECT_EQ(std::count(final.begin(), final.end(), 'a'), 50);
  EXPECT_EQ(std::count(final.begin(), final.end(), 'b'), 50);
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres), Name);

// What only PostgreSQL has.
using PostgresCatalogTest = CatalogTest;

// The rows are the JDBC / pyiceberg layout other engines read.
TEST_P(PostgresCatalogTest, RowsUseTheIcebergSqlCatalogColumns) {
  auto c = Open();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->CreateNamespace(kNs).ok());
  ASSERT_TRUE(c->CreateTable(kNs, "traces", "file:///m1.json").ok());
  ASSERT_TRUE(c->CommitTable(kNs, "traces", "file:///m1.json", "file:///m2.json").ok());
  std::string db = location_.substr(location_.rfind('/') + 1);
  auto rows = server_->Psql(
      "SELECT catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type"
      " FROM iceberg_tables; SELECT * FROM iceberg_namespace_properties",
      db);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, HasSubstr("signaldb|acme.prod|traces|file:///m2.json|file:///m1.json|TABLE\n"));
  EXPECT_THAT(*rows, HasSubstr("signaldb|acme.prod|exists|true"));
}

// The server ends the catalog's session (as a restart or failover would):
// the next calls reconnect and carry on.
TEST_P(PostgresCatalogTest, ReconnectsAfterTheConnectionBroke) {
  auto c = Open();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->CreateTable(kNs, "traces", "m1").ok());
  std::string db = location_.substr(location_.rfind('/') + 1);
  auto kill = [&] {
    auto out = server_->Psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + db +
                             "' AND pid <> pg_backend_pid()");
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(std::string(out->substr(0, 1)), "1") << *out;
  };
  kill();
  auto loaded = c->LoadTable(kNs, "traces");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(**loaded, "m1");
  kill();
  ASSERT_TRUE(c->CommitTable(kNs, "traces", "m1", "m2").ok());
  kill();
  EXPECT_EQ(c->CommitTable(kNs, "traces", "m1", "m3").code(), absl::StatusCode::kAborted);
  kill();
  EXPECT_EQ(c->CreateTable(kNs, "traces", "x").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*c->ListTables(kNs), std::vector<std::string>{"traces"});
}

// Processes starting at once on an empty database all get their tables.
TEST_P(PostgresCatalogTest, ProcessesCreatingTheSchemaAtOnceAllSucceed) {
  constexpr int kProcesses = 6;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char byte;
      (void)!::read(go[0], &byte, 1);  // returns at EOF: all start together
      auto c = OpenPostgresCatalog(location_);
      bool ok = c.ok() && (*c)->CreateTable(kNs, "t" + std::to_string(i), "m").ok();
      if (!c.ok()) fprintf(stderr, "child %d: %s\n", i, c.status().ToString().c_str());
      ::_exit(ok ? 0 : 1);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a process failed to open the catalog";
  }
  EXPECT_EQ(Open()->ListTables(kNs)->size(), static_cast<size_t>(kProcesses));
}

TEST_P(PostgresCatalogTest, PostgresSchemeAliasWorks) {
  std::string alias = "postgres://" + location_.substr(std::string("postgresql://").size());
  auto c = OpenCatalog(alias);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE((*c)->CreateTable(kNs, "traces", "m1").ok());
  EXPECT_EQ(**Open()->LoadTable(kNs, "traces"), "m1");  // the same catalog
}

INSTANTIATE_TEST_SUITE_P(Backends, PostgresCatalogTest, ::testing::Values(Backend::kPostgres), Name);

// Nothing listens on the port: the error names where, never the password.
TEST(PostgresCatalogOpenTest, UnreachableServerIsAClearErrorWithoutThePassword) {
  // A port bound but not listening refuses connections, and stays ours.
  int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string port = std::to_string(ntohs(addr.sin_port));
  auto c = OpenPostgresCatalog("postgresql://signaldb:Sup3rSecretPw@127.0.0.1:" + port + "/signaldb");
  ::close(sock);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(c.status().message(), HasSubstr("127.0.0.1:" + port + "/signaldb"));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("Sup3rSecretPw")));

  // Wrong password on a live server: also clear, also without the password.
  auto server = PgTestServer::Shared();
  ASSERT_TRUE(server.ok());
  std::string uri = (*server)->uri();
  std::string wrong = "postgresql://signaldb:Wr0ngPassw0rd@" + uri.substr(uri.find('@') + 1);
  c = OpenPostgresCatalog(wrong);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("password authentication failed"));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("Wr0ngPassw0rd")));
}

TEST(PostgresCatalogOpenTest, MalformedUriIsInvalidArgumentWithoutThePassword) {
  auto c = OpenCatalog("postgresql://signaldb:Sup3rSecretPw@[::1/signaldb");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("invalid PostgreSQL catalog URI"));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("Sup3rSecretPw")));
}

TEST(CatalogFactoryTest, PathsOpenSqlite) {
  fs::path dir = fs::temp_directory_path() / ("sdb_catalog_factory_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto c = OpenCatalog((dir / "catalog.db").string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(fs::exists(dir / "catalog.db"));
  fs::remove_all(dir);
  EXPECT_TRUE(IsPostgresUri("postgresql://h/db"));
  EXPECT_TRUE(IsPostgresUri("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUri("/var/lib/signaldb/catalog.db"));
}

}  // namespace
}  // namespace signaldb::catalog
