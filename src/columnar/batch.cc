#include "columnar/batch.h"

#include <algorithm>

namespace signaldb::columnar {

const char* SqlType(ColumnType type) {
  switch (type) {
    case ColumnType::kString: return "VARCHAR";
    case ColumnType::kInt32: return "INTEGER";
    case ColumnType::kInt64: return "BIGINT";
    case ColumnType::kDouble: return "DOUBLE";
    case ColumnType::kBool: return "BOOLEAN";
    case ColumnType::kTimestampMicros: return "TIMESTAMPTZ";
    case ColumnType::kDate: return "DATE";
  }
  return "VARCHAR";
}

int Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

void ColumnData::AppendNull() {
  valid.push_back(0);
  switch (type) {
    case ColumnType::kString: offsets.push_back(static_cast<uint32_t>(bytes.size())); break;
    case ColumnType::kDouble: doubles.push_back(0); break;
    default: ints.push_back(0); break;
  }
}

void ColumnData::AppendString(std::string_view v) {
  valid.push_back(1);
  bytes.append(v);
  offsets.push_back(static_cast<uint32_t>(bytes.size()));
}

void ColumnData::AppendInt(int64_t v) {
  valid.push_back(1);
  ints.push_back(v);
}

void ColumnData::AppendDouble(double v) {
  valid.push_back(1);
  doubles.push_back(v);
}

Batch::Batch(const Schema* schema) : schema_(schema) {
  columns_.reserve(schema->columns.size());
  for (const auto& spec : schema->columns) columns_.push_back(ColumnData{.type = spec.type});
}

size_t Batch::ByteSize() const {
  size_t n = 0;
  for (const auto& c : columns_) {
    n += c.ints.size() * 8 + c.doubles.size() * 8 + c.offsets.size() * 4 + c.bytes.size() + c.valid.size();
  }
  return n;
}

void Batch::Reserve(size_t rows, size_t string_bytes) {
  for (auto& c : columns_) {
    size_t n = c.size() + rows;
    c.valid.reserve(n);
    switch (c.type) {
      case ColumnType::kString:
        c.offsets.reserve(n + 1);
        c.bytes.reserve(c.bytes.size() + string_bytes);
        break;
      case ColumnType::kDouble:
        c.doubles.reserve(n);
        break;
      default:
        c.ints.reserve(n);
    }
  }
}

void Batch::EndRow() {
  size_t n = 0;
  for (const auto& c : columns_) n = std::max(n, c.size());
  for (auto& c : columns_) {
    while (c.size() < n) c.AppendNull();
  }
}

bool Batch::Consistent() const {
  for (const auto& c : columns_) {
    if (c.size() != num_rows()) return false;
  }
  return true;
}

}  // namespace signaldb::columnar
