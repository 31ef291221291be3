// Writes Parquet files straight from columnar batches: the flush path's
// encoder (DuckDB's COPY costs several microseconds per span; this writes
// the same files for a fraction of that, docs/ingest-performance.md).
//
// What it writes, for a columnar::Schema (docs/parquet-writer.md):
//   - every column OPTIONAL, with its Iceberg field id, typed as DuckDB
//     types it (strings UTF8, INT_32/INT_64, DATE, TIMESTAMP_MICROS with
//     the UTC TIMESTAMP logical type, plain DOUBLE and BOOLEAN);
//   - maps as DuckDB writes them: an OPTIONAL group (MAP) holding a
//     REPEATED group `key_value` of a REQUIRED `key` and an OPTIONAL
//     `value`, the key and value with their own field ids;
//   - row groups of `row_group_rows` rows; data pages (v1) of about
//     `page_bytes`, always starting at a row boundary; string columns
//     dictionary encoded (RLE_DICTIONARY) where the values repeat enough,
//     PLAIN otherwise; levels RLE; pages zstd compressed;
//   - per column chunk: min/max statistics (type order; long strings have
//     a truncated lower bound and no upper bound; none for doubles when
//     the chunk holds a NaN) and, for top-level columns, null counts, so
//     readers prune row groups.
//
// Thread-safety: WriteFile is reentrant; each call uses its own state.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "columnar/batch.h"
#include "common/fs.h"

namespace signaldb::parquet {

struct WriteOptions {
  int compression_level = 3;  // zstd level; 0 leaves pages uncompressed
  size_t row_group_rows = 122880;
  // A data page ends at the first row boundary once it holds this many
  // value bytes (plain) or `page_values` level entries.
  size_t page_bytes = 1 << 20;
  size_t page_values = 20000;
  bool dictionary = true;  // try dictionary encoding for string columns
  std::string created_by = "signaldb";
};

struct WriteResult {
  uint64_t bytes = 0;  // file size
  uint64_t rows = 0;
  uint64_t row_groups = 0;
};

// Writes `rows` of `batches`, in that order, to `out` as one complete
// Parquet file (appended from `out`'s current end, which must be 0). Every
// batch must have `schema`'s columns. `out` is not synced or closed.
absl::StatusOr<WriteResult> WriteFile(
    const columnar::Schema& schema,
    const std::vector<std::shared_ptr<const columnar::Batch>>& batches,
    std::span<const columnar::RowRef> rows, const WriteOptions& options, WritableFile* out);

}  // namespace signaldb::parquet
