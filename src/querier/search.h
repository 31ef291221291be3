// TraceQL search (Tempo's GET /api/search): the traces whose spans satisfy
// a spanset pipeline, newest first, with their matching spans. The traces
// are found by TraceScan (trace_scan.h: candidates, then whole traces).
#pragma once

#include <cstdint>
#include <optional>

#include "traceql/ast.h"

namespace signaldb::querier {

struct SearchRequest {
  uint32_t limit = 20;  // traces
  uint32_t spans_per_spanset = 3;
  std::optional<int64_t> start_unix_nano;  // traces with spans ending before are not searched
  std::optional<int64_t> end_unix_nano;    // ... nor spans starting after
  std::optional<int64_t> min_duration_nanos;  // of the whole trace
  std::optional<int64_t> max_duration_nanos;
};

}  // namespace signaldb::querier
