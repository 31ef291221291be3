// The rows of one table a query reads: its planned data files (pruned by a
// time range) plus the writer's unflushed rows, as one SQL relation.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "writer/writer.h"

namespace signaldb::querier {

struct TracesSource {
  std::string sql;  // a parenthesised relation, or a table function call
  writer::SignalStore::ScanPlan plan;  // keeps remote files pinned while it lives
};

// The traces of `ds` that may hold spans between the two times (inclusive,
// either open).
absl::StatusOr<TracesSource> PlanTraces(writer::Dataset* ds, std::optional<int64_t> start_unix_nano,
                                        std::optional<int64_t> end_unix_nano);

}  // namespace signaldb::querier
