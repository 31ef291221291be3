// The two flush encoders against each other: for every table, the same
// batches written by our Parquet writer and by DuckDB's COPY (as a flush
// writes them: rows sorted by SortRows, the table's row-group size, field
// ids, zstd) read back through DuckDB by Iceberg field id
// (ReadParquetById) as identical rows in identical order; the files have
// the same schema (names, types, repetition, field ids) and row groups, and
// where DuckDB writes column statistics ours match them.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "common/strings.h"
#include "engine/engine.h"
#include "engine/row_source.h"
#include "gtest/gtest.h"
#include "parquet/writer.h"
#include "schema/tables.h"
#include "writer/data_files.h"
#include "writer/signal_store.h"

namespace signaldb::writer {
namespace {

using columnar::ColumnType;
namespace fs = std::filesystem;

// Serves fixed batches in flush order, as the writer's flush source does.
class FixedRows final : public engine::RowSource {
 public:
  const columnar::Schema* TableSchema(const std::string& table) const override {
    return schema_ != nullptr && schema_->table == table ? schema_ : nullptr;
  }
  std::vector<std::shared_ptr<const columnar::Batch>> Snapshot(const std::string& table,
                                                               int64_t) const override {
    return TableSchema(table) ? batches_ : std::vector<std::shared_ptr<const columnar::Batch>>{};
  }
  std::vector<columnar::RowRef> Order(
      const std::string&,
      const std::vector<std::shared_ptr<const columnar::Batch>>& batches) const override {
    return batches.empty() ? std::vector<columnar::RowRef>{}
                           : columnar::SortRows(batches, SortColumnIndexes(batches[0]->schema()));
  }
  const columnar::Schema* schema_ = nullptr;
  std::vector<std::shared_ptr<const columnar::Batch>> batches_;
};

// Values for row `r` of column `c`: nulls, repeats, non-ASCII and long
// strings, negative numbers, NaN and infinities, null and empty maps.
void AppendValue(columnar::ColumnData& col, ColumnType type, int64_t r, size_t c) {
  const int64_t k = r + static_cast<int64_t>(c) * 7;
  if (!columnar::IsMap(type) && k % 13 == 5) {
    col.AppendNull();
    return;
  }
  switch (type) {
    case ColumnType::kString:
      switch (k % 6) {
        case 0:
          col.AppendString(StrCat("v", k % 37));
          break;
        case 1:
          col.AppendString(StrCat("ünïcødé-", k % 5, "-日本語"));
          break;
        case 2:
          col.AppendString("");
          break;
        case 3:
          col.AppendString(
              std::string(150 + static_cast<size_t>(k % 9), static_cast<char>('a' + k % 26)));
          break;
        case 4:
          col.AppendString(StrCat("{\"id\":", r, "}"));
          break;
        default:
          col.AppendString(StrCat("trace-", (r / 9) % 2000));
          break;
      }
      return;
    case ColumnType::kInt32:
      col.AppendInt((k % 2 ? -1 : 1) * (k * 7919 % 1000003));
      return;
    case ColumnType::kDate:
      col.AppendInt(19000 + k % 500 - 250);
      return;
    case ColumnType::kInt64:
      col.AppendInt((k % 3 == 0 ? -1 : 1) * k * 1000000007LL);
      return;
    case ColumnType::kTimestampMicros:
      col.AppendInt(1700000000000000LL + (k % 1000) * 1000003 - 500000000);
      return;
    case ColumnType::kBool:
      col.AppendBool(k % 3 == 1);
      return;
    case ColumnType::kDouble: {
      static const double kSpecial[] = {std::nan(""), std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(), -0.0};
      col.AppendDouble(k % 97 < 4 ? kSpecial[k % 97] : static_cast<double>(k) / 7.0 - 500);
      return;
    }
    default:
      break;
  }
  // Maps: null, empty, or up to four entries.
  const int64_t n = k % 6;
  if (n == 0) {
    col.AppendNull();
    return;
  }
  for (int64_t e = 0; e + 1 < n; ++e) {
    col.MapKeys().AppendString(e == 2 ? "ключ" : StrCat("key.", (k + e) % 5));
    auto& v = col.MapValues();
    switch (type) {
      case ColumnType::kMapString:
        v.AppendString(StrCat("val-", (k * e) % 11));
        break;
      case ColumnType::kMapInt64:
        v.AppendInt(-e * k);
        break;
      case ColumnType::kMapDouble:
        v.AppendDouble(e == 1 && k % 5 == 0 ? std::nan("") : 0.25 * static_cast<double>(k));
        break;
      default:
        v.AppendBool((k + e) % 2 == 0);
        break;
    }
  }
  col.EndMap();
}

std::vector<std::shared_ptr<const columnar::Batch>> MakeBatches(const columnar::Schema& schema,
                                                                int64_t rows, int64_t per_batch) {
  std::vector<std::shared_ptr<const columnar::Batch>> out;
  for (int64_t start = 0; start < rows; start += per_batch) {
    auto b = std::make_shared<columnar::Batch>(&schema);
    for (int64_t r = start; r < std::min(rows, start + per_batch); ++r) {
      for (size_t c = 0; c < schema.columns.size(); ++c)
        AppendValue(b->column(c), schema.columns[c].type, r, c);
    }
    EXPECT_TRUE(b->Consistent());
    out.push_back(std::move(b));
  }
  return out;
}

std::string Text(const engine::Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "NULL";
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  if (std::holds_alternative<int64_t>(v)) return std::to_string(std::get<int64_t>(v));
  if (std::holds_alternative<bool>(v)) return std::get<bool>(v) ? "true" : "false";
  if (std::holds_alternative<double>(v)) return StrCat(std::get<double>(v));
  if (std::holds_alternative<engine::Json>(v)) return std::get<engine::Json>(v).text;
  return "?";
}

class ParquetEncodersTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sdb_parquet_encoders_" + std::to_string(::getpid()) + "_" + GetParam());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / ".tmp");
    auto db = engine::Database::Open(
        {.allowed_dir = dir_.string(), .temp_dir = (dir_ / ".tmp").string(), .threads = 1});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->RegisterRowSource(kFlushFunction, &source_).ok());
    conn_ = std::move(*db_->Connect());
  }
  void TearDown() override {
    conn_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  engine::Table Query(const std::string& sql) {
    auto t = conn_->Query(sql);
    EXPECT_TRUE(t.ok()) << t.status() << "\n" << sql;
    return t.ok() ? *t : engine::Table{};
  }
  int64_t Count(const std::string& sql) {
    auto t = Query(sql);
    return t.rows.empty() ? -1 : std::get<int64_t>(t.rows[0][0]);
  }

  fs::path dir_;
  FixedRows source_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
};

const columnar::Schema& SchemaOf(const std::string& table) {
  for (const auto* s : {&schema::Traces(), &schema::Logs(), &schema::MetricsGauge(),
                        &schema::MetricsSum(), &schema::MetricsHistogram(),
                        &schema::MetricsExponentialHistogram(), &schema::MetricsSummary()}) {
    if (s->table == table) return *s;
  }
  return schema::Traces();
}

TEST_P(ParquetEncodersTest, SameRowsSchemaAndStatistics) {
  const columnar::Schema& schema = SchemaOf(GetParam());
  // Traces span three row groups of 16384 rows; logs more than one of
  // 122880; the metric tables a few thousand rows (one row group, several
  // data pages for their map columns).
  const int64_t rows = schema.table == "traces" ? 40000 : schema.table == "logs" ? 125000 : 6000;
  source_.schema_ = &schema;
  source_.batches_ = MakeBatches(schema, rows, 3000);

  const std::string duck = (dir_ / "duckdb.parquet").string(),
                    ours = (dir_ / "native.parquet").string();
  ASSERT_TRUE(conn_
                  ->Execute(StrCat("COPY (SELECT ", ColumnList(schema), " FROM ", kFlushFunction,
                                   "(", engine::QuoteLiteral(schema.table), ", 0)) TO ",
                                   engine::QuoteLiteral(duck), " ", ParquetCopyOptions(schema, 3)))
                  .ok());
  {
    auto order = columnar::SortRows(source_.batches_, SortColumnIndexes(schema));
    auto f = DefaultFileSystem()->OpenAppendable(ours);
    ASSERT_TRUE(f.ok());
    auto w = parquet::WriteFile(schema, source_.batches_, order, NativeParquetOptions(schema, 3),
                                f->get());
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*f)->Close().ok());
  }

  // Rows: every column by field id, in file order.
  const std::string a = ReadParquetById(schema, {duck}, "file_row_number = true");
  const std::string b = ReadParquetById(schema, {ours}, "file_row_number = true");
  EXPECT_EQ(Count(StrCat("SELECT count(*) FROM ", b)), rows);
  EXPECT_EQ(Count(StrCat("SELECT count(*) FROM ((FROM ", a, " EXCEPT ALL FROM ", b,
                         ") UNION ALL (FROM ", b, " EXCEPT ALL FROM ", a, "))")),
            0);

  // Schema: names, types, repetition, field ids (the roots' names differ).
  auto schema_rows = [&](const std::string& path) {
    std::vector<std::string> out;
    for (const auto& row :
         Query(StrCat("SELECT name, type, repetition_type, converted_type, field_id, logical_type "
                      "FROM parquet_schema('",
                      path, "')"))
             .rows) {
      std::string line;
      for (const auto& v : row) line += Text(v) + "|";
      out.push_back(line);
    }
    if (!out.empty()) out.erase(out.begin());
    return out;
  };
  EXPECT_EQ(schema_rows(ours), schema_rows(duck));

  // Row groups and statistics.
  auto meta = [&](const std::string& path) {
    std::map<std::string, std::vector<std::string>>
        out;  // "<row group>/<path>" -> rows, min, max, nulls
    for (const auto& row : Query(StrCat("SELECT row_group_id, path_in_schema, row_group_num_rows, "
                                        "stats_min_value, stats_max_value, "
                                        "stats_null_count FROM parquet_metadata('",
                                        path, "')"))
                               .rows) {
      out[Text(row[0]) + "/" + Text(row[1])] = {Text(row[2]), Text(row[3]), Text(row[4]),
                                                Text(row[5])};
    }
    return out;
  };
  auto m_duck = meta(duck), m_ours = meta(ours);
  ASSERT_EQ(m_ours.size(), m_duck.size());
  int compared = 0;
  for (const auto& [key, d] : m_duck) {
    ASSERT_TRUE(m_ours.count(key)) << key;
    const auto& o = m_ours[key];
    EXPECT_EQ(o[0], d[0]) << key << " rows";
    const bool nested = key.find(',') != std::string::npos;
    if (!nested) {
      EXPECT_EQ(o[3], d[3]) << key << " null count";
    }
    // Bounds wherever DuckDB writes them and they are short (we leave long
    // string bounds out).
    if (d[1] != "NULL" && d[2] != "NULL" && d[1].size() <= 128 && d[2].size() <= 128) {
      EXPECT_EQ(o[1], d[1]) << key << " min";
      EXPECT_EQ(o[2], d[2]) << key << " max";
      ++compared;
    }
  }
  EXPECT_GT(compared, 0);
  if (schema.table == "traces") {
    // Trace lookups prune by trace_id: every row group has its bounds.
    EXPECT_EQ(
        Count(StrCat("SELECT count(*) FROM parquet_metadata('", ours,
                     "') WHERE path_in_schema = 'trace_id' AND stats_min_value IS NOT NULL AND "
                     "stats_max_value IS NOT NULL")),
        3);
  }
}

INSTANTIATE_TEST_SUITE_P(Tables, ParquetEncodersTest,
                         ::testing::Values("traces", "logs", "metrics_gauge", "metrics_sum",
                                           "metrics_histogram", "metrics_exponential_histogram",
                                           "metrics_summary"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace signaldb::writer
