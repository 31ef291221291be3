#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "router/http_util.h"
#include "router/sql_api.h"
#include "router/tempo_api.h"

namespace signaldb::router {
namespace {

TEST(TempoTraceIdTest, ParsesLikeTempo) {
  auto full = ParseTempoTraceId("0123456789ABCDEF0123456789abcdef");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>((*full)[1]), 0x23);
  // Short and odd-length ids are left-padded.
  auto short_id = ParseTempoTraceId("abc");
  ASSERT_TRUE(short_id.ok());
  EXPECT_EQ(*short_id, std::string(14, '\0') + "\x0a\xbc");
  auto bad = ParseTempoTraceId("12x4");
  EXPECT_EQ(bad.status().message(),
            "trace IDs can only contain hex characters: invalid character 'x' at position 3");
  EXPECT_EQ(ParseTempoTraceId(std::string(34, 'a')).status().message(), "trace IDs can't be larger than 128 bits");
}

TEST(SqlApiTest, ResultEncoding) {
  engine::Table t;
  t.columns = {{"n", "BIGINT", engine::Kind::kInt64}, {"d", "DOUBLE", engine::Kind::kDouble},
               {"s", "VARCHAR", engine::Kind::kString}, {"l", "LIST", engine::Kind::kJson},
               {"i", "INTEGER", engine::Kind::kInt64}};
  t.rows.push_back({int64_t{1700000000000000001}, std::nan(""), std::string("x"), engine::Json{"[1,2]"}, int64_t{7}});
  t.rows.push_back({std::monostate{}, 1.5, std::monostate{}, std::monostate{}, int64_t{-1}});
  t.truncated = true;
  auto j = nlohmann::json::parse(SqlResultJson(t));
  EXPECT_EQ(j["columns"][0]["name"], "n");
  EXPECT_EQ(j["columns"][0]["type"], "BIGINT");
  EXPECT_EQ(j["rows"][0][0], "1700000000000000001");
  EXPECT_EQ(j["rows"][0][1], "NaN");
  EXPECT_EQ(j["rows"][0][3], nlohmann::json::parse("[1,2]"));
  EXPECT_TRUE(j["rows"][1][0].is_null());
  EXPECT_EQ(j["rows"][1][1], 1.5);
  EXPECT_EQ(j["rows"][0][4], 7);  // 32-bit integers stay numbers
  EXPECT_EQ(j["truncated"], true);
}

TEST(HttpUtilTest, StatusCodes) {
  EXPECT_EQ(HttpStatusFor(absl::InvalidArgumentError("")), 400);
  EXPECT_EQ(HttpStatusFor(absl::PermissionDeniedError("")), 403);
  EXPECT_EQ(HttpStatusFor(absl::DeadlineExceededError("")), 504);
  EXPECT_EQ(HttpStatusFor(absl::UnavailableError("")), 503);
}

}  // namespace
}  // namespace signaldb::router
