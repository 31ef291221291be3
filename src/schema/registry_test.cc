// SchemaSet: inheritance, renames and computed fields resolve as documented,
// and each kind of broken schemas file is refused with an error naming it.
#include "schema/registry.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace signaldb::schema {
namespace {

using ::testing::HasSubstr;

constexpr char kBase[] = R"toml(
[metadata]
current = { events = "v2" }

[events.v1]
fields = [
  { id = 1, name = "time_unix_nano", type = "long", required = true },
  { id = 2, name = "msg", type = "string" },
]

[events.v2]
inherits = "v1"
renames = { msg = "message" }
fields = [
  { id = 3, name = "timestamp", type = "timestamptz", required = true, computed = "micros(time_unix_nano)" },
  { id = 4, name = "hour", type = "int", required = true, computed = "hour_of_day(timestamp)" },
]
)toml";

// The error Parse() gives for `text`, or "" when it parses.
std::string ErrorOf(const std::string& text) {
  auto set = SchemaSet::Parse(text, "test.toml");
  return set.ok() ? "" : std::string(set.status().message());
}

TEST(SchemaSetTest, ResolvesInheritanceRenamesAndComputedFields) {
  auto set = SchemaSet::Parse(kBase, "test.toml");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->Tables(), std::vector<std::string>{"events"});
  const TableVersion* v1 = set->Find("events", "v1");
  const TableVersion* v2 = set->Current("events");
  ASSERT_NE(v1, nullptr);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->version, "v2");
  EXPECT_EQ(v2->parent, "v1");
  ASSERT_EQ(v1->fields.size(), 2u);
  EXPECT_EQ(v1->fields[1].name, "msg");

  columnar::Schema s = v2->ToSchema();
  EXPECT_EQ(s.table, "events");
  ASSERT_EQ(s.columns.size(), 4u);
  // The renamed field keeps its id and position; additions follow in order.
  EXPECT_EQ(s.columns[1].name, "message");
  EXPECT_EQ(s.columns[1].field_id, 2);
  EXPECT_FALSE(s.columns[1].required);
  EXPECT_EQ(s.columns[2].name, "timestamp");
  EXPECT_EQ(s.columns[2].type, columnar::ColumnType::kTimestampMicros);
  EXPECT_EQ(s.columns[3].field_id, 4);
  EXPECT_TRUE(s.columns[3].required);
  ASSERT_TRUE(v2->fields[2].computed.has_value());
  EXPECT_EQ(v2->fields[2].computed->transform, Transform::kMicros);
  EXPECT_EQ(v2->fields[2].computed->source, "time_unix_nano");
  EXPECT_EQ(v2->fields[3].computed->source, "timestamp");
  EXPECT_EQ(set->Find("events", "v3"), nullptr);
  EXPECT_EQ(set->Current("nope"), nullptr);
}

// A computed field inherited from the parent follows a rename of its source.
TEST(SchemaSetTest, InheritedComputedFieldFollowsARenamedSource) {
  std::string text = std::string(kBase) + R"toml(
[events.v3]
inherits = "v2"
renames = { timestamp = "ts" }
)toml";
  auto set = SchemaSet::Parse(text, "test.toml");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->Find("events", "v3")->fields[3].computed->source, "ts");
}

TEST(SchemaSetTest, UnknownParentIsAnError) {
  std::string text = kBase;
  text.replace(text.find(R"(inherits = "v1")"), 15, R"(inherits = "v0")");
  EXPECT_THAT(ErrorOf(text), HasSubstr("events.v2 inherits unknown version events.v0"));
}

TEST(SchemaSetTest, InheritanceCycleIsAnError) {
  std::string text = kBase;
  text.replace(text.find("[events.v1]"), 11, "[events.v1]\ninherits = \"v2\"");
  EXPECT_THAT(ErrorOf(text), HasSubstr("inheritance cycle"));
}

TEST(SchemaSetTest, DuplicateIdIsAnError) {
  std::string text = kBase;
  text.replace(text.find("id = 4"), 6, "id = 2");
  EXPECT_THAT(ErrorOf(text), HasSubstr("events.v2: duplicate field id 2 (message and hour)"));
}

TEST(SchemaSetTest, DuplicateNameIsAnError) {
  std::string text = kBase;
  text.replace(text.find(R"("hour")"), 6, R"("message")");
  EXPECT_THAT(ErrorOf(text), HasSubstr("events.v2: duplicate field message"));
}

TEST(SchemaSetTest, RenameOfAMissingFieldIsAnError) {
  std::string text = kBase;
  text.replace(text.find("msg = "), 3, "mgs");
  EXPECT_THAT(ErrorOf(text), HasSubstr("events.v2 renames mgs, which v1 does not have"));
}

// Two versions may not give one id to different fields, even when neither
// inherits the other.
TEST(SchemaSetTest, IdReuseAcrossVersionsIsAnError) {
  std::string text = std::string(kBase) + R"toml(
[events.v3]
inherits = "v1"
fields = [ { id = 3, name = "severity", type = "int" } ]
)toml";
  EXPECT_THAT(ErrorOf(text), HasSubstr("field id 3 (severity) was already given to timestamp in events.v2; field ids "
                                       "are never reused"));
}

TEST(SchemaSetTest, UnknownTypeIsAnError) {
  std::string text = kBase;
  text.replace(text.find(R"(type = "string")"), 15, R"(type = "varchar")");
  EXPECT_THAT(ErrorOf(text), HasSubstr("events.v1.msg has unknown type \"varchar\""));
}

TEST(SchemaSetTest, UnknownKeysAreErrors) {
  std::string text = kBase;
  text.replace(text.find("required = true"), 15, "requried = true");
  EXPECT_THAT(ErrorOf(text), HasSubstr("unknown key requried in field events.v1.time_unix_nano"));
  text = kBase;
  text.replace(text.find("renames"), 7, "rename");
  EXPECT_THAT(ErrorOf(text), HasSubstr("unknown key rename in events.v2"));
}

TEST(SchemaSetTest, BadIdsAreErrors) {
  std::string text = kBase;
  text.replace(text.find("id = 1"), 6, "id = 0");
  EXPECT_THAT(ErrorOf(text), HasSubstr("events.v1.time_unix_nano: id must be an integer"));
  text = kBase;
  text.replace(text.find("id = 1"), 6, "id = \"1\"");
  EXPECT_THAT(ErrorOf(text), HasSubstr("id must be an integer"));
}

TEST(SchemaSetTest, BadComputedFieldsAreErrors) {
  std::string text = kBase;
  text.replace(text.find("micros(time_unix_nano)"), 22, "micros(nanos)");
  EXPECT_THAT(ErrorOf(text), HasSubstr("events.v2.timestamp is computed from unknown field nanos"));
  text = kBase;
  text.replace(text.find("micros("), 7, "millis(");
  EXPECT_THAT(ErrorOf(text), HasSubstr("unknown computed function \"millis\""));
  text = kBase;
  text.replace(text.find("hour_of_day(timestamp)"), 22, "hour_of_day(time_unix_nano)");
  EXPECT_THAT(ErrorOf(text), HasSubstr("needs a timestamptz source"));
}

TEST(SchemaSetTest, CurrentVersionsMustExist) {
  std::string text = kBase;
  text.replace(text.find(R"(events = "v2")"), 13, R"(events = "v9")");
  EXPECT_THAT(ErrorOf(text), HasSubstr("metadata.current names unknown version events.v9"));
  text = kBase;
  text.replace(text.find(R"(events = "v2")"), 13, R"(other = "v1")");
  EXPECT_THAT(ErrorOf(text), HasSubstr("metadata.current has no version for table events"));
  text = kBase;
  text.erase(0, text.find("[events.v1]"));
  EXPECT_THAT(ErrorOf(text), HasSubstr("missing [metadata]"));
}

TEST(SchemaSetTest, TomlSyntaxErrorsCarryTheLine) {
  EXPECT_THAT(ErrorOf("[metadata]\ncurrent = {\n"), HasSubstr("test.toml:"));
  EXPECT_THAT(ErrorOf(""), HasSubstr("missing [metadata]"));
}

}  // namespace
}  // namespace signaldb::schema
