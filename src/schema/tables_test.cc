// The compiled schemas.toml: valid, its current versions equal the table
// layouts existing data was written with (testdata/current_schemas.txt: the
// ids of the first columns are positions + 1, as before the file existed;
// later versions only rename and append), and the column indexes the
// decoders use match the resolved schemas.
#include "schema/tables.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace signaldb::schema {
namespace {

TEST(CompiledSchemasTest, AreValid) {
  absl::Status st = CheckCompiledSchemas();
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(CompiledSchemas().Tables().size(), 7u);
}

// Renders schemas the way testdata/current_schemas.txt lists them.
std::string Render(const std::vector<const columnar::Schema*>& schemas) {
  std::ostringstream out;
  for (const auto* s : schemas) {
    out << s->table << "\n";
    for (const auto& c : s->columns) {
      out << "  " << c.field_id << " " << c.name << " " << TypeName(c.type) << " "
          << (c.required ? "required" : "optional");
      if (columnar::IsMap(c.type)) out << " key " << c.key_id << " value " << c.value_id;
      out << "\n";
    }
  }
  return out.str();
}

TEST(CompiledSchemasTest, CurrentVersionsKeepTheLayoutOfExistingTables) {
  std::ifstream in(SIGNALDB_SOURCE_DIR "/src/schema/testdata/current_schemas.txt");
  ASSERT_TRUE(in.good());
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(Render({&Traces(), &Logs(), &MetricsGauge(), &MetricsSum(), &MetricsHistogram(),
                    &MetricsExponentialHistogram(), &MetricsSummary()}),
            golden.str());
}

TEST(CompiledSchemasTest, TracesV2RenamesV1AndAddsComputedColumns) {
  const TableVersion* v1 = CompiledSchemas().Find("traces", "v1");
  const TableVersion* v2 = CompiledSchemas().Find("traces", "v2");
  ASSERT_NE(v1, nullptr);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->parent, "v1");
  ASSERT_EQ(v1->fields.size() + 3, v2->fields.size());
  for (size_t i = 0; i < v1->fields.size(); ++i) EXPECT_EQ(v1->fields[i].id, v2->fields[i].id);
  EXPECT_EQ(v1->fields[kSpanName].name, "name");
  EXPECT_EQ(v1->fields[kDurationNanos].name, "duration_nano");
  for (int c : {kTimestamp, kDateDay, kHour}) EXPECT_TRUE(v2->fields[c].computed.has_value()) << c;
  EXPECT_EQ(v2->fields[kTimestamp].computed->source, "start_time_unix_nano");
}

TEST(CompiledSchemasTest, TracesV3KeepsV2AndAddsTypedAttributeMaps) {
  const TableVersion* v2 = CompiledSchemas().Find("traces", "v2");
  const TableVersion* v3 = CompiledSchemas().Current("traces");
  ASSERT_NE(v2, nullptr);
  ASSERT_NE(v3, nullptr);
  EXPECT_EQ(v3->version, "v3");
  EXPECT_EQ(v3->parent, "v2");
  ASSERT_EQ(v2->fields.size() + 4, v3->fields.size());
  for (size_t i = 0; i < v2->fields.size(); ++i) EXPECT_EQ(v2->fields[i].id, v3->fields[i].id);
  // The JSON column keeps its id (old files hold every attribute there).
  EXPECT_EQ(v2->fields[kSpanAttributesOther].name, "span_attributes");
  EXPECT_EQ(v3->fields[kSpanAttributesOther].name, "span_attributes_other");
  EXPECT_EQ(v3->fields[kSpanAttributesInt].type, columnar::ColumnType::kMapInt64);
  EXPECT_EQ(v3->fields[kSpanAttributesInt].key_id, 38);
  EXPECT_EQ(v3->fields[kSpanAttributesInt].value_id, 39);
}

// The trace decoder fills columns by these indexes: each must be the
// position of its field in the resolved current schema.
TEST(CompiledSchemasTest, TraceColumnIndexesMatchTheSchema) {
  const std::pair<TraceColumn, const char*> kNames[] = {
      {kTraceId, "trace_id"},
      {kSpanId, "span_id"},
      {kParentSpanId, "parent_span_id"},
      {kSpanName, "span_name"},
      {kServiceName, "service_name"},
      {kStartTimeUnixNano, "start_time_unix_nano"},
      {kEndTimeUnixNano, "end_time_unix_nano"},
      {kDurationNanos, "duration_nanos"},
      {kSpanKind, "span_kind"},
      {kSpanKindNumber, "span_kind_number"},
      {kStatusCode, "status_code"},
      {kStatusCodeNumber, "status_code_number"},
      {kStatusMessage, "status_message"},
      {kIsRoot, "is_root"},
      {kTraceState, "trace_state"},
      {kFlags, "flags"},
      {kSpanAttributesOther, "span_attributes_other"},
      {kDroppedAttributesCount, "dropped_attributes_count"},
      {kEvents, "events"},
      {kDroppedEventsCount, "dropped_events_count"},
      {kLinks, "links"},
      {kDroppedLinksCount, "dropped_links_count"},
      {kResourceAttributes, "resource_attributes"},
      {kResourceDroppedAttributesCount, "resource_dropped_attributes_count"},
      {kResourceSchemaUrl, "resource_schema_url"},
      {kScopeName, "scope_name"},
      {kScopeVersion, "scope_version"},
      {kScopeAttributes, "scope_attributes"},
      {kScopeDroppedAttributesCount, "scope_dropped_attributes_count"},
      {kScopeSchemaUrl, "scope_schema_url"},
      {kTimestamp, "timestamp"},
      {kDateDay, "date_day"},
      {kHour, "hour"},
      {kSpanAttributesString, "span_attributes_string"},
      {kSpanAttributesInt, "span_attributes_int"},
      {kSpanAttributesDouble, "span_attributes_double"},
      {kSpanAttributesBool, "span_attributes_bool"},
  };
  ASSERT_EQ(std::size(kNames), static_cast<size_t>(kTraceColumnCount));
  ASSERT_EQ(Traces().columns.size(), static_cast<size_t>(kTraceColumnCount));
  for (const auto& [index, name] : kNames) EXPECT_EQ(Traces().IndexOf(name), index) << name;
}

}  // namespace
}  // namespace signaldb::schema
