#include "engine/vectors.h"

namespace signaldb::engine {
namespace {

duckdb_type PrimitiveOf(columnar::ColumnType t) {
  switch (t) {
    case columnar::ColumnType::kString: return DUCKDB_TYPE_VARCHAR;
    case columnar::ColumnType::kInt32: return DUCKDB_TYPE_INTEGER;
    case columnar::ColumnType::kInt64: return DUCKDB_TYPE_BIGINT;
    case columnar::ColumnType::kDouble: return DUCKDB_TYPE_DOUBLE;
    case columnar::ColumnType::kBool: return DUCKDB_TYPE_BOOLEAN;
    case columnar::ColumnType::kTimestampMicros: return DUCKDB_TYPE_TIMESTAMP_TZ;
    case columnar::ColumnType::kDate: return DUCKDB_TYPE_DATE;
    default: return DUCKDB_TYPE_VARCHAR;
  }
}

// Writes value `row` of `col` (valid) at position `i` of `vec`.
void PutValue(duckdb_vector vec, void* data, const columnar::ColumnData& col, size_t row, size_t i) {
  switch (col.type) {
    case columnar::ColumnType::kString: {
      std::string_view v = col.StringAt(row);
      duckdb_vector_assign_string_element_len(vec, i, v.data(), v.size());
      break;
    }
    case columnar::ColumnType::kInt32:
    case columnar::ColumnType::kDate:
      static_cast<int32_t*>(data)[i] = static_cast<int32_t>(col.ints[row]);
      break;
    case columnar::ColumnType::kDouble: static_cast<double*>(data)[i] = col.doubles[row]; break;
    case columnar::ColumnType::kBool: static_cast<bool*>(data)[i] = col.ints[row] != 0; break;
    default: static_cast<int64_t*>(data)[i] = col.ints[row]; break;
  }
}


// A map column: the list entries of the rows, then the keys and values of
// all their entries into the list's struct child in one go.
void FillMapVector(duckdb_vector vec, const columnar::ColumnData& col, size_t begin, size_t n) {
  auto* entries = static_cast<duckdb_list_entry*>(duckdb_vector_get_data(vec));
  const uint32_t first = col.entry_offsets[begin];
  const size_t total = col.entry_offsets[begin + n] - first;
  uint64_t* validity = nullptr;
  for (size_t i = 0; i < n; ++i) {
    entries[i].offset = col.entry_offsets[begin + i] - first;
    entries[i].length = col.entry_offsets[begin + i + 1] - col.entry_offsets[begin + i];
    if (!col.IsValid(begin + i)) {
      if (validity == nullptr) {
        duckdb_vector_ensure_validity_writable(vec);
        validity = duckdb_vector_get_validity(vec);
      }
      duckdb_validity_set_row_invalid(validity, i);
    }
  }
  duckdb_list_vector_reserve(vec, total);
  duckdb_list_vector_set_size(vec, total);
  duckdb_vector entry = duckdb_list_vector_get_child(vec);
  FillVector(duckdb_struct_vector_get_child(entry, 0), col.MapKeys(), first, total);
  FillVector(duckdb_struct_vector_get_child(entry, 1), col.MapValues(), first, total);
}

}  // namespace

duckdb_logical_type LogicalTypeOf(columnar::ColumnType t) {
  if (!columnar::IsMap(t)) return duckdb_create_logical_type(PrimitiveOf(t));
  duckdb_logical_type key = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  duckdb_logical_type value = duckdb_create_logical_type(PrimitiveOf(columnar::MapValueType(t)));
  duckdb_logical_type map = duckdb_create_map_type(key, value);
  duckdb_destroy_logical_type(&key);
  duckdb_destroy_logical_type(&value);
  return map;
}

void FillVector(duckdb_vector vec, const columnar::ColumnData& col, size_t begin, size_t n) {
  if (columnar::IsMap(col.type)) return FillMapVector(vec, col, begin, n);
  void* data = duckdb_vector_get_data(vec);
  bool has_nulls = false;
  for (size_t i = 0; i < n; ++i) has_nulls = has_nulls || !col.IsValid(begin + i);
  uint64_t* validity = nullptr;
  if (has_nulls) {
    duckdb_vector_ensure_validity_writable(vec);
    validity = duckdb_vector_get_validity(vec);
  }
  for (size_t i = 0; i < n; ++i) {
    size_t row = begin + i;
    if (!col.IsValid(row)) {
      duckdb_validity_set_row_invalid(validity, i);
      continue;
    }
    PutValue(vec, data, col, row, i);
  }
}

void GatherVector(duckdb_vector vec, const std::vector<std::shared_ptr<const columnar::Batch>>& batches,
                  size_t column, const columnar::RowRef* rows, size_t n) {
  if (n == 0) return;
  const columnar::ColumnType type = batches[rows[0].batch]->column(column).type;
  uint64_t* validity = nullptr;
  auto set_null = [&](size_t i) {
    if (validity == nullptr) {
      duckdb_vector_ensure_validity_writable(vec);
      validity = duckdb_vector_get_validity(vec);
    }
    duckdb_validity_set_row_invalid(validity, i);
  };
  if (!columnar::IsMap(type)) {
    void* data = duckdb_vector_get_data(vec);
    for (size_t i = 0; i < n; ++i) {
      const columnar::ColumnData& col = batches[rows[i].batch]->column(column);
      if (!col.IsValid(rows[i].row)) {
        set_null(i);
        continue;
      }
      PutValue(vec, data, col, rows[i].row, i);
    }
    return;
  }
  // Maps: the list entries first, then every entry's key and value.
  auto* entries = static_cast<duckdb_list_entry*>(duckdb_vector_get_data(vec));
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const columnar::ColumnData& col = batches[rows[i].batch]->column(column);
    const uint32_t r = rows[i].row;
    entries[i].offset = total;
    entries[i].length = col.entry_offsets[r + 1] - col.entry_offsets[r];
    total += entries[i].length;
    if (!col.IsValid(r)) set_null(i);
  }
  duckdb_list_vector_reserve(vec, total);
  duckdb_list_vector_set_size(vec, total);
  duckdb_vector entry = duckdb_list_vector_get_child(vec);
  duckdb_vector keys = duckdb_struct_vector_get_child(entry, 0);
  duckdb_vector values = duckdb_struct_vector_get_child(entry, 1);
  void* key_data = duckdb_vector_get_data(keys);
  void* value_data = duckdb_vector_get_data(values);
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    const columnar::ColumnData& col = batches[rows[i].batch]->column(column);
    const uint32_t r = rows[i].row;
    for (uint32_t e = col.entry_offsets[r]; e < col.entry_offsets[r + 1]; ++e, ++pos) {
      PutValue(keys, key_data, col.MapKeys(), e, pos);
      PutValue(values, value_data, col.MapValues(), e, pos);
    }
  }
}

}  // namespace signaldb::engine
