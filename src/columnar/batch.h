// Columnar record batches in Arrow's layout: each column is one flat buffer of
// values (strings as offsets into one byte buffer) plus a validity buffer.
// Protocol decoders append rows column by column; the writer moves whole
// batches into the engine.
//
// Thread-safety: a Batch is a value; distinct batches may be used concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace signaldb::columnar {

enum class ColumnType {
  kString,           // UTF-8 text
  kInt32,
  kInt64,
  kDouble,
  kBool,
  kTimestampMicros,  // microseconds since the epoch, UTC (Iceberg timestamptz)
  kDate,             // days since the epoch
  // Maps from string keys to values of one type (DuckDB MAP, Iceberg map).
  kMapString,
  kMapInt64,
  kMapDouble,
  kMapBool,
};

bool IsMap(ColumnType type);
// The value type of a map type (kString, kInt64, kDouble or kBool).
ColumnType MapValueType(ColumnType type);

// SQL type name used for a column type in DuckDB DDL.
const char* SqlType(ColumnType type);

struct ColumnSpec {
  std::string name;
  ColumnType type;
  bool required;  // never null
  // Iceberg field id: stable across renames, never reused (schemas.toml).
  // Parquet files, statistics and table schemas key columns by it.
  int32_t field_id = 0;
  // Maps only: the Iceberg field ids of the key and of the value.
  int32_t key_id = 0;
  int32_t value_id = 0;
};

struct Schema {
  std::string table;
  std::vector<ColumnSpec> columns;
  // Index of `name`, or -1.
  int IndexOf(std::string_view name) const;
};

// One column's buffers. Integers of every width, bools, timestamps and dates
// share `ints`; doubles use `doubles`; strings use `offsets` + `bytes`. A map
// row holds entries [entry_offsets[row], entry_offsets[row + 1]) of
// children[0] (the keys, strings) and children[1] (the values); neither has
// nulls. A null map row has no entries.
struct ColumnData {
  ColumnType type;
  std::vector<uint32_t> entry_offsets{0};
  std::vector<ColumnData> children;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<uint32_t> offsets{0};
  std::string bytes;
  std::vector<uint8_t> valid;  // 1 = value present; one entry per row

  size_t size() const { return valid.size(); }
  bool IsValid(size_t row) const { return valid[row] != 0; }
  std::string_view StringAt(size_t row) const {
    return std::string_view(bytes).substr(offsets[row], offsets[row + 1] - offsets[row]);
  }
  void AppendNull();
  void AppendString(std::string_view v);
  // Appends a string written in place: the caller appends its bytes to
  // `bytes` after BeginString() and calls EndString(). Avoids a copy.
  std::string& BeginString() { return bytes; }
  void EndString() {
    valid.push_back(1);
    offsets.push_back(static_cast<uint32_t>(bytes.size()));
  }
  void AppendInt(int64_t v);
  void AppendDouble(double v);
  void AppendBool(bool v) { AppendInt(v ? 1 : 0); }
  // Maps: append the row's entries to MapKeys() and MapValues() (the same
  // number to each), then EndMap() ends the row.
  ColumnData& MapKeys() { return children[0]; }
  ColumnData& MapValues() { return children[1]; }
  const ColumnData& MapKeys() const { return children[0]; }
  const ColumnData& MapValues() const { return children[1]; }
  void EndMap() {
    valid.push_back(1);
    entry_offsets.push_back(static_cast<uint32_t>(children[0].size()));
  }
  // A column of `type` with its map children, if any.
  static ColumnData Of(ColumnType type);
  // Bytes held by the buffers.
  size_t ByteSize() const;
};

class Batch {
 public:
  explicit Batch(const Schema* schema);
  const Schema& schema() const { return *schema_; }
  ColumnData& column(size_t i) { return columns_[i]; }
  const ColumnData& column(size_t i) const { return columns_[i]; }
  size_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }
  // Makes room for `rows` more rows (and `string_bytes` more bytes in each
  // string column) without reallocating.
  void Reserve(size_t rows, size_t string_bytes = 0);
  // Ends the current row: columns that got no value for it get a null.
  void EndRow();
  // Bytes held by the buffers (for memory accounting).
  size_t ByteSize() const;
  // True when every column has the same number of rows.
  bool Consistent() const;

 private:
  const Schema* schema_;
  std::vector<ColumnData> columns_;
};

// A row of one of several batches.
struct RowRef {
  uint32_t batch;
  uint32_t row;
};

// Every row of `batches`, ordered by the columns `keys` (ascending; nulls
// first; strings bytewise, numbers by value); rows that tie keep their order.
std::vector<RowRef> SortRows(const std::vector<std::shared_ptr<const Batch>>& batches, const std::vector<int>& keys);

}  // namespace signaldb::columnar
