#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <sstream>

#include "commands.h"
#include "http.h"
#include "output.h"
#include "views.h"

namespace signaldb::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using Json = nlohmann::ordered_json;

// ---- output ----

TEST(RenderTableTest, AlignsColumnsWithoutTrailingBlanks) {
  Table t{{"ID", "NAME"}, {{"acme", "Acme Corp"}, {"a", ""}}};
  EXPECT_EQ(RenderTable(t), "ID    NAME\nacme  Acme Corp\na\n");
}

TEST(RenderTableTest, EmptyTablePrintsHeader) {
  EXPECT_EQ(RenderTable(Table{{"ID", "SLUG"}, {}}), "ID  SLUG\n");
}

TEST(RenderTableTest, PadsShortRowsAndCutsLongOnes) {
  Table t{{"A", "B"}, {{"1"}, {"1", "2", "3"}}};
  EXPECT_EQ(RenderTable(t), "A  B\n1\n1  2\n");
}

TEST(RenderTableTest, MeasuresCodePointsAndFlattensControlCharacters) {
  Table t{{"N", "X"}, {{"\xC3\xA9t\xC3\xA9", "1"}, {"a\nb", "2"}}};  // "été" is three columns wide
  EXPECT_EQ(RenderTable(t), "N    X\n\xC3\xA9t\xC3\xA9  1\na b  2\n");
}

TEST(RenderObjectTest, FlattensNestedObjects) {
  Json o = Json::parse(
      R"({"id":"acme","limits":{"max_query_range":"24h","x":5},"storage":null,"empty":{},
                           "tags":["a","b"]})");
  EXPECT_EQ(RenderObject(o),
            "id                      acme\n"
            "limits.max_query_range  24h\n"
            "limits.x                5\n"
            "storage                 -\n"
            "empty                   -\n"
            "tags                    a, b\n");
}

TEST(FormatTest, Durations) {
  EXPECT_EQ(FormatDuration(0), "0ns");
  EXPECT_EQ(FormatDuration(850), "850ns");
  EXPECT_EQ(FormatDuration(12500), "12.5us");
  EXPECT_EQ(FormatDuration(3250000), "3.25ms");
  EXPECT_EQ(FormatDuration(5000000), "5ms");
  EXPECT_EQ(FormatDuration(1500000000), "1.5s");
  EXPECT_EQ(FormatDuration(125 * int64_t{1000000000}), "2m5s");
  EXPECT_EQ(FormatDuration(3720 * int64_t{1000000000}), "1h2m");
  EXPECT_EQ(FormatDuration(-2000), "-2us");
}

TEST(FormatTest, UnixNanos) {
  EXPECT_EQ(FormatUnixNanos(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUnixNanos(1694718625557000000), "2023-09-14T19:10:25.557Z");
  EXPECT_EQ(FormatUnixNanos(-1000000), "1969-12-31T23:59:59.999Z");
}

// ---- http ----

TEST(ExitCodeTest, FollowsTheDocumentedTable) {
  EXPECT_EQ(ExitCodeForStatus(200), kExitOk);
  EXPECT_EQ(ExitCodeForStatus(201), kExitOk);
  EXPECT_EQ(ExitCodeForStatus(204), kExitOk);
  EXPECT_EQ(ExitCodeForStatus(400), 2);
  EXPECT_EQ(ExitCodeForStatus(401), 3);
  EXPECT_EQ(ExitCodeForStatus(403), 3);
  EXPECT_EQ(ExitCodeForStatus(404), 4);
  EXPECT_EQ(ExitCodeForStatus(409), 5);
  EXPECT_EQ(ExitCodeForStatus(429), 7);
  EXPECT_EQ(ExitCodeForStatus(500), 1);
  EXPECT_EQ(ExitCodeForStatus(503), 1);
  EXPECT_EQ(ExitCodeForStatus(413), 1);
  EXPECT_EQ(ExitCodeForStatus(302), 1);
}

TEST(ParseBaseUrlTest, Forms) {
  auto u = ParseBaseUrl("http://127.0.0.1:3000");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 3000);
  EXPECT_EQ(u->path, "");

  u = ParseBaseUrl("HTTPS://db.example.com/signaldb/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/signaldb");

  u = ParseBaseUrl("http://[::1]:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);

  u = ParseBaseUrl("localhost:3000");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->port, 3000);
}

TEST(ParseBaseUrlTest, Refusals) {
  EXPECT_THAT(ParseBaseUrl("ftp://x").status().message(), HasSubstr("scheme"));
  EXPECT_THAT(ParseBaseUrl("http://x:0").status().message(), HasSubstr("port"));
  EXPECT_THAT(ParseBaseUrl("http://x:99999").status().message(), HasSubstr("port"));
  EXPECT_THAT(ParseBaseUrl("http://x:abc").status().message(), HasSubstr("port"));
  EXPECT_THAT(ParseBaseUrl("http://x:").status().message(), HasSubstr("port"));
  EXPECT_THAT(ParseBaseUrl("http://").status().message(), HasSubstr("host"));
  EXPECT_THAT(ParseBaseUrl("http://u:p@x").status().message(), HasSubstr("credentials"));
  EXPECT_THAT(ParseBaseUrl("http://x/?a=1").status().message(), HasSubstr("query"));
}

TEST(ErrorMessageTest, PrefersTheServersWords) {
  EXPECT_EQ(ErrorMessage({400, R"({"error":"bad slug","field":"slug"})", ""}),
            "bad slug (field: slug)");
  EXPECT_EQ(ErrorMessage({401, R"({"code":16,"message":"missing API key"})", ""}),
            "missing API key");
  EXPECT_EQ(ErrorMessage({400, "invalid TraceQL query: x\nmore\n", ""}),
            "invalid TraceQL query: x");
  EXPECT_EQ(ErrorMessage({404, "", ""}, "trace 1 not found"), "trace 1 not found");
  EXPECT_EQ(ErrorMessage({404, "", ""}), "HTTP 404 Not Found");
  EXPECT_EQ(ErrorMessage({500, "{}", ""}), "HTTP 500 Internal Server Error");
  EXPECT_EQ(ErrorMessage({429, R"({"error":"ingest rate"})", "3"}),
            "ingest rate (retry after 3 s)");
}

// ---- views ----

TEST(IdToHexTest, Base64AndHex) {
  EXPECT_EQ(IdToHex("7uGbfsPBsQA="), "eee19b7ec3c1b100");
  EXPECT_EQ(IdToHex("W47/95gDgQPSabYzgT/HAA=="), "5b8efff798038103d269b633813fc700");
  EXPECT_EQ(IdToHex("EEE19B7EC3C1B100"), "eee19b7ec3c1b100");
  EXPECT_EQ(IdToHex("not base64!"), std::nullopt);
}

TEST(ViewsTest, Tenants) {
  Json body = Json::parse(
      R"({"tenants":[{"id":"acme","slug":"acme","name":"Acme Corp","default_dataset":"prod",
    "limits":{"ingest_records_per_second":"5000"},"source":"database","created_at":"2026-11-22T10:00:00.000Z"}]})");
  Table t = TenantsTable(body);
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_THAT(t.rows[0], ElementsAre("acme", "acme", "Acme Corp", "prod", "database",
                                     "ingest_records_per_second=5000", "2026-11-22T10:00:00.000Z"));
  EXPECT_TRUE(TenantsTable(Json::parse(R"({"tenants":"oops"})")).rows.empty());
}

TEST(ViewsTest, ApiKeysAndDatasets) {
  Table keys = ApiKeysTable(Json::parse(
      R"({"api_keys":[{"id":"k1","name":"ci","tenant_id":"acme","created_at":"t0","revoked_at":null,"source":"database"}]})"));
  EXPECT_THAT(keys.rows[0], ElementsAre("k1", "ci", "acme", "t0", "-", "database"));
  Table ds = DatasetsTable(Json::parse(R"({"datasets":[
    {"id":"prod","slug":"prod","name":"Prod","tenant_id":"acme","is_default":true,"storage":null,"source":"config"},
    {"id":"cold","slug":"cold","is_default":false,"storage":{"dsn":"s3://b/p"}}]})"));
  EXPECT_THAT(ds.rows[0], ElementsAre("prod", "prod", "Prod", "yes", "-", "config", "-"));
  EXPECT_THAT(ds.rows[1], ElementsAre("cold", "cold", "-", "no", "s3://b/p", "-", "-"));
}

TEST(ViewsTest, Sql) {
  Table t = SqlTable(
      Json::parse(R"({"columns":[{"name":"svc","type":"VARCHAR"},{"name":"n","type":"BIGINT"},
    {"name":"x","type":"DOUBLE"},{"name":"m","type":"MAP"}],"rows":[["api","12",1.5,{"a":1}],[null,"0",null,null]]})"));
  EXPECT_THAT(t.header, ElementsAre("svc", "n", "x", "m"));
  EXPECT_THAT(t.rows[0], ElementsAre("api", "12", "1.5", R"({"a":1})"));
  EXPECT_THAT(t.rows[1], ElementsAre("NULL", "0", "NULL", "NULL"));
}

TEST(ViewsTest, Search) {
  Table t = SearchTable(Json::parse(R"({"traces":[
    {"traceID":"5b8efff798038103d269b633813fc700","rootServiceName":"api","rootTraceName":"GET /",
     "startTimeUnixNano":"1694718625557000000","durationMs":1250},
    {"traceID":"ab","rootServiceName":"<root span not yet received>","startTimeUnixNano":"1694718625000000000"}],
    "metrics":{}})"));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_THAT(t.rows[0], ElementsAre("5b8efff798038103d269b633813fc700", "api", "GET /",
                                     "2023-09-14T19:10:25.557Z", "1.25s"));
  EXPECT_THAT(t.rows[1], ElementsAre("ab", "<root span not yet received>", "-",
                                     "2023-09-14T19:10:25.000Z", "<1ms"));
  EXPECT_TRUE(SearchTable(Json::parse(R"({"metrics":{"inspectedBytes":"1"}})")).rows.empty());
}

TEST(ViewsTest, TraceInTreeOrder) {
  // Child listed before its parent, in another batch; ids base64 as Tempo sends them.
  Json body = Json::parse(R"({"batches":[
    {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"db"}}]},
     "scopeSpans":[{"spans":[{"spanId":"AAAAAAAAAAI=","parentSpanId":"AAAAAAAAAAE=","name":"query",
       "startTimeUnixNano":"2000","endTimeUnixNano":"5000","status":{"code":"STATUS_CODE_ERROR","message":"boom"}}]}]},
    {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
     "scopeSpans":[{"spans":[
       {"spanId":"AAAAAAAAAAE=","name":"GET /","startTimeUnixNano":"1000","endTimeUnixNano":"9000","status":{}},
       {"spanId":"AAAAAAAAAAM=","parentSpanId":"AAAAAAAAAAE=","name":"render","startTimeUnixNano":"6000",
        "endTimeUnixNano":"7000","status":{"code":"STATUS_CODE_OK"}},
       {"spanId":"AAAAAAAAAAQ=","parentSpanId":"AAAAAAAAAAk=","name":"orphan","startTimeUnixNano":"500",
        "endTimeUnixNano":"600"}]}]}]})");
  Table t = TraceTable(body);
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_THAT(t.header,
              ElementsAre("SERVICE", "NAME", "SPAN ID", "PARENT", "START", "DURATION", "STATUS"));
  EXPECT_THAT(t.rows[0], ElementsAre("api", "orphan", "0000000000000004", "0000000000000009",
                                     "1970-01-01T00:00:00.000Z", "100ns", "unset"));
  EXPECT_THAT(t.rows[1], ElementsAre("api", "GET /", "0000000000000001", "-",
                                     "1970-01-01T00:00:00.000Z", "8us", "unset"));
  EXPECT_THAT(t.rows[2], ElementsAre("db", "  query", "0000000000000002", "0000000000000001",
                                     "1970-01-01T00:00:00.000Z", "3us", "error: boom"));
  EXPECT_EQ(t.rows[3][1], "  render");
  EXPECT_EQ(t.rows[3][6], "ok");
  // The v2 wrapper reads the same.
  EXPECT_EQ(TraceTable(Json{{"trace", {{"resourceSpans", body["batches"]}}}}).rows.size(), 4u);
}

TEST(ViewsTest, TraceWithAParentCycleListsEverySpanOnce) {
  Json body = Json::parse(R"({"batches":[{"scopeSpans":[{"spans":[
    {"spanId":"0000000000000001","parentSpanId":"0000000000000002","name":"a"},
    {"spanId":"0000000000000002","parentSpanId":"0000000000000001","name":"b"}]}]}]})");
  EXPECT_EQ(TraceTable(body).rows.size(), 2u);
}

// ---- argument values ----

TEST(ArgsTest, LimitAssignments) {
  auto l = ParseLimitAssignments(
      {"ingest_records_per_second=5000", "max_query_range=24h", "on_limit=truncate"}, false);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->dump(),
            R"({"ingest_records_per_second":5000,"max_query_range":"24h","on_limit":"truncate"})");
  EXPECT_FALSE(ParseLimitAssignments({"noequals"}, false).ok());
  EXPECT_FALSE(ParseLimitAssignments({"=5"}, false).ok());
  EXPECT_FALSE(ParseLimitAssignments({"x="}, false).ok());
  auto removal = ParseLimitAssignments({"x="}, true);
  ASSERT_TRUE(removal.ok());
  EXPECT_EQ(removal->dump(), R"({"x":null})");
}

TEST(ArgsTest, Times) {
  const int64_t now = 1800000000;
  EXPECT_EQ(*ParseTimeArg("1732269600", now), 1732269600);
  EXPECT_EQ(*ParseTimeArg("now", now), now);
  EXPECT_EQ(*ParseTimeArg("1h", now), now - 3600);
  EXPECT_EQ(*ParseTimeArg("1h30m", now), now - 5400);
  EXPECT_EQ(*ParseTimeArg("7d", now), now - 7 * 86400);
  EXPECT_EQ(*ParseTimeArg("2024-11-22T10:00:00Z", now), 1732269600);
  EXPECT_EQ(*ParseTimeArg("2024-11-22T10:00:00.999Z", now), 1732269600);
  EXPECT_EQ(*ParseTimeArg("2024-11-22T12:00:00+02:00", now), 1732269600);
  EXPECT_EQ(*ParseTimeArg("2024-11-22", now), 1732233600);
  for (const char* bad : {"", "yesterday", "1x", "2024-13-01", "2024-11-22T10:00", "h", "-5"}) {
    EXPECT_FALSE(ParseTimeArg(bad, now).ok()) << bad;
  }
}

// ---- commands against a fake server ----

class FakeHttp : public HttpClient {
 public:
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    requests.push_back(request);
    if (answers.empty()) return absl::InternalError("no answer queued");
    auto next = answers.front();
    answers.pop_front();
    return next;
  }
  std::vector<HttpRequest> requests;
  std::deque<absl::StatusOr<HttpResponse>> answers;
};

std::string Header(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

class CommandsTest : public ::testing::Test {
 protected:
  Commands Make(OutputFormat output = OutputFormat::kTable) {
    Globals g;
    g.admin_key = "adm";
    g.api_key = "sdb_k";
    g.tenant = "acme";
    g.output = output;
    return Commands(g, &http_, out_, err_);
  }
  FakeHttp http_;
  std::ostringstream out_, err_;
};

TEST_F(CommandsTest, TenantCreateSendsTheBodyWithTheAdminKey) {
  http_.answers.push_back(HttpResponse{201, R"({"id":"acme","slug":"acme","limits":{"x":5}})", ""});
  TenantCreateArgs args{"acme", "", "Acme", "", {"x=5"}};
  EXPECT_EQ(Make().TenantCreate(args), 0);
  ASSERT_EQ(http_.requests.size(), 1u);
  const HttpRequest& r = http_.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/api/v1/admin/tenants");
  EXPECT_EQ(r.body, R"({"slug":"acme","name":"Acme","limits":{"x":5}})");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(Header(r, "Authorization"), "Bearer adm");
  EXPECT_EQ(Header(r, "X-Tenant-ID"), "<absent>");  // admin calls name the tenant in the path
  EXPECT_EQ(out_.str(), "id        acme\nslug      acme\nlimits.x  5\n");
}

TEST_F(CommandsTest, ErrorsMapToExitCodesWithTheServersMessage) {
  http_.answers.push_back(HttpResponse{409, R"({"error":"tenant acme exists"})", ""});
  EXPECT_EQ(Make().TenantCreate({"acme", "", "", "", {}}), kExitConflict);
  EXPECT_EQ(err_.str(), "error: tenant acme exists\n");
  EXPECT_EQ(out_.str(), "");

  err_.str("");
  http_.answers.push_back(absl::UnavailableError("cannot connect to http://127.0.0.1:1"));
  EXPECT_EQ(Make().TenantList(), kExitConnect);
  EXPECT_THAT(err_.str(), HasSubstr("cannot connect"));

  err_.str("");
  http_.answers.push_back(HttpResponse{404, "", ""});
  EXPECT_EQ(Make().TenantGet("nope"), kExitNotFound);
  EXPECT_EQ(err_.str(), "error: tenant nope not found\n");

  http_.answers.push_back(HttpResponse{200, "<html>", ""});
  EXPECT_EQ(Make().TenantList(), kExitFailure);
}

TEST_F(CommandsTest, MissingKeyGetsAHint) {
  Commands c(Globals{}, &http_, out_, err_);
  http_.answers.push_back(HttpResponse{401, R"({"error":"missing admin key"})", ""});
  EXPECT_EQ(c.TenantList(), kExitAuth);
  EXPECT_EQ(Header(http_.requests[0], "Authorization"), "<absent>");
  EXPECT_THAT(err_.str(), HasSubstr("SIGNALDB_ADMIN_KEY"));
}

TEST_F(CommandsTest, PathSegmentsAreEncoded) {
  http_.answers.push_back(HttpResponse{204, "", ""});
  EXPECT_EQ(Make().DatasetDelete("a/../b", "x y"), 0);
  EXPECT_EQ(http_.requests[0].method, "DELETE");
  EXPECT_EQ(http_.requests[0].target, "/api/v1/admin/tenants/a%2F..%2Fb/datasets/x%20y");
}

TEST_F(CommandsTest, TenantUpdateMergesLimitsIntoTheCurrentOnes) {
  http_.answers.push_back(HttpResponse{200, R"({"id":"acme","limits":{"a":"1","b":"2"}})", ""});
  http_.answers.push_back(HttpResponse{200, R"({"id":"acme"})", ""});
  TenantUpdateArgs args;
  args.tenant = "acme";
  args.set_name = true;
  args.name = "New";
  args.limits = {"b=", "c=24h"};
  EXPECT_EQ(Make().TenantUpdate(args), 0);
  ASSERT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(http_.requests[0].method, "GET");
  EXPECT_EQ(http_.requests[1].method, "PUT");
  EXPECT_EQ(http_.requests[1].target, "/api/v1/admin/tenants/acme");
  EXPECT_EQ(http_.requests[1].body, R"({"name":"New","limits":{"a":"1","c":"24h"}})");
}

TEST_F(CommandsTest, TenantUpdateClearAndNothing) {
  http_.answers.push_back(HttpResponse{200, "{}", ""});
  TenantUpdateArgs clear;
  clear.tenant = "acme";
  clear.clear_limits = true;
  EXPECT_EQ(Make().TenantUpdate(clear), 0);
  EXPECT_EQ(http_.requests[0].body, R"({"limits":{}})");

  TenantUpdateArgs nothing;
  nothing.tenant = "acme";
  EXPECT_EQ(Make().TenantUpdate(nothing), kExitUsage);
  EXPECT_EQ(http_.requests.size(), 1u);
}

TEST_F(CommandsTest, ApiKeyCreateShowsTheKeyOnce) {
  const char* answer =
      R"({"id":"k1","name":"ci","tenant_id":"acme","key":"sdb_SECRET","created_at":"t"})";
  http_.answers.push_back(HttpResponse{201, answer, ""});
  EXPECT_EQ(Make().ApiKeyCreate("acme", "ci"), 0);
  EXPECT_EQ(http_.requests[0].target, "/api/v1/admin/tenants/acme/api-keys");
  EXPECT_EQ(http_.requests[0].body, R"({"name":"ci"})");
  EXPECT_THAT(out_.str(), HasSubstr("\n    sdb_SECRET\n"));
  EXPECT_THAT(out_.str(), HasSubstr("will not be shown again"));

  out_.str("");
  http_.answers.push_back(HttpResponse{201, answer, ""});
  EXPECT_EQ(Make(OutputFormat::kJson).ApiKeyCreate("acme", "ci"), 0);
  EXPECT_EQ(Json::parse(out_.str())["key"], "sdb_SECRET");  // stdout stays pure JSON
}

TEST_F(CommandsTest, QueriesCarryTheApiKeyAndTenantHeaders) {
  http_.answers.push_back(
      HttpResponse{200, R"({"columns":[{"name":"n","type":"BIGINT"}],"rows":[["3"]]})", ""});
  EXPECT_EQ(Make().QuerySql("SELECT count(*) AS n FROM traces"), 0);
  const HttpRequest& r = http_.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/api/v1/sql");
  EXPECT_EQ(Json::parse(r.body)["query"], "SELECT count(*) AS n FROM traces");
  EXPECT_EQ(Header(r, "Authorization"), "Bearer sdb_k");
  EXPECT_EQ(Header(r, "X-Tenant-ID"), "acme");
  EXPECT_EQ(Header(r, "X-Dataset-ID"), "<absent>");
  EXPECT_EQ(out_.str(), "n\n3\n");
}

TEST_F(CommandsTest, SqlTruncationIsNoted) {
  http_.answers.push_back(HttpResponse{
      200, R"({"columns":[{"name":"n"}],"rows":[["1"]],"truncated":true,"next_offset":1})", ""});
  EXPECT_EQ(Make().QuerySql("SELECT 1"), 0);
  EXPECT_THAT(err_.str(), HasSubstr("offset 1"));
}

TEST_F(CommandsTest, TraceqlBuildsTempoSearchParameters) {
  http_.answers.push_back(HttpResponse{200, R"({"metrics":{}})", ""});
  TraceqlArgs args{"{ name = \"a b\" }", "1h", "", 5};
  EXPECT_EQ(Make().QueryTraceql(args, 1800000000), 0);
  EXPECT_EQ(
      http_.requests[0].target,
      "/tempo/api/"
      "search?q=%7B%20name%20%3D%20%22a%20b%22%20%7D&start=1799996400&end=1800000001&limit=5");
  EXPECT_EQ(out_.str(), "TRACE ID  ROOT SERVICE  ROOT NAME  START  DURATION\n");

  TraceqlArgs bad{"{ }", "yesterday", "", 0};
  EXPECT_EQ(Make().QueryTraceql(bad, 1800000000), kExitUsage);
  EXPECT_EQ(http_.requests.size(), 1u);
}

TEST_F(CommandsTest, TraceGetAsksForJsonAndExplainsAMiss) {
  http_.answers.push_back(HttpResponse{404, "", ""});
  EXPECT_EQ(Make().TraceGet("0a0a"), kExitNotFound);
  EXPECT_EQ(http_.requests[0].target, "/tempo/api/traces/0a0a");
  EXPECT_EQ(Header(http_.requests[0], "Accept"), "application/json");
  EXPECT_EQ(err_.str(), "error: trace 0a0a not found\n");
}

TEST_F(CommandsTest, JsonOutputIsTheServersObject) {
  http_.answers.push_back(HttpResponse{200, R"({"tenants":[{"id":"b","slug":"b"}]})", ""});
  EXPECT_EQ(Make(OutputFormat::kJson).TenantList(), 0);
  EXPECT_EQ(Json::parse(out_.str()), Json::parse(R"({"tenants":[{"id":"b","slug":"b"}]})"));
}

}  // namespace
}  // namespace signaldb::cli
