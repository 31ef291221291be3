#include "schema/tables.h"

namespace signaldb::schema {

using columnar::ColumnType;

const columnar::Schema& Traces() {
  static const columnar::Schema* schema = new columnar::Schema{
      "traces",
      {
          {"trace_id", ColumnType::kString, true},
          {"span_id", ColumnType::kString, true},
          {"parent_span_id", ColumnType::kString, false},
          {"span_name", ColumnType::kString, true},
          {"service_name", ColumnType::kString, true},
          {"start_time_unix_nano", ColumnType::kInt64, true},
          {"end_time_unix_nano", ColumnType::kInt64, true},
          {"duration_nanos", ColumnType::kInt64, true},
          {"span_kind", ColumnType::kString, true},
          {"span_kind_number", ColumnType::kInt32, true},
          {"status_code", ColumnType::kString, true},
          {"status_code_number", ColumnType::kInt32, true},
          {"status_message", ColumnType::kString, false},
          {"is_root", ColumnType::kBool, true},
          {"trace_state", ColumnType::kString, false},
          {"flags", ColumnType::kInt64, true},
          {"span_attributes", ColumnType::kString, true},
          {"dropped_attributes_count", ColumnType::kInt64, true},
          {"events", ColumnType::kString, true},
          {"dropped_events_count", ColumnType::kInt64, true},
          {"links", ColumnType::kString, true},
          {"dropped_links_count", ColumnType::kInt64, true},
          {"resource_attributes", ColumnType::kString, true},
          {"resource_dropped_attributes_count", ColumnType::kInt64, true},
          {"resource_schema_url", ColumnType::kString, false},
          {"scope_name", ColumnType::kString, false},
          {"scope_version", ColumnType::kString, false},
          {"scope_attributes", ColumnType::kString, true},
          {"scope_dropped_attributes_count", ColumnType::kInt64, true},
          {"scope_schema_url", ColumnType::kString, false},
          {"timestamp", ColumnType::kTimestampMicros, true},
          {"date_day", ColumnType::kDate, true},
          {"hour", ColumnType::kInt32, true},
      }};
  return *schema;
}

const char* SpanKindName(int kind) {
  switch (kind) {
    case 1: return "internal";
    case 2: return "server";
    case 3: return "client";
    case 4: return "producer";
    case 5: return "consumer";
    default: return "unspecified";
  }
}

const char* StatusCodeName(int code) {
  switch (code) {
    case 1: return "ok";
    case 2: return "error";
    default: return "unset";
  }
}

}  // namespace signaldb::schema
