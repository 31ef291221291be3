#include "engine/engine.h"

#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace signaldb::engine {
namespace {

using ::testing::HasSubstr;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sdb_engine_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "data");
    auto db = Database::Open({.allowed_dir = (dir_ / "data").string(), .temp_dir = "", .threads = 1, .memory_limit = ""});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto c = db_->Connect();
    ASSERT_TRUE(c.ok());
    conn_ = std::move(*c);
  }
  void TearDown() override {
    conn_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(EngineTest, AppenderAndTypedQuery) {
  using columnar::ColumnType;
  columnar::Schema schema{"t",
                          {{"a", ColumnType::kInt64, true},
                           {"b", ColumnType::kString, false},
                           {"c", ColumnType::kDouble, false},
                           {"d", ColumnType::kBool, true},
                           {"ts", ColumnType::kTimestampMicros, false}}};
  ASSERT_TRUE(conn_->Execute("CREATE TABLE t (a BIGINT, b VARCHAR, c DOUBLE, d BOOLEAN, ts TIMESTAMPTZ, seq BIGINT)").ok());
  columnar::Batch batch(&schema);
  batch.column(0).AppendInt(int64_t{1} << 62);
  batch.column(1).AppendString("x'y");
  batch.column(2).AppendDouble(2.5);
  batch.column(3).AppendBool(true);
  batch.column(4).AppendInt(1700000000000000);
  batch.column(0).AppendInt(-1);
  batch.column(1).AppendNull();
  batch.column(2).AppendNull();
  batch.column(3).AppendBool(false);
  batch.column(4).AppendNull();
  // More rows than one DuckDB vector holds.
  for (int i = 0; i < 5000; ++i) {
    batch.column(0).AppendInt(1000 + i);
    batch.column(1).AppendString(std::to_string(i));
    batch.column(2).AppendDouble(i);
    batch.column(3).AppendBool(i % 2);
    batch.column(4).AppendInt(i);
  }
  auto app = conn_->OpenAppender("t");
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->AppendBatch(batch, 42).ok());
  ASSERT_TRUE((*app)->Close().ok());

  auto t = conn_->Query("SELECT a, b, c, d, ts, seq FROM t WHERE a < $1 ORDER BY a", {int64_t{1000}});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(t->rows[0][0]), -1);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(t->rows[0][1]));
  EXPECT_EQ(std::get<int64_t>(t->rows[0][5]), 42);
  t = conn_->Query("SELECT a, b, c, d, ts FROM t WHERE a = $1", {int64_t{1} << 62});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(std::get<std::string>(t->rows[0][1]), "x'y");
  EXPECT_EQ(std::get<double>(t->rows[0][2]), 2.5);
  EXPECT_TRUE(std::get<bool>(t->rows[0][3]));
  EXPECT_THAT(std::get<std::string>(t->rows[0][4]), HasSubstr("2023-11-14"));
  EXPECT_EQ(t->columns[4].type, "TIMESTAMPTZ");
  t = conn_->Query("SELECT count(*), sum(a) FILTER (WHERE a >= 1000), count(b) FROM t");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(std::get<int64_t>(t->rows[0][0]), 5002);
  EXPECT_EQ(std::get<int64_t>(t->rows[0][2]), 5001);
}

TEST_F(EngineTest, NestedValuesComeBackAsJson) {
  auto t = conn_->QueryUntrusted("SELECT [1,2] AS l, {'k': 'v'} AS s, 42 AS n;", std::chrono::seconds(5), 10);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->columns[0].kind, Kind::kJson);
  EXPECT_EQ(std::get<Json>(t->rows[0][0]).text, "[1,2]");
  EXPECT_EQ(std::get<Json>(t->rows[0][1]).text, "{\"k\":\"v\"}");
  EXPECT_EQ(std::get<int64_t>(t->rows[0][2]), 42);
  // Non-finite doubles become strings, so the text stays valid JSON; text
  // that merely looks like them is left alone.
  t = conn_->QueryUntrusted(
      "SELECT ['nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE, 1.5], MAP {'NaN \" Infinity': 'inf'::DOUBLE}, "
      "['NaN', '-Infinity']",
      std::chrono::seconds(5), 10);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(std::get<Json>(t->rows[0][0]).text, R"(["NaN","Infinity","-Infinity",1.5])");
  EXPECT_EQ(std::get<Json>(t->rows[0][1]).text, R"({"NaN \" Infinity":"Infinity"})");
  EXPECT_EQ(std::get<Json>(t->rows[0][2]).text, R"(["NaN","-Infinity"])");
}

TEST_F(EngineTest, UntrustedSqlPages) {
  auto page = [&](const std::string& sql, uint64_t max_rows, uint64_t offset) {
    auto t = conn_->QueryUntrusted(sql, std::chrono::seconds(5), max_rows, offset);
    EXPECT_TRUE(t.ok()) << t.status();
    std::string out;
    if (!t.ok()) return out;
    for (const auto& row : t->rows) out += std::to_string(std::get<int64_t>(row[0])) + ",";
    return out + (t->truncated ? "more" : "end");
  };
  const std::string q = "SELECT range AS n FROM range(10) ORDER BY n";
  EXPECT_EQ(page(q, 3, 0), "0,1,2,more");
  EXPECT_EQ(page(q, 3, 3), "3,4,5,more");
  EXPECT_EQ(page(q, 3, 9), "9,end");
  EXPECT_EQ(page(q, 3, 12), "end");
  // A trailing semicolon or line comment does not break the paging wrapper.
  EXPECT_EQ(page(q + "; ", 2, 4), "4,5,more");
  EXPECT_EQ(page(q + " -- the last line", 2, 8), "8,9,end");
  // Still one read-only statement, whatever the offset.
  EXPECT_FALSE(conn_->QueryUntrusted("SELECT 1; DROP TABLE x", std::chrono::seconds(5), 10, 5).ok());
  EXPECT_FALSE(conn_->QueryUntrusted("CREATE TABLE y (a INT)", std::chrono::seconds(5), 10, 5).ok());
}

TEST_F(EngineTest, UntrustedSqlIsReadOnlyAndConfined) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE t (a INT)").ok());
  auto code = [&](const std::string& sql) {
    return conn_->QueryUntrusted(sql, std::chrono::seconds(5), 10).status().code();
  };
  EXPECT_EQ(code("SELECT 1"), absl::StatusCode::kOk);
  EXPECT_EQ(code("WITH x AS (SELECT 1 AS a) SELECT a FROM x"), absl::StatusCode::kOk);
  EXPECT_EQ(code("SELECT * FROM read_csv('/etc/passwd')"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(code("SELECT * FROM glob('/etc/*')"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(code("INSERT INTO t VALUES (1)"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("DROP TABLE t"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("COPY t TO '" + (dir_ / "data/x.csv").string() + "'"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("ATTACH '" + (dir_ / "data/y.db").string() + "'"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("SET threads = 1"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("INSTALL httpfs"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("SELECT 1; SELECT 2"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(""), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("SELEC 1"), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data/x.csv"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data/y.db"));
}

TEST_F(EngineTest, RowLimitTruncates) {
  auto t = conn_->QueryUntrusted("SELECT * FROM range(10000)", std::chrono::seconds(5), 100);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->rows.size(), 100u);
  EXPECT_TRUE(t->truncated);
}

TEST_F(EngineTest, TimeoutInterruptsLongQuery) {
  auto t = conn_->QueryUntrusted("SELECT count(*) FROM range(100000000000) a WHERE a.range % 7 = 3",
                                 std::chrono::milliseconds(200), 10);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDeadlineExceeded) << t.status();
  // The connection is still usable afterwards.
  EXPECT_TRUE(conn_->QueryUntrusted("SELECT 1", std::chrono::seconds(5), 10).ok());
}

}  // namespace
}  // namespace signaldb::engine
