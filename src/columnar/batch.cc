#include "columnar/batch.h"

#include <algorithm>
#include <cstring>

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
    case ColumnType::kMapString: return "MAP(VARCHAR, VARCHAR)";
    case ColumnType::kMapInt64: return "MAP(VARCHAR, BIGINT)";
    case ColumnType::kMapDouble: return "MAP(VARCHAR, DOUBLE)";
    case ColumnType::kMapBool: return "MAP(VARCHAR, BOOLEAN)";
  }
  return "VARCHAR";
}

bool IsMap(ColumnType type) {
  return type == ColumnType::kMapString || type == ColumnType::kMapInt64 || type == ColumnType::kMapDouble ||
         type == ColumnType::kMapBool;
}

ColumnType MapValueType(ColumnType type) {
  switch (type) {
    case ColumnType::kMapInt64: return ColumnType::kInt64;
    case ColumnType::kMapDouble: return ColumnType::kDouble;
    case ColumnType::kMapBool: return ColumnType::kBool;
    default: return ColumnType::kString;
  }
}

ColumnData ColumnData::Of(ColumnType type) {
  ColumnData c{.type = type};
  if (IsMap(type)) {
    c.children.push_back(ColumnData{.type = ColumnType::kString});
    c.children.push_back(ColumnData{.type = MapValueType(type)});
  }
  return c;
}

size_t ColumnData::ByteSize() const {
  size_t n = ints.size() * 8 + doubles.size() * 8 + offsets.size() * 4 + bytes.size() + valid.size();
  if (!children.empty()) n += entry_offsets.size() * 4;
  for (const auto& child : children) n += child.ByteSize();
  return n;
}

int Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

void ColumnData::AppendNull() {
  valid.push_back(0);
  if (IsMap(type)) {
    entry_offsets.push_back(entry_offsets.back());
    return;
  }
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
  for (const auto& spec : schema->columns) columns_.push_back(ColumnData::Of(spec.type));
}

size_t Batch::ByteSize() const {
  size_t n = 0;
  for (const auto& c : columns_) n += c.ByteSize();
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
      case ColumnType::kMapString:
      case ColumnType::kMapInt64:
      case ColumnType::kMapDouble:
      case ColumnType::kMapBool:
        c.entry_offsets.reserve(n + 1);
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

namespace {

// An unsigned key that orders like the first sort column where it can:
// strings by their first 8 bytes, numbers by value. Rows with equal keys
// (and nulls, which get 0) are ordered by the full comparison.
uint64_t SortPrefix(const ColumnData& c, size_t row) {
  if (!c.IsValid(row)) return 0;
  switch (c.type) {
    case ColumnType::kString: {
      const std::string_view v = c.StringAt(row);
      uint64_t k = 0;
      for (size_t i = 0; i < 8; ++i) k = (k << 8) | (i < v.size() ? static_cast<uint8_t>(v[i]) : 0);
      return k;
    }
    case ColumnType::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &c.doubles[row], 8);
      return (bits >> 63) ? ~bits : bits | (1ull << 63);
    }
    default:
      if (IsMap(c.type)) return 0;
      return static_cast<uint64_t>(c.ints[row]) ^ (1ull << 63);
  }
}

}  // namespace

std::vector<RowRef> SortRows(const std::vector<std::shared_ptr<const Batch>>& batches, const std::vector<int>& keys) {
  size_t total = 0;
  for (const auto& b : batches) total += b->num_rows();
  struct Item {
    uint64_t prefix;
    RowRef ref;
  };
  std::vector<Item> items;
  items.reserve(total);
  for (uint32_t b = 0; b < batches.size(); ++b) {
    const ColumnData* first = keys.empty() ? nullptr : &batches[b]->column(static_cast<size_t>(keys[0]));
    for (uint32_t r = 0; r < batches[b]->num_rows(); ++r) {
      items.push_back({first != nullptr ? SortPrefix(*first, r) : 0, {b, r}});
    }
  }
  auto less = [&](const RowRef& x, const RowRef& y) {
    for (int k : keys) {
      const ColumnData& a = batches[x.batch]->column(static_cast<size_t>(k));
      const ColumnData& b = batches[y.batch]->column(static_cast<size_t>(k));
      const bool av = a.IsValid(x.row), bv = b.IsValid(y.row);
      if (av != bv) return !av;  // nulls first
      if (!av) continue;
      if (a.type == ColumnType::kString) {
        const int c = a.StringAt(x.row).compare(b.StringAt(y.row));
        if (c != 0) return c < 0;
      } else if (a.type == ColumnType::kDouble) {
        if (a.doubles[x.row] != b.doubles[y.row]) return a.doubles[x.row] < b.doubles[y.row];
      } else if (!IsMap(a.type)) {
        if (a.ints[x.row] != b.ints[y.row]) return a.ints[x.row] < b.ints[y.row];
      }
    }
    return false;
  };
  // The prefix orders like the first key wherever two prefixes differ (a
  // null's 0 ties with the smallest values and defers to `less`), so most
  // comparisons are one integer compare.
  std::stable_sort(items.begin(), items.end(), [&](const Item& x, const Item& y) {
    if (x.prefix != y.prefix) return x.prefix < y.prefix;
    return less(x.ref, y.ref);
  });
  std::vector<RowRef> rows;
  rows.reserve(total);
  for (const auto& it : items) rows.push_back(it.ref);
  return rows;
}

}  // namespace signaldb::columnar
