// The pieces the query paths share (source.h).
#include "querier/source.h"

#include <cstdlib>

#include "common/status_macros.h"
#include "common/strings.h"
#include "schema/tables.h"
#include "writer/data_files.h"

namespace signaldb::querier {

namespace pb = opentelemetry::proto::common::v1;

std::string TempoTraceId(const std::string& hex) {
  size_t i = 0;
  while (i + 1 < hex.size() && hex[i] == '0') ++i;
  return hex.substr(i);
}

bool CompareNumbers(double a, traceql::Op op, double b) {
  switch (op) {
    case traceql::Op::kEq: return a == b;
    case traceql::Op::kNeq: return a != b;
    case traceql::Op::kLt: return a < b;
    case traceql::Op::kLte: return a <= b;
    case traceql::Op::kGt: return a > b;
    case traceql::Op::kGte: return a >= b;
    default: return false;
  }
}

bool ReadAttributeValue(const std::vector<engine::Value>& row, size_t c, pb::AnyValue* out) {
  if (auto* s = std::get_if<std::string>(&row[c])) {
    out->set_string_value(*s);
  } else if (auto* i = std::get_if<std::string>(&row[c + 1])) {
    out->set_int_value(std::strtoll(i->c_str(), nullptr, 10));
  } else if (auto* d = std::get_if<std::string>(&row[c + 2])) {
    out->set_double_value(std::strtod(d->c_str(), nullptr));
  } else if (auto* b = std::get_if<bool>(&row[c + 3])) {
    out->set_bool_value(*b);
  } else {
    return false;
  }
  return true;
}

absl::StatusOr<TracesSource> PlanTraces(writer::Dataset* ds, std::optional<int64_t> start_unix_nano,
                                        std::optional<int64_t> end_unix_nano) {
  using Predicate = writer::SignalStore::Predicate;
  std::vector<Predicate> predicates;
  if (start_unix_nano) predicates.push_back({Predicate::kIntAtLeast, "end_time_unix_nano", "", *start_unix_nano});
  if (end_unix_nano) predicates.push_back({Predicate::kIntAtMost, "start_time_unix_nano", "", *end_unix_nano});
  TracesSource out;
  ASSIGN_OR_RETURN(out.plan, ds->store(Signal::kTraces).PlanScan("traces", predicates));
  const std::string buffer = StrCat(writer::kViewFunction, "('traces', ", out.plan.generation, ")");
  out.sql = buffer;
  if (!out.plan.files.empty()) {
    out.sql = StrCat("(SELECT * FROM ", writer::ReadParquetById(schema::Traces(), out.plan.files),
                     " UNION ALL BY NAME SELECT * FROM ", buffer, ")");
  }
  return out;
}

}  // namespace signaldb::querier
