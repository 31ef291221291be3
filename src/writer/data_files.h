// How the writer lays out and writes Parquet data files, shared by flushes
// and compaction so both produce the same kind of file: partition directory
// names, file names, column order, row order and DuckDB COPY options.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/batch.h"
#include "parquet/writer.h"

namespace signaldb::writer {

// "timestamp_hour=YYYY-MM-DD-HH" for hours since the epoch, as Iceberg's
// hour transform names partitions.
std::string PartitionDirName(int32_t hour);
// A fresh random "<32 hex>.parquet".
std::string NewDataFileName();
// The table's columns, quoted, in schema order.
std::string ColumnList(const columnar::Schema& schema);
// " ORDER BY ..." giving the Parquet row order: by trace for traces (trace
// lookups read few row groups), by metric and time for metrics, by time
// otherwise.
std::string SortKey(const columnar::Schema& schema);
// The columns SortKey() orders by, as indexes into `schema`. The flush
// source hands rows to DuckDB in this order (columnar::SortRows), so flushes
// need no ORDER BY: DuckDB sorting rows with map payloads cost more than
// writing them.
std::vector<int> SortColumnIndexes(const columnar::Schema& schema);
// `read_parquet([<paths>], schema = MAP {...})`: reads the files' columns by
// Iceberg field id, named and typed as `schema` says. A file written before
// a column was added reads NULL for it; a file written before a rename finds
// the column under its old name. (By name, DuckDB would refuse files that
// differ and could not follow a rename.) `paths` are local, unquoted; at
// least one.
// `options` are more read_parquet options ("file_row_number = true").
std::string ReadParquetById(const columnar::Schema& schema, const std::vector<std::string>& paths,
                            const std::string& options = "");
// Whether the table's files are sorted by trace (spans).
bool SortedByTrace(const columnar::Schema& schema);
// Rows per Parquet row group in files sorted by trace.
inline constexpr int kTraceRowGroupRows = 16384;

// Which encoder writes a flush's Parquet files: our own (parquet/writer.h,
// encoding straight from the batches) or DuckDB's COPY (the fallback).
// Compaction always uses DuckDB. Both write the same schema, field ids,
// row order and row-group sizes.
enum class ParquetEncoder { kNative, kDuckDb };
// Parses "native" / "duckdb".
bool ParseParquetEncoder(std::string_view name, ParquetEncoder* out);

// Rows per row group in files that are not sorted by trace (DuckDB's
// default, kept so both encoders write alike).
inline constexpr int kDefaultRowGroupRows = 122880;

// The native writer's options for a table's files: zstd at
// `compression_level`, the row-group size ParquetCopyOptions() gives DuckDB.
parquet::WriteOptions NativeParquetOptions(const columnar::Schema& schema, int compression_level);

// The "(FORMAT parquet, ...)" clause: zstd at `compression_level`, the
// columns' Iceberg field ids.
std::string ParquetCopyOptions(const columnar::Schema& schema, int compression_level);

}  // namespace signaldb::writer
