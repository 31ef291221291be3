// The Parquet writer against the format: its encodings byte for byte where
// the spec gives examples, and whole files read back by DuckDB (an
// independent reader): every column type, NULLs, empty and null maps,
// non-ASCII strings, NaN and infinities, several row groups and pages,
// field ids, statistics.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "common/strings.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "parquet/rle.h"
#include "parquet/thrift.h"
#include "parquet/writer.h"

namespace signaldb::parquet {
namespace {

using columnar::ColumnType;
using ::testing::ElementsAre;

std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

TEST(RleTest, BitPackedExampleFromTheSpec) {
  // Encodings.md: 0..7 at bit width 3 pack to 10001000 11000110 11111010.
  const uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7};
  std::string out;
  EncodeRleHybrid(v, 8, 3, &out);
  EXPECT_EQ(Hex(out), "0388c6fa");  // header: 1 group << 1 | 1
}

TEST(RleTest, RunsAndLiterals) {
  std::string out;
  std::vector<uint8_t> ones(100, 1);
  EncodeRleHybrid(ones.data(), ones.size(), 1, &out);
  EXPECT_EQ(Hex(out), "c80101");  // varint(100 << 1), value 1
  // 3 literals, then a run of 20: the literals are topped up to a group
  // from the run, the remaining 15 form an RLE run.
  std::vector<uint8_t> v = {0, 1, 0};
  v.insert(v.end(), 20, 1);
  out.clear();
  EncodeRleHybrid(v.data(), v.size(), 1, &out);
  EXPECT_EQ(Hex(out), "03fa1e01");
  // A short tail is padded with zeros to a whole group.
  out.clear();
  const uint8_t tail[] = {1, 0, 1};
  EncodeRleHybrid(tail, 3, 1, &out);
  EXPECT_EQ(Hex(out), "0305");
  // Wider values: an RLE run stores its value in ceil(width / 8) bytes.
  std::vector<uint32_t> wide(9, 0x1234);
  out.clear();
  EncodeRleHybrid(wide.data(), wide.size(), 13, &out);
  EXPECT_EQ(Hex(out), "123412");
}

TEST(RleTest, LevelsHaveALengthPrefix) {
  std::string out;
  std::vector<uint8_t> v(10, 1);
  EncodeLevels(v.data(), v.size(), 1, &out);
  EXPECT_EQ(Hex(out),
            "02000000"
            "1401");
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(3), 2);
  EXPECT_EQ(BitWidth(4), 3);
}

TEST(ThriftTest, CompactProtocol) {
  std::string out;
  CompactWriter w(&out);
  w.Begin();
  w.I32(1, -1);                             // short form header 0x15, zigzag 1
  w.I64(3, 300);                            // delta 2: 0x26, zigzag 600 = d8 04
  w.Binary(20, "ab");                       // delta 17: long form 0x08, zigzag id 40 = 0x28
  w.Bool(21, true);                         // 0x11
  w.BeginList(22, CompactWriter::kI32, 2);  // 0x19, 0x25
  w.ListI32(1);
  w.ListI32(-2);
  w.BeginStruct(23);  // 0x1c
  w.I16(1, 5);        // 0x14 0a
  w.EndStruct();
  w.End();
  EXPECT_EQ(Hex(out),
            "1501"
            "26d804"
            "0828026162"
            "11"
            "19250203"
            "1c140a00"
            "00");
}

// Rows of a table with every column type, a few batches.
class ParquetFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("sdb_parquet_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    auto db = engine::Database::Open({.allowed_dir = dir_.string(), .temp_dir = "", .threads = 1});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    conn_ = std::move(*db_->Connect());
    schema_ = columnar::Schema{"t",
                               {{"s", ColumnType::kString, false, 1},
                                {"i", ColumnType::kInt32, false, 2},
                                {"l", ColumnType::kInt64, true, 3},
                                {"d", ColumnType::kDouble, false, 4},
                                {"b", ColumnType::kBool, false, 5},
                                {"ts", ColumnType::kTimestampMicros, false, 6},
                                {"day", ColumnType::kDate, false, 7},
                                {"ms", ColumnType::kMapString, false, 8, 9, 10},
                                {"mi", ColumnType::kMapInt64, false, 11, 12, 13},
                                {"md", ColumnType::kMapDouble, false, 14, 15, 16},
                                {"mb", ColumnType::kMapBool, false, 17, 18, 19}}};
  }
  void TearDown() override {
    conn_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Row r of the test data; every column is null on some rows.
  void AppendRow(columnar::Batch& b, int64_t r) {
    auto& s = b.column(0);
    if (r % 7 == 3)
      s.AppendNull();
    else if (r % 5 == 0)
      s.AppendString("grüße-" + std::to_string(r % 13) + "-日本");
    else
      s.AppendString(std::string(static_cast<size_t>(r % 11), 'x') + std::to_string(r));
    if (r % 9 == 4)
      b.column(1).AppendNull();
    else
      b.column(1).AppendInt(static_cast<int32_t>(r * 7919 % 100000) - 50000);
    b.column(2).AppendInt(r % 3 == 0 ? -r * 1000000007LL : r * 1000000007LL);
    static const double kSpecial[] = {std::nan(""), std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(), -0.0, 1e-300};
    if (r % 13 == 6)
      b.column(3).AppendNull();
    else if (r % 17 < 5)
      b.column(3).AppendDouble(kSpecial[r % 17]);
    else
      b.column(3).AppendDouble(static_cast<double>(r) / 3.0 - 100);
    if (r % 4 == 2)
      b.column(4).AppendNull();
    else
      b.column(4).AppendBool(r % 3 == 1);
    if (r % 10 == 9)
      b.column(5).AppendNull();
    else
      b.column(5).AppendInt(1700000000000000LL + r * 1000 - (r % 2) * 5000000000000LL);
    if (r % 8 == 1)
      b.column(6).AppendNull();
    else
      b.column(6).AppendInt(19000 + r % 400 - 200);
    for (size_t m = 7; m < 11; ++m) {
      auto& map = b.column(m);
      const int64_t k = (r + static_cast<int64_t>(m)) % 6;
      if (k == 0) {
        map.AppendNull();
        continue;
      }
      for (int64_t e = 0; e < k - 1; ++e) {  // k == 1: an empty map
        map.MapKeys().AppendString(e == 2 ? "ключ" : "k" + std::to_string(e));
        auto& v = map.MapValues();
        switch (map.type) {
          case ColumnType::kMapString:
            v.AppendString("v" + std::to_string((r + e) % 50));
            break;
          case ColumnType::kMapInt64:
            v.AppendInt(-e * r);
            break;
          case ColumnType::kMapDouble:
            v.AppendDouble(e == 1 ? std::nan("") : 0.5 * static_cast<double>(r));
            break;
          default:
            v.AppendBool((r + e) % 2 == 0);
            break;
        }
      }
      map.EndMap();
    }
  }

  std::vector<std::shared_ptr<const columnar::Batch>> MakeBatches(int64_t rows, int64_t per_batch) {
    std::vector<std::shared_ptr<const columnar::Batch>> out;
    for (int64_t start = 0; start < rows; start += per_batch) {
      auto b = std::make_shared<columnar::Batch>(&schema_);
      for (int64_t r = start; r < std::min(rows, start + per_batch); ++r) AppendRow(*b, r);
      EXPECT_TRUE(b->Consistent());
      out.push_back(std::move(b));
    }
    return out;
  }

  std::string Write(const std::vector<std::shared_ptr<const columnar::Batch>>& batches,
                    const std::vector<columnar::RowRef>& rows, const WriteOptions& options,
                    const std::string& name) {
    std::string path = (dir_ / name).string();
    auto f = DefaultFileSystem()->OpenAppendable(path);
    EXPECT_TRUE(f.ok()) << f.status();
    auto r = WriteFile(schema_, batches, rows, options, f->get());
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE((*f)->Close().ok());
    return path;
  }

  // The rows as DuckDB builds them from SQL: the same values as AppendRow.
  std::string ExpectedSql(int64_t rows) {
    return StrCat(R"(
      SELECT
        CASE WHEN r % 7 = 3 THEN NULL WHEN r % 5 = 0 THEN 'grüße-' || (r % 13) || '-日本'
             ELSE repeat('x', (r % 11)::INT) || r END AS s,
        CASE WHEN r % 9 = 4 THEN NULL ELSE (r * 7919 % 100000 - 50000)::INTEGER END AS i,
        CASE WHEN r % 3 = 0 THEN -r * 1000000007 ELSE r * 1000000007 END AS l,
        CASE WHEN r % 13 = 6 THEN NULL WHEN r % 17 < 5 THEN
          ['nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE, -0.0::DOUBLE, 1e-300::DOUBLE][(r % 17) + 1]
          ELSE r / 3.0 - 100 END AS d,
        CASE WHEN r % 4 = 2 THEN NULL ELSE r % 3 = 1 END AS b,
        CASE WHEN r % 10 = 9 THEN NULL ELSE make_timestamp(1700000000000000 + r * 1000 - (r % 2) * 5000000000000)::TIMESTAMPTZ END AS ts,
        CASE WHEN r % 8 = 1 THEN NULL ELSE DATE '1970-01-01' + (19000 + r % 400 - 200)::INT END AS day,
        )",
                  MapSql("VARCHAR", 7, "'v' || ((r + e) % 50)"), " AS ms, ",
                  MapSql("BIGINT", 8, "-e * r"), " AS mi, ",
                  MapSql("DOUBLE", 9, "CASE WHEN e = 1 THEN 'nan'::DOUBLE ELSE 0.5 * r END"),
                  " AS md, ", MapSql("BOOLEAN", 10, "(r + e) % 2 = 0"),
                  " AS mb, r AS file_row_number FROM range(", rows, ") t(r)");
  }
  static std::string MapSql(const std::string& type, int m, const std::string& value) {
    return StrCat("CASE WHEN (r + ", m, ") % 6 = 0 THEN NULL ELSE map_from_entries(",
                  "list_transform(range((r + ", m,
                  ") % 6 - 1), e -> {'k': CASE WHEN e = 2 THEN 'ключ' ELSE 'k' || e END, ",
                  "'v': (", value, ")::", type, "}))::MAP(VARCHAR, ", type, ") END");
  }

  std::filesystem::path dir_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  columnar::Schema schema_;
};

int64_t Count(engine::Connection& c, const std::string& sql) {
  auto t = c.Query(sql);
  EXPECT_TRUE(t.ok()) << t.status() << "\n" << sql;
  if (!t.ok() || t->rows.empty()) return -1;
  return std::get<int64_t>(t->rows[0][0]);
}

TEST_F(ParquetFileTest, DuckDbReadsEveryValueBack) {
  constexpr int64_t kRows = 50000;
  auto batches = MakeBatches(kRows, 7000);
  std::vector<columnar::RowRef> rows;
  for (uint32_t b = 0; b < batches.size(); ++b)
    for (uint32_t r = 0; r < batches[b]->num_rows(); ++r) rows.push_back({b, r});
  // Small row groups and pages: 7 row groups, several pages each.
  WriteOptions o{.row_group_rows = 8000, .page_bytes = 16 << 10, .page_values = 3000};
  std::string path = Write(batches, rows, o, "all.parquet");
  const std::string file = StrCat("read_parquet('", path, "', file_row_number = true)");
  const std::string expected = ExpectedSql(kRows);
  EXPECT_EQ(Count(*conn_, StrCat("SELECT count(*) FROM ", file)), kRows);
  EXPECT_EQ(Count(*conn_, StrCat("SELECT count(*) FROM ((FROM ", file, " EXCEPT ALL ", expected,
                                 ") UNION ALL (", expected, " EXCEPT ALL FROM ", file, "))")),
            0);
  EXPECT_EQ(Count(*conn_, StrCat("SELECT count(DISTINCT row_group_id) FROM parquet_metadata('",
                                 path, "')")),
            7);
  // Maps distinguish NULL from empty; NaN and infinities survive.
  for (const char* where : {"ms IS NULL", "cardinality(ms) = 0", "cardinality(mb) = 3"}) {
    const int64_t n = Count(*conn_, StrCat("SELECT count(*) FROM (", expected, ") WHERE ", where));
    EXPECT_GT(n, kRows / 10) << where;
    EXPECT_EQ(Count(*conn_, StrCat("SELECT count(*) FROM ", file, " WHERE ", where)), n) << where;
  }
  EXPECT_EQ(Count(*conn_, StrCat("SELECT count(*) FROM ", file, " WHERE isnan(d)")),
            Count(*conn_, StrCat("SELECT count(*) FROM (", expected, ") WHERE isnan(d)")));
  EXPECT_EQ(Count(*conn_, StrCat("SELECT count(*) FROM ", file, " WHERE d = 'inf'::DOUBLE")),
            Count(*conn_, StrCat("SELECT count(*) FROM (", expected, ") WHERE d = 'inf'::DOUBLE")));
}

TEST_F(ParquetFileTest, SchemaCarriesFieldIdsAndTypes) {
  auto batches = MakeBatches(100, 100);
  std::vector<columnar::RowRef> rows;
  for (uint32_t r = 0; r < 100; ++r) rows.push_back({0, r});
  std::string path = Write(batches, rows, WriteOptions{}, "schema.parquet");
  auto t =
      conn_->Query(StrCat("SELECT name, field_id, repetition_type, coalesce(converted_type, ''), "
                          "coalesce(type, '') FROM parquet_schema('",
                          path, "')"));
  ASSERT_TRUE(t.ok()) << t.status();
  std::vector<std::string> got;
  for (const auto& row : t->rows) {
    got.push_back(StrCat(
        std::get<std::string>(row[0]), ":",
        std::holds_alternative<int64_t>(row[1]) ? std::to_string(std::get<int64_t>(row[1])) : "-",
        ":", std::get<std::string>(row[2]), ":", std::get<std::string>(row[3]), ":",
        std::get<std::string>(row[4])));
  }
  EXPECT_THAT(
      got, ElementsAre(
               "schema:-:REQUIRED::", "s:1:OPTIONAL:UTF8:BYTE_ARRAY", "i:2:OPTIONAL:INT_32:INT32",
               "l:3:OPTIONAL:INT_64:INT64", "d:4:OPTIONAL::DOUBLE", "b:5:OPTIONAL::BOOLEAN",
               "ts:6:OPTIONAL:TIMESTAMP_MICROS:INT64", "day:7:OPTIONAL:DATE:INT32",
               "ms:8:OPTIONAL:MAP:", "key_value:-:REPEATED::", "key:9:REQUIRED:UTF8:BYTE_ARRAY",
               "value:10:OPTIONAL:UTF8:BYTE_ARRAY", "mi:11:OPTIONAL:MAP:", "key_value:-:REPEATED::",
               "key:12:REQUIRED:UTF8:BYTE_ARRAY", "value:13:OPTIONAL:INT_64:INT64",
               "md:14:OPTIONAL:MAP:", "key_value:-:REPEATED::", "key:15:REQUIRED:UTF8:BYTE_ARRAY",
               "value:16:OPTIONAL::DOUBLE", "mb:17:OPTIONAL:MAP:", "key_value:-:REPEATED::",
               "key:18:REQUIRED:UTF8:BYTE_ARRAY", "value:19:OPTIONAL::BOOLEAN"));
  // The timestamp reads back as TIMESTAMPTZ.
  auto ty = conn_->Query(StrCat("SELECT typeof(ts) FROM read_parquet('", path, "') LIMIT 1"));
  ASSERT_TRUE(ty.ok()) << ty.status();
  EXPECT_EQ(std::get<std::string>(ty->rows[0][0]), "TIMESTAMP WITH TIME ZONE");
}

TEST_F(ParquetFileTest, StatisticsPerRowGroup) {
  auto batches = MakeBatches(1000, 1000);
  std::vector<columnar::RowRef> rows;
  for (uint32_t r = 0; r < 1000; ++r) rows.push_back({0, r});
  std::string path = Write(batches, rows, WriteOptions{.row_group_rows = 400}, "stats.parquet");
  auto t = conn_->Query(
      StrCat("SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, "
             "stats_null_count FROM parquet_metadata('",
             path, "') WHERE path_in_schema IN ('l', 'd', 'b', 'i', 'ts') ORDER BY ALL"));
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 15u);
  auto at = [&](size_t i, size_t c) {
    const auto& v = t->rows[i][c];
    if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
    if (std::holds_alternative<int64_t>(v)) return std::to_string(std::get<int64_t>(v));
    return std::string("NULL");
  };
  // Row group 0 holds rows 0..399: b has nulls at r % 4 == 2 (100 of them),
  // d holds NaN (so it has no bounds), l spans -399 * 1000000007 ..
  // 398 * 1000000007.
  EXPECT_EQ(at(0, 1), "b");
  EXPECT_EQ(at(0, 2), "false");
  EXPECT_EQ(at(0, 3), "true");
  EXPECT_EQ(at(0, 4), "100");
  EXPECT_EQ(at(1, 1), "d");
  EXPECT_EQ(at(1, 2), "NULL");
  EXPECT_EQ(at(1, 3), "NULL");
  EXPECT_EQ(at(3, 1), "l");
  EXPECT_EQ(at(3, 2), std::to_string(-399 * 1000000007LL));
  EXPECT_EQ(at(3, 3), std::to_string(398 * 1000000007LL));
  EXPECT_EQ(at(3, 4), "0");
  // Strings: exact bounds, compared as bytes.
  auto s = conn_->Query(StrCat("SELECT stats_min_value, stats_max_value FROM parquet_metadata('",
                               path, "') WHERE path_in_schema = 's' AND row_group_id = 0"));
  ASSERT_TRUE(s.ok()) << s.status();
  auto want = conn_->Query(StrCat("SELECT min(s), max(s) FROM (", ExpectedSql(400), ")"));
  ASSERT_TRUE(want.ok()) << want.status();
  EXPECT_EQ(std::get<std::string>(s->rows[0][0]), std::get<std::string>(want->rows[0][0]));
  EXPECT_EQ(std::get<std::string>(s->rows[0][1]), std::get<std::string>(want->rows[0][1]));
}

TEST_F(ParquetFileTest, ReadersPruneRowGroupsByStatistics) {
  // Rows sorted by `l`; a lookup of a value in the last row group must not
  // read the first one. The first row group's data pages are overwritten
  // with garbage: a reader that opened them would fail.
  columnar::Schema schema{"p",
                          {{"l", ColumnType::kInt64, true, 1},
                           {"s", ColumnType::kString, true, 2},
                           {"d", ColumnType::kDouble, true, 3}}};
  auto b = std::make_shared<columnar::Batch>(&schema);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (int64_t r = 0; r < 2000; ++r) {
    b->column(0).AppendInt(r);
    b->column(1).AppendString(StrCat("id-", 10000 + r));
    b->column(2).AppendDouble(r == 1999 ? kInf : static_cast<double>(r));
  }
  std::vector<columnar::RowRef> rows;
  for (uint32_t r = 0; r < 2000; ++r) rows.push_back({0, r});
  std::string path = (dir_ / "prune.parquet").string();
  {
    auto f = DefaultFileSystem()->OpenAppendable(path);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(WriteFile(schema, {b}, rows, WriteOptions{.row_group_rows = 1000}, f->get()).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  auto meta =
      conn_->Query(StrCat("SELECT 0, max(coalesce(dictionary_page_offset, data_page_offset) + "
                          "total_compressed_size) FROM "
                          "parquet_metadata('",
                          path, "') WHERE row_group_id = 0"));
  ASSERT_TRUE(meta.ok()) << meta.status();
  const int64_t from = 4, to = std::get<int64_t>(meta->rows[0][1]);
  auto bytes = DefaultFileSystem()->ReadFile(path);
  ASSERT_TRUE(bytes.ok());
  for (int64_t i = from; i < to; ++i) (*bytes)[static_cast<size_t>(i)] = static_cast<char>(0xA5);
  std::string broken = (dir_ / "broken.parquet").string();
  ASSERT_TRUE(DefaultFileSystem()->WriteFileAtomic(broken, *bytes).ok());
  EXPECT_EQ(
      Count(*conn_, StrCat("SELECT count(*) FROM read_parquet('", broken, "') WHERE l = 1500")), 1);
  EXPECT_EQ(Count(*conn_,
                  StrCat("SELECT count(*) FROM read_parquet('", broken, "') WHERE s = 'id-11500'")),
            1);
  // Doubles prune too (the second group, read, holds +inf).
  EXPECT_EQ(
      Count(*conn_, StrCat("SELECT count(*) FROM read_parquet('", broken, "') WHERE d = 1500")), 1);
  // The garbage is real: reading the first row group fails.
  EXPECT_FALSE(
      conn_->Query(StrCat("SELECT count(*) FROM read_parquet('", broken, "') WHERE l = 500")).ok());
}

TEST_F(ParquetFileTest, EmptyFileAndUncompressedPages) {
  std::string empty = Write({}, {}, WriteOptions{}, "empty.parquet");
  EXPECT_EQ(Count(*conn_, StrCat("SELECT count(*) FROM read_parquet('", empty, "')")), 0);
  auto batches = MakeBatches(3000, 1000);
  std::vector<columnar::RowRef> rows;
  // Rows in another order than stored: the file follows `rows`.
  for (uint32_t r = 0; r < 1000; ++r)
    for (uint32_t b = 3; b-- > 0;) rows.push_back({b, r});
  std::string path = Write(batches, rows, WriteOptions{.compression_level = 0, .dictionary = false},
                           "plain.parquet");
  const std::string expected = StrCat(
      "SELECT * EXCLUDE (file_row_number), (file_row_number % 1000) * 3 + 2 - "
      "file_row_number // 1000 AS file_row_number FROM (",
      ExpectedSql(3000), ")");
  const std::string file = StrCat("read_parquet('", path, "', file_row_number = true)");
  EXPECT_EQ(Count(*conn_, StrCat("SELECT count(*) FROM ((FROM ", file, " EXCEPT ALL ", expected,
                                 ") UNION ALL (", expected, " EXCEPT ALL FROM ", file, "))")),
            0);
}

}  // namespace
}  // namespace signaldb::parquet
