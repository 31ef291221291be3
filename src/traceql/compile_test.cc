// TraceQL conditions compiled to SQL and run by DuckDB over a small crafted
// traces table; every expected answer is derived by hand from the rows
// below, independently of the compiler.
#include "traceql/compile.h"

#include <unistd.h>

#include <filesystem>

#include "common/strings.h"
#include "gtest/gtest.h"
#include "schema/tables.h"
#include "traceql/parser.h"
#include "traceql/validate.h"

namespace signaldb::traceql {
namespace {

namespace fs = std::filesystem;

// Three traces:
//   t1 (checkout): s1 GET /a (root, server, error, 150 ms) -> s3 db (internal, unset, 5 ms)
//   t2 (cart):     s2 POST /b (root, client, ok, 50 ms)
//   t3 (search):   s4 GET /c (root, server, error, 2 s)
// Attributes: see the INSERT; note s3's http.status_code is the *string* "500".
constexpr const char* kRows = R"sql(
INSERT INTO traces (trace_id, span_id, parent_span_id, span_name, service_name, start_time_unix_nano,
  end_time_unix_nano, duration_nanos, span_kind_number, status_code_number, status_message, is_root,
  resource_attributes, scope_attributes, scope_name, span_attributes_other, span_attributes_string,
  span_attributes_int, span_attributes_double, span_attributes_bool) VALUES
('00000000000000000000000000000001', '0000000000000001', NULL, 'GET /a', 'checkout',
  1000000000, 1150000000, 150000000, 2, 2, 'boom', true,
  '[{"key":"service.name","value":{"stringValue":"checkout"}},{"key":"k8s.ns","value":{"stringValue":"prod"}}]',
  '[]', 'http', '[]',
  MAP {'http.method': 'GET', 'path': '/a'}, MAP {'http.status_code': 500}, MAP {'ratio': 0.5},
  MAP {'cache.hit': true}),
('00000000000000000000000000000002', '0000000000000002', NULL, 'POST /b', 'cart',
  2000000000, 2050000000, 50000000, 3, 1, NULL, true,
  '[{"key":"service.name","value":{"stringValue":"cart"}},{"key":"k8s.ns","value":{"stringValue":"dev"}}]',
  '[{"key":"lib.flag","value":{"boolValue":true}}]', 'grpc', '[]',
  MAP {'http.method': 'POST'}, MAP {'http.status_code': 200}, MAP {'ratio': 1.5}, MAP {'cache.hit': false}),
('00000000000000000000000000000001', '0000000000000003', '0000000000000001', 'db', 'checkout',
  1010000000, 1015000000, 5000000, 1, 0, NULL, false,
  '[{"key":"service.name","value":{"stringValue":"checkout"}},{"key":"k8s.ns","value":{"stringValue":"prod"}}]',
  '[]', 'sql', '[{"key":"raw","value":{"bytesValue":"AA=="}}]',
  MAP {'db.system': 'pg', 'http.status_code': '500'}, MAP {}, MAP {}, MAP {}),
('00000000000000000000000000000003', '0000000000000004', NULL, 'GET /c', 'search',
  3000000000, 5000000000, 2000000000, 2, 2, NULL, true,
  '[{"key":"service.name","value":{"stringValue":"search"}},{"key":"k8s.ns","value":{"stringValue":"prod"}},{"key":"retries","value":{"intValue":"3"}}]',
  '[]', 'http', '[]',
  MAP {'http.method': 'GET'}, MAP {'http.status_code': 503}, MAP {}, MAP {})
)sql";

class CompileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sdb_traceql_compile_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto db = engine::Database::Open({.allowed_dir = dir_.string(), .temp_dir = dir_.string()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    std::vector<std::string> cols;
    for (const auto& c : schema::Traces().columns) cols.push_back(StrCat(c.name, " ", columnar::SqlType(c.type)));
    ASSERT_TRUE(conn_->Execute(StrCat("CREATE TABLE traces (", Join(cols, ", "), ")")).ok());
    auto st = conn_->Execute(kRows);
    ASSERT_TRUE(st.ok()) << st;
  }
  void TearDown() override {
    conn_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  // The span ids (last digit) whose rows match the query's single filter.
  std::string Match(const std::string& query) {
    auto q = Parse(query);
    EXPECT_TRUE(q.ok()) << query << ": " << q.status();
    if (!q.ok()) return "parse error";
    EXPECT_TRUE(Validate(*q).ok()) << query << ": " << Validate(*q);
    const Spanset& s = *q->pipeline->stages[0].spanset;
    SqlBuilder sql;
    TraceColumns needs;
    auto cond = CompileCondition(s.filter.get(), &sql, &needs);
    if (!cond.ok()) return std::string(cond.status().message());
    auto t = conn_->Query(StrCat("SELECT right(span_id, 1) FROM ", WithTraceColumns("traces", needs), " WHERE ",
                                 *cond, " ORDER BY span_id"),
                          sql.params());
    EXPECT_TRUE(t.ok()) << query << ": " << t.status() << "\n" << *cond;
    if (!t.ok()) return "sql error";
    std::string out;
    for (const auto& row : t->rows) out += std::get<std::string>(row[0]);
    return out;
  }

  fs::path dir_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
};

TEST_F(CompileTest, TypedAttributeComparisons) {
  EXPECT_EQ(Match("{ span.http.method = \"GET\" }"), "14");
  EXPECT_EQ(Match("{ .http.method = \"GET\" }"), "14");
  EXPECT_EQ(Match("{ span.http.method != \"GET\" }"), "2");  // s3 has no http.method
  EXPECT_EQ(Match("{ span.http.status_code >= 500 }"), "14");  // s3's "500" is a string
  EXPECT_EQ(Match("{ span.http.status_code = \"500\" }"), "3");
  EXPECT_EQ(Match("{ .http.status_code != 500 }"), "24");
  EXPECT_EQ(Match("{ 500 <= span.http.status_code }"), "14");
  EXPECT_EQ(Match("{ .ratio > 1 }"), "2");
  EXPECT_EQ(Match("{ .ratio > 0.25 }"), "12");
  EXPECT_EQ(Match("{ .ratio * 2 = 1 }"), "1");
  EXPECT_EQ(Match("{ span.http.status_code / 100 = 5 }"), "1");
  EXPECT_EQ(Match("{ .cache.hit }"), "1");
  EXPECT_EQ(Match("{ .cache.hit = false }"), "2");
  EXPECT_EQ(Match("{ !(.cache.hit = true) }"), "234");
}

TEST_F(CompileTest, ResourceAndScopeAttributes) {
  EXPECT_EQ(Match("{ resource.service.name = \"checkout\" }"), "13");
  EXPECT_EQ(Match("{ resource.k8s.ns = \"prod\" }"), "134");
  EXPECT_EQ(Match("{ .k8s.ns = \"dev\" }"), "2");
  EXPECT_EQ(Match("{ resource.retries > 2 }"), "4");
  EXPECT_EQ(Match("{ .retries = 3 }"), "4");
  EXPECT_EQ(Match("{ resource.service.name =~ \"c.*\" }"), "123");
  EXPECT_EQ(Match("{ instrumentation.lib.flag = true }"), "2");
}

TEST_F(CompileTest, Existence) {
  EXPECT_EQ(Match("{ span.db.system = nil }"), "124");
  EXPECT_EQ(Match("{ span.db.system != nil }"), "3");
  EXPECT_EQ(Match("{ span.raw != nil }"), "3");  // a bytes value, kept as OTLP JSON
  EXPECT_EQ(Match("{ .retries != nil }"), "4");  // unscoped: the resource has it
  EXPECT_EQ(Match("{ resource.retries = nil }"), "123");
}

TEST_F(CompileTest, Intrinsics) {
  EXPECT_EQ(Match("{ duration > 100ms }"), "14");
  EXPECT_EQ(Match("{ span:duration <= 50ms }"), "23");
  EXPECT_EQ(Match("{ status = error }"), "14");
  EXPECT_EQ(Match("{ status != error }"), "23");
  EXPECT_EQ(Match("{ span:status = ok }"), "2");
  EXPECT_EQ(Match("{ kind = client }"), "2");
  EXPECT_EQ(Match("{ kind = server && status = error }"), "14");
  EXPECT_EQ(Match("{ name =~ \"GET.*\" }"), "14");
  EXPECT_EQ(Match("{ name !~ \"GET.*\" }"), "23");
  EXPECT_EQ(Match("{ name =~ \"GET\" }"), "");  // anchored
  EXPECT_EQ(Match("{ statusMessage = \"boom\" }"), "1");
  EXPECT_EQ(Match("{ statusMessage = \"\" }"), "234");
  EXPECT_EQ(Match("{ span:id = \"0000000000000002\" }"), "2");
  EXPECT_EQ(Match("{ trace:id = \"00000000000000000000000000000001\" }"), "13");
  EXPECT_EQ(Match("{ span:parentID = \"0000000000000001\" }"), "3");
  EXPECT_EQ(Match("{ instrumentation:name = \"sql\" }"), "3");
  EXPECT_EQ(Match("{ rootServiceName = \"checkout\" }"), "13");
  EXPECT_EQ(Match("{ trace:rootName = \"GET /c\" }"), "4");
  EXPECT_EQ(Match("{ traceDuration > 1s }"), "4");
  EXPECT_EQ(Match("{ traceDuration >= 150ms && duration < 10ms }"), "3");
}

TEST_F(CompileTest, LogicAndStatics) {
  EXPECT_EQ(Match("{ span.http.method = \"GET\" && duration > 1s }"), "4");
  EXPECT_EQ(Match("{ span.http.method = \"POST\" || status = unset }"), "23");
  EXPECT_EQ(Match("{ !(status = error) && .ratio != nil }"), "2");
  EXPECT_EQ(Match("{ true }"), "1234");
  EXPECT_EQ(Match("{ }"), "1234");
  EXPECT_EQ(Match("{ 1 = 2 }"), "");
  EXPECT_EQ(Match("{ 1 + 1 = 2 && name = \"db\" }"), "3");
}

TEST_F(CompileTest, UserValuesAreNeverSpliced) {
  EXPECT_EQ(Match("{ span.http.method = \"x' OR 1=1 --\" }"), "");
  EXPECT_EQ(Match("{ span.\"a'b\\\"]\" = \"1\" }"), "");
  EXPECT_EQ(Match("{ name =~ \"'.*\" }"), "");
  SqlBuilder sql;
  TraceColumns needs;
  auto q = Parse("{ span.\"k'ey\" = \"v'al\" && .x =~ \"re'x\" }");
  ASSERT_TRUE(q.ok());
  auto cond = CompileCondition(q->pipeline->stages[0].spanset->filter.get(), &sql, &needs);
  ASSERT_TRUE(cond.ok());
  // The only quotes in the SQL are our own literals: JSON paths and '%.17g'.
  EXPECT_EQ(cond->find("k'ey"), std::string::npos);
  EXPECT_EQ(cond->find("v'al"), std::string::npos);
  EXPECT_EQ(cond->find("re'x"), std::string::npos);
}

// A span written before schema v3: no typed maps, every attribute in
// span_attributes_other. Conditions read it there.
TEST_F(CompileTest, SpansWrittenBeforeTypedMaps) {
  ASSERT_TRUE(conn_->Execute(R"sql(
INSERT INTO traces (trace_id, span_id, span_name, service_name, start_time_unix_nano, end_time_unix_nano,
  duration_nanos, span_kind_number, status_code_number, is_root, resource_attributes, scope_attributes,
  span_attributes_other) VALUES
('00000000000000000000000000000004', '0000000000000005', 'legacy', 'old', 6000000000, 6000000100, 100, 2, 0, true,
  '[]', '[]', '[{"key":"http.method","value":{"stringValue":"GET"}},{"key":"http.status_code","value":{"intValue":"404"}},{"key":"ratio","value":{"doubleValue":2.5}},{"key":"cache.hit","value":{"boolValue":true}}]')
)sql").ok());
  EXPECT_EQ(Match("{ span.http.method = \"GET\" }"), "145");
  EXPECT_EQ(Match("{ span.http.status_code = 404 }"), "5");
  EXPECT_EQ(Match("{ .ratio > 2 }"), "5");
  EXPECT_EQ(Match("{ .cache.hit }"), "15");
  EXPECT_EQ(Match("{ span.http.method != nil }"), "1245");
  // Values shown on spans read the same places: the legacy JSON, the maps,
  // the resource (unscoped: the span's own attribute first).
  auto shown = [&](AttributeRef ref, const std::string& span) {
    SqlBuilder sql;
    auto cols = AttributeValueColumns(ref, &sql);
    const std::string id = sql.Bind(span);
    auto t = conn_->Query(StrCat("SELECT ", Join(cols, ", "), " FROM traces WHERE span_id = ", id), sql.params());
    EXPECT_TRUE(t.ok()) << t.status();
    std::string out;
    for (const auto& v : t->rows.at(0)) {
      if (auto* str = std::get_if<std::string>(&v)) out += *str;
      else if (auto* b = std::get_if<bool>(&v)) out += *b ? "true" : "false";
      out += "|";
    }
    return out;
  };
  EXPECT_EQ(shown({Scope::kSpan, "http.status_code"}, "0000000000000005"), "|404|||");
  EXPECT_EQ(shown({Scope::kSpan, "http.status_code"}, "0000000000000003"), "500||||");
  EXPECT_EQ(shown({Scope::kNone, "ratio"}, "0000000000000005"), "||2.5||");
  EXPECT_EQ(shown({Scope::kResource, "service.name"}, "0000000000000004"), "search||||");
  EXPECT_EQ(shown({Scope::kNone, "retries"}, "0000000000000004"), "|3|||");
}

// Events and links: a condition holds for a span when it holds for one of
// its events (links). s1: an exception 100 ms in (exception.type Timeout)
// and a retry 1 ms in (attempt 2); s3: a retry 2 ms in (attempt 1); s2 links
// to s1 (link.kind follows).
TEST_F(CompileTest, EventsAndLinks) {
  ASSERT_TRUE(conn_->Execute(R"sql(
    UPDATE traces SET events = '[]', links = '[]';
    UPDATE traces SET events = '[{"timeUnixNano":"1100000000","name":"exception","attributes":[{"key":"exception.type","value":{"stringValue":"Timeout"}}]},{"timeUnixNano":"1001000000","name":"retry","attributes":[{"key":"attempt","value":{"intValue":"2"}}]}]' WHERE span_id = '0000000000000001';
    UPDATE traces SET events = '[{"timeUnixNano":"1012000000","name":"retry","attributes":[{"key":"attempt","value":{"intValue":"1"}}]}]' WHERE span_id = '0000000000000003';
    UPDATE traces SET links = '[{"traceId":"00000000000000000000000000000001","spanId":"0000000000000001","attributes":[{"key":"link.kind","value":{"stringValue":"follows"}}]}]' WHERE span_id = '0000000000000002';
  )sql").ok());
  EXPECT_EQ(Match("{ event:name = \"exception\" }"), "1");
  EXPECT_EQ(Match("{ event:name = \"retry\" }"), "13");
  EXPECT_EQ(Match("{ event.attempt > 1 }"), "1");
  EXPECT_EQ(Match("{ event.attempt = 1 }"), "3");
  EXPECT_EQ(Match("{ event.attempt != nil }"), "13");
  EXPECT_EQ(Match("{ event.attempt = nil }"), "24");  // no event with it: s2, s4 have no events
  EXPECT_EQ(Match("{ event.exception.type =~ \"Time.*\" && status = error }"), "1");
  EXPECT_EQ(Match("{ event:timeSinceStart > 50ms }"), "1");
  EXPECT_EQ(Match("{ event:timeSinceStart <= 2ms && event:name = \"retry\" }"), "13");
  EXPECT_EQ(Match("{ event.attempt = 1 && event.attempt = 2 }"), "");
  EXPECT_EQ(Match("{ link:traceID = \"00000000000000000000000000000001\" }"), "2");
  EXPECT_EQ(Match("{ link.link.kind = \"follows\" }"), "2");
  EXPECT_EQ(Match("{ link:spanID = \"0000000000000001\" || event:name = \"exception\" }"), "12");
  EXPECT_NE(Match("{ event:name = link:spanID }").find("both a span's events and its links"), std::string::npos);
  // As a value (by(), select(), aggregates, metrics): the first event's.
  auto value = [&](const std::string& field) {
    auto q = Parse("{ } | by(" + field + ")");
    EXPECT_TRUE(q.ok()) << q.status();
    SqlBuilder sql;
    TraceColumns needs;
    auto cols = CompileValueColumns(*q->pipeline->stages[1].fields[0], &sql, &needs);
    EXPECT_TRUE(cols.ok()) << cols.status();
    if (!cols.ok()) return std::string("error");
    auto t = conn_->Query(StrCat("SELECT right(span_id, 1) || ':' || coalesce(", (*cols)[0], ", ", (*cols)[1], ", ",
                                 (*cols)[2], ", CAST(", (*cols)[3], " AS VARCHAR), '-') FROM traces ORDER BY span_id"),
                          sql.params());
    EXPECT_TRUE(t.ok()) << t.status();
    std::string out;
    for (const auto& row : t->rows) out += std::get<std::string>(row[0]) + " ";
    return out;
  };
  EXPECT_EQ(value("event:name"), "1:exception 2:- 3:retry 4:- ");
  EXPECT_EQ(value("event.exception.type"), "1:Timeout 2:- 3:- 4:- ");
  EXPECT_EQ(value("link:spanID"), "1:- 2:0000000000000001 3:- 4:- ");
  EXPECT_EQ(value("event.attempt"), "1:- 2:- 3:1 4:- ");  // s1's first event is the exception
  EXPECT_EQ(value("link.link.kind"), "1:- 2:follows 3:- 4:- ");
}

// Values from other spans of the trace: s1 has one child (s3); s3's parent
// is s1 (GET, status code 500, checkout).
TEST_F(CompileTest, ChildCountAndParentAttributes) {
  EXPECT_EQ(Match("{ childCount = 1 }"), "1");
  EXPECT_EQ(Match("{ span:childCount = 0 }"), "234");
  EXPECT_EQ(Match("{ span:childCount > 0 && status = error }"), "1");
  EXPECT_EQ(Match("{ parent.span.http.method = \"GET\" }"), "3");
  EXPECT_EQ(Match("{ parent.resource.service.name = \"checkout\" }"), "3");
  EXPECT_EQ(Match("{ parent.resource.k8s.ns = \"prod\" && name = \"db\" }"), "3");
  EXPECT_EQ(Match("{ parent.http.status_code = 500 }"), "3");
  EXPECT_EQ(Match("{ parent.http.method = nil }"), "124");
  EXPECT_EQ(Match("{ parent.span.http.method = span.http.method }"), "");
}

// Tempo's nested set model: t1 is s1 [1, 4] > s3 [2, 3]; s2 and s4 are
// lone roots [1, 2]; a root's parent is -1, s3's is s1's left bound.
TEST_F(CompileTest, NestedSetModel) {
  EXPECT_EQ(Match("{ nestedSetLeft = 1 }"), "124");
  EXPECT_EQ(Match("{ nestedSetRight = 4 }"), "1");
  EXPECT_EQ(Match("{ nestedSetLeft = 2 && nestedSetRight = 3 }"), "3");
  EXPECT_EQ(Match("{ nestedSetParent = -1 }"), "124");
  EXPECT_EQ(Match("{ nestedSetParent = 1 && name = \"db\" }"), "3");
  EXPECT_EQ(Match("{ nestedSetRight - nestedSetLeft = 1 }"), "234");
}

}  // namespace
}  // namespace signaldb::traceql

namespace signaldb::traceql {
namespace {

// The kinds each attribute can match as decide which of its maps are read
// to show it (strings for ="x", ints and doubles for numbers, ...).
TEST(ReferencedAttributesTest, KindsFollowTheComparedValues) {
  auto kinds = [](const std::string& query) {
    auto q = Parse(query);
    EXPECT_TRUE(q.ok()) << q.status();
    std::string out;
    for (const auto& r : ReferencedAttributes(q->pipeline->stages[0].spanset->filter.get())) {
      out += r.name + ":" + std::to_string(r.kinds) + " ";
    }
    return out;
  };
  EXPECT_EQ(kinds("{ span.a >= 500 && .b = \"x\" }"), "a:6 b:1 ");
  EXPECT_EQ(kinds("{ span.a = true || 1.5 < span.b }"), "a:8 b:6 ");
  EXPECT_EQ(kinds("{ span.a > 1 || span.a =~ \"x.*\" }"), "a:7 ");
  EXPECT_EQ(kinds("{ span.a = nil && span.b + 1 > 2 && span.c = span.d }"), "a:15 b:15 c:15 d:15 ");
  EXPECT_EQ(kinds("{ span.a > 1s }"), "a:6 ");
}

}  // namespace
}  // namespace signaldb::traceql
