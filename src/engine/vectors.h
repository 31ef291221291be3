// Moving columnar batches into DuckDB vectors (engine-internal).
#pragma once

#include <duckdb.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "columnar/batch.h"

namespace signaldb::engine {

// The DuckDB type of a column type; the caller destroys it.
duckdb_logical_type LogicalTypeOf(columnar::ColumnType t);
// Copies rows [begin, begin + n) of `col` into `vec` (positions 0..n-1).
void FillVector(duckdb_vector vec, const columnar::ColumnData& col, size_t begin, size_t n);
// Copies column `column` of the rows `rows[0..n)` (of `batches`) into `vec`.
void GatherVector(duckdb_vector vec, const std::vector<std::shared_ptr<const columnar::Batch>>& batches,
                  size_t column, const columnar::RowRef* rows, size_t n);

}  // namespace signaldb::engine
