// Pieces the query paths share. The rows of one table a query reads: its planned data files (pruned by a
// time range) plus the writer's unflushed rows, as one SQL relation.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "traceql/ast.h"
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

// An attribute's value from the columns traceql::AttributeValueColumns adds
// at `c` of `row` (string, int text, double text, bool); false when the
// row has none.
bool ReadAttributeValue(const std::vector<engine::Value>& row, size_t c, opentelemetry::proto::common::v1::AnyValue* out);

// A trace id as Tempo prints it in search results and exemplars: hex
// without leading zeros.
std::string TempoTraceId(const std::string& hex);

// `a op b` for the comparisons of scalar filters and second stages.
bool CompareNumbers(double a, traceql::Op op, double b);

}  // namespace signaldb::querier
