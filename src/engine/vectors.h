// Moving columnar batches into DuckDB vectors (engine-internal).
#pragma once

#include <duckdb.h>

#include <cstddef>

#include "columnar/batch.h"

namespace signaldb::engine {

// The DuckDB type of a column type; the caller destroys it.
duckdb_logical_type LogicalTypeOf(columnar::ColumnType t);
// Copies rows [begin, begin + n) of `col` into `vec` (positions 0..n-1).
void FillVector(duckdb_vector vec, const columnar::ColumnData& col, size_t begin, size_t n);

}  // namespace signaldb::engine
