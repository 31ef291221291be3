#include "engine/vectors.h"

namespace signaldb::engine {

duckdb_type DuckTypeOf(columnar::ColumnType t) {
  switch (t) {
    case columnar::ColumnType::kString: return DUCKDB_TYPE_VARCHAR;
    case columnar::ColumnType::kInt32: return DUCKDB_TYPE_INTEGER;
    case columnar::ColumnType::kInt64: return DUCKDB_TYPE_BIGINT;
    case columnar::ColumnType::kDouble: return DUCKDB_TYPE_DOUBLE;
    case columnar::ColumnType::kBool: return DUCKDB_TYPE_BOOLEAN;
    case columnar::ColumnType::kTimestampMicros: return DUCKDB_TYPE_TIMESTAMP_TZ;
    case columnar::ColumnType::kDate: return DUCKDB_TYPE_DATE;
  }
  return DUCKDB_TYPE_VARCHAR;
}

// Copies rows [begin, begin + n) of `col` into `vec`.
void FillVector(duckdb_vector vec, const columnar::ColumnData& col, size_t begin, size_t n) {
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
      case columnar::ColumnType::kInt64:
      case columnar::ColumnType::kTimestampMicros:
        static_cast<int64_t*>(data)[i] = col.ints[row];
        break;
      case columnar::ColumnType::kDouble:
        static_cast<double*>(data)[i] = col.doubles[row];
        break;
      case columnar::ColumnType::kBool:
        static_cast<bool*>(data)[i] = col.ints[row] != 0;
        break;
    }
  }
}

}  // namespace signaldb::engine
