// Iceberg data-file statistics computed from the batches a file is written
// from: value and null counts per column, NaN counts for doubles, and lower
// and upper bounds in Iceberg's single-value binary form (Appendix D;
// strings truncated to 16 characters, the upper bound rounded up).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "columnar/batch.h"
#include "iceberg/manifest.h"

namespace signaldb::iceberg {

// Fills the statistics of `file` from the rows of `batches` for which
// `include(batch index, row)` is true (every row when `include` is empty),
// keyed by the columns' field ids.
void ComputeStats(const std::vector<std::shared_ptr<const columnar::Batch>>& batches,
                  const std::function<bool(size_t, size_t)>& include, DataFile* file);

// The statistics of a file holding exactly the rows of `inputs` (a
// compaction's output): counts add up, bounds are the extremes of the
// inputs' bounds, compared as values of the column's type. A side stays
// unset when some input with values has no bound for it. An input with
// counts for other columns but none for a column predates that column: its
// rows count as nulls there.
void MergeStats(const columnar::Schema& schema, const std::vector<const DataFile*>& inputs, DataFile* file);

// hour(timestamp) of a microsecond timestamp: hours since the epoch, floored.
int32_t HourOf(int64_t micros);

}  // namespace signaldb::iceberg
