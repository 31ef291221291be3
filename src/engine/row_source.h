// In-memory rows served to SQL. A RowSource owns batches that are not in any
// DuckDB table (the writer's unflushed rows); Database::RegisterRowSource
// exposes them as a table function `name(table VARCHAR, arg BIGINT)` whose
// result has the table's columns. The batches a scan returns are captured
// when the query is bound, so a query sees one consistent set.
//
// Thread-safety: implementations must be thread-safe (scans run on DuckDB's
// threads).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "columnar/batch.h"

namespace signaldb::engine {

class RowSource {
 public:
  virtual ~RowSource() = default;
  // The schema of `table`, or nullptr when this source has no such table.
  virtual const columnar::Schema* TableSchema(const std::string& table) const = 0;
  // The batches a scan of `table` with argument `arg` returns, captured now.
  virtual std::vector<std::shared_ptr<const columnar::Batch>> Snapshot(const std::string& table,
                                                                       int64_t arg) const = 0;
  // The order in which a scan returns the rows of `batches` (a snapshot of
  // `table`); empty: batch by batch, as stored.
  virtual std::vector<columnar::RowRef> Order(const std::string& table,
                                              const std::vector<std::shared_ptr<const columnar::Batch>>& batches) const {
    return {};
  }
};

}  // namespace signaldb::engine
