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

const columnar::Schema& Logs() {
  static const columnar::Schema* schema = new columnar::Schema{
      "logs",
      {
          {"timestamp", ColumnType::kTimestampMicros, true},
          {"time_unix_nano", ColumnType::kInt64, true},
          {"observed_timestamp", ColumnType::kTimestampMicros, false},
          {"observed_time_unix_nano", ColumnType::kInt64, true},
          {"trace_id", ColumnType::kString, false},
          {"span_id", ColumnType::kString, false},
          {"trace_flags", ColumnType::kInt64, true},
          {"severity_text", ColumnType::kString, false},
          {"severity_number", ColumnType::kInt32, true},
          {"service_name", ColumnType::kString, true},
          {"body", ColumnType::kString, false},
          {"event_name", ColumnType::kString, false},
          {"log_attributes", ColumnType::kString, true},
          {"dropped_attributes_count", ColumnType::kInt64, true},
          {"resource_attributes", ColumnType::kString, true},
          {"resource_dropped_attributes_count", ColumnType::kInt64, true},
          {"resource_schema_url", ColumnType::kString, false},
          {"scope_name", ColumnType::kString, false},
          {"scope_version", ColumnType::kString, false},
          {"scope_attributes", ColumnType::kString, true},
          {"scope_dropped_attributes_count", ColumnType::kInt64, true},
          {"scope_schema_url", ColumnType::kString, false},
          {"date_day", ColumnType::kDate, true},
          {"hour", ColumnType::kInt32, true},
      }};
  return *schema;
}

namespace {

// Metric tables share a head (identity and time) and a tail (context); the
// data point's own columns sit between them.
columnar::Schema MetricSchema(std::string table, std::vector<columnar::ColumnSpec> middle) {
  std::vector<columnar::ColumnSpec> cols = {
      {"timestamp", ColumnType::kTimestampMicros, true},
      {"start_timestamp", ColumnType::kTimestampMicros, false},
      {"time_unix_nano", ColumnType::kInt64, true},
      {"start_time_unix_nano", ColumnType::kInt64, true},
      {"service_name", ColumnType::kString, true},
      {"metric_name", ColumnType::kString, true},
      {"metric_description", ColumnType::kString, false},
      {"metric_unit", ColumnType::kString, false},
  };
  cols.insert(cols.end(), middle.begin(), middle.end());
  std::vector<columnar::ColumnSpec> tail = {
      {"flags", ColumnType::kInt64, true},
      {"attributes", ColumnType::kString, true},
      {"exemplars", ColumnType::kString, true},
      {"metric_metadata", ColumnType::kString, true},
      {"resource_attributes", ColumnType::kString, true},
      {"resource_dropped_attributes_count", ColumnType::kInt64, true},
      {"resource_schema_url", ColumnType::kString, false},
      {"scope_name", ColumnType::kString, false},
      {"scope_version", ColumnType::kString, false},
      {"scope_attributes", ColumnType::kString, true},
      {"scope_dropped_attributes_count", ColumnType::kInt64, true},
      {"scope_schema_url", ColumnType::kString, false},
      {"date_day", ColumnType::kDate, true},
      {"hour", ColumnType::kInt32, true},
  };
  cols.insert(cols.end(), tail.begin(), tail.end());
  return columnar::Schema{std::move(table), std::move(cols)};
}

}  // namespace

const columnar::Schema& MetricsGauge() {
  static const columnar::Schema* schema = new columnar::Schema(MetricSchema(
      "metrics_gauge", {{"value", ColumnType::kDouble, false}, {"value_int", ColumnType::kInt64, false}}));
  return *schema;
}

const columnar::Schema& MetricsSum() {
  static const columnar::Schema* schema = new columnar::Schema(
      MetricSchema("metrics_sum", {{"value", ColumnType::kDouble, false},
                                   {"value_int", ColumnType::kInt64, false},
                                   {"aggregation_temporality", ColumnType::kInt32, true},
                                   {"is_monotonic", ColumnType::kBool, true}}));
  return *schema;
}

const columnar::Schema& MetricsHistogram() {
  static const columnar::Schema* schema = new columnar::Schema(
      MetricSchema("metrics_histogram", {{"count", ColumnType::kInt64, true},
                                         {"sum", ColumnType::kDouble, false},
                                         {"min", ColumnType::kDouble, false},
                                         {"max", ColumnType::kDouble, false},
                                         {"bucket_counts", ColumnType::kString, true},
                                         {"explicit_bounds", ColumnType::kString, true},
                                         {"aggregation_temporality", ColumnType::kInt32, true}}));
  return *schema;
}

const columnar::Schema& MetricsExponentialHistogram() {
  static const columnar::Schema* schema = new columnar::Schema(
      MetricSchema("metrics_exponential_histogram", {{"count", ColumnType::kInt64, true},
                                                     {"sum", ColumnType::kDouble, false},
                                                     {"min", ColumnType::kDouble, false},
                                                     {"max", ColumnType::kDouble, false},
                                                     {"scale", ColumnType::kInt32, true},
                                                     {"zero_count", ColumnType::kInt64, true},
                                                     {"zero_threshold", ColumnType::kDouble, true},
                                                     {"positive_offset", ColumnType::kInt32, true},
                                                     {"positive_bucket_counts", ColumnType::kString, true},
                                                     {"negative_offset", ColumnType::kInt32, true},
                                                     {"negative_bucket_counts", ColumnType::kString, true},
                                                     {"aggregation_temporality", ColumnType::kInt32, true}}));
  return *schema;
}

const columnar::Schema& MetricsSummary() {
  static const columnar::Schema* schema = new columnar::Schema(
      MetricSchema("metrics_summary", {{"count", ColumnType::kInt64, true},
                                       {"sum", ColumnType::kDouble, true},
                                       {"quantile_values", ColumnType::kString, true}}));
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
