#include "catalog/catalog.h"

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "gtest/gtest.h"

namespace signaldb::catalog {
namespace {

namespace fs = std::filesystem;

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sdb_catalog_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path() { return (dir_ / "catalog.db").string(); }
  fs::path dir_;
};

const std::vector<std::string> kNs = {"acme", "prod"};

TEST_F(CatalogTest, CreateLoadCommitAndConflicts) {
  auto c = OpenSqliteCatalog(Path());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->CreateNamespace(kNs).ok());
  ASSERT_TRUE((*c)->CreateNamespace(kNs).ok());  // idempotent
  EXPECT_FALSE((*c)->LoadTable(kNs, "traces")->has_value());
  ASSERT_TRUE((*c)->CreateTable(kNs, "traces", "m1").ok());
  EXPECT_EQ((*c)->CreateTable(kNs, "traces", "x").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(**(*c)->LoadTable(kNs, "traces"), "m1");
  ASSERT_TRUE((*c)->CommitTable(kNs, "traces", "m1", "m2").ok());
  // A commit based on a stale location is refused.
  EXPECT_EQ((*c)->CommitTable(kNs, "traces", "m1", "m3").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(**(*c)->LoadTable(kNs, "traces"), "m2");
  ASSERT_TRUE((*c)->CreateTable(kNs, "logs", "l1").ok());
  EXPECT_EQ(*(*c)->ListTables(kNs), (std::vector<std::string>{"logs", "traces"}));
  // Another namespace is separate.
  EXPECT_FALSE((*c)->LoadTable({"other", "prod"}, "traces")->has_value());
}

// Two writers (separate connections, as two processes would have) commit to
// the same table concurrently with reload-and-retry: every commit lands.
TEST_F(CatalogTest, ConcurrentCommittersLoseNothing) {
  {
    auto c = OpenSqliteCatalog(Path());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->CreateTable(kNs, "traces", "").ok());
  }
  auto writer = [&](char tag) {
    auto c = OpenSqliteCatalog(Path());
    ASSERT_TRUE(c.ok());
    for (int i = 0; i < 50; ++i) {
      while (true) {
        auto current = (*c)->LoadTable(kNs, "traces");
        ASSERT_TRUE(current.ok());
        std::string next = **current + tag;
        absl::Status st = (*c)->CommitTable(kNs, "traces", **current, next);
        if (st.ok()) break;
        ASSERT_EQ(st.code(), absl::StatusCode::kAborted) << st;
      }
    }
  };
  std::thread a(writer, 'a'), b(writer, 'b');
  a.join();
  b.join();
  auto c = OpenSqliteCatalog(Path());
  std::string final = **(*c)->LoadTable(kNs, "traces");
  EXPECT_EQ(std::count(final.begin(), final.end(), 'a'), 50);
  EXPECT_EQ(std::count(final.begin(), final.end(), 'b'), 50);
}

}  // namespace
}  // namespace signaldb::catalog
