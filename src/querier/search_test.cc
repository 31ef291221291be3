// TraceQL search through the querier, over spans written by the writer in
// several requests and files. Expected answers are worked out by hand from
// the three traces of test_traces.h.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/hex.h"
#include "common/strings.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "querier/querier.h"
#include "querier/test_traces.h"
#include "traceql/parser.h"
#include "traceql/validate.h"

namespace signaldb::querier {
namespace {

using namespace test_data;  // NOLINT: the shared traces and their ids

class SearchTest : public test_data::ThreeTracesTest {
 protected:
  absl::StatusOr<tempopb::SearchResponse> Run(const std::string& q, SearchRequest req = {}) {
    auto parsed = traceql::Parse(q);
    if (!parsed.ok()) return parsed.status();
    if (auto st = traceql::Validate(*parsed); !st.ok()) return st;
    return querier_->Search({}, *parsed, req);
  }
  // "traceID:span names of the first spanset" per trace, in answer order.
  std::string Summary(const std::string& q, SearchRequest req = {}) {
    auto r = Run(q, req);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    if (!r.ok()) return "error";
    std::string out;
    for (const auto& t : r->traces()) {
      if (!out.empty()) out += " ";
      out += t.traceid() + ":";
      for (const auto& s : t.spansets(0).spans()) out += s.spanid().substr(15);
    }
    return out;
  }

};


TEST_F(SearchTest, FiltersNewestFirstWithRootInfo) {
  EXPECT_EQ(Summary("{ resource.service.name = \"payments\" && status = error }"), kId3 + ":7 " + kId1 + ":2");
  auto r = Run("{ resource.service.name = \"payments\" && status = error }");
  ASSERT_TRUE(r.ok());
  const auto& orphan = r->traces(0);
  EXPECT_EQ(orphan.rootservicename(), "<root span not yet received>");
  EXPECT_EQ(orphan.roottracename(), "");
  const auto& t1 = r->traces(1);
  EXPECT_EQ(t1.rootservicename(), "frontend");
  EXPECT_EQ(t1.roottracename(), "GET /checkout");
  EXPECT_EQ(t1.starttimeunixnano(), kT0);
  EXPECT_EQ(t1.durationms(), 200u);
  EXPECT_EQ(t1.spansets(0).matched(), 1u);
  EXPECT_EQ(t1.spanset().spans(0).spanid(), "0000000000000002");
  EXPECT_EQ(t1.spanset().spans(0).durationnanos(), 50 * kMs);
  // The attributes the query evaluated, on the span.
  std::map<std::string, std::string> attrs;
  for (const auto& kv : t1.spanset().spans(0).attributes()) attrs[kv.key()] = kv.value().DebugString();
  EXPECT_EQ(attrs.count("service.name"), 1u);
  EXPECT_NE(attrs["status"].find("error"), std::string::npos);
  EXPECT_EQ(t1.servicestats().at("payments").spancount(), 2u);
  EXPECT_EQ(t1.servicestats().at("payments").errorcount(), 1u);
  EXPECT_EQ(t1.servicestats().at("frontend").spancount(), 1u);
  EXPECT_GT(r->metrics().inspectedbytes(), 0u);
  EXPECT_EQ(r->metrics().totalblocks(), 2u);
}

TEST_F(SearchTest, TypedAttributesAndTheirValues) {
  EXPECT_EQ(Summary("{ span.http.status_code >= 500 }"), kId3 + ":7 " + kId1 + ":2");
  EXPECT_EQ(Summary("{ span.http.status_code = 503 }"), kId3 + ":7");
  EXPECT_EQ(Summary("{ .amount > 9 && .amount < 10 }"), kId1 + ":2");
  auto r = Run("{ .amount > 9 }");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->traces(0).spansets(0).spans(0).attributes_size(), 1);
  EXPECT_EQ(r->traces(0).spansets(0).spans(0).attributes(0).key(), "amount");
  EXPECT_EQ(r->traces(0).spansets(0).spans(0).attributes(0).value().double_value(), 9.5);
  EXPECT_EQ(Summary("{ name = \"nothing\" }"), "");
}

TEST_F(SearchTest, StructureAcrossRequestsAndFiles) {
  // db arrived in the second request; its grandparent in the first.
  EXPECT_EQ(Summary("{ name = \"GET /checkout\" } >> { name = \"db\" }"), kId1 + ":3");
  EXPECT_EQ(Summary("{ name = \"GET /checkout\" } > { resource.service.name = \"payments\" }"), kId1 + ":2");
  EXPECT_EQ(Summary("{ name = \"db\" } << { }"), kId1 + ":12");
  EXPECT_EQ(Summary("{ status = error } !> { resource.service.name = \"payments\" }"),
            kId3 + ":7 " + kId1 + ":2");
  EXPECT_EQ(Summary("{ name = \"charge\" } &> { name = \"db\" }"), kId1 + ":23");
  EXPECT_EQ(Summary("{ name = \"redis\" } || { name = \"orphan\" }"), kId3 + ":7 abc:6");
  EXPECT_EQ(Summary("{ name = \"redis\" } && { name = \"orphan\" }"), "");
}

TEST_F(SearchTest, LimitSpssDurationAndTimeRange) {
  SearchRequest one;
  one.limit = 1;
  EXPECT_EQ(Summary("{ }", one), kId3 + ":7");
  SearchRequest spss;
  spss.spans_per_spanset = 1;
  auto r = Run("{ resource.service.name = \"payments\" } >> { }", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Summary("{ resource.service.name = \"payments\" }", spss), kId3 + ":7 " + kId1 + ":2");
  auto all = Run("{ resource.service.name = \"payments\" }", spss);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->traces(1).spansets(0).matched(), 2u);  // charge and db; one shown
  SearchRequest slow;
  slow.min_duration_nanos = 100 * kMs;
  EXPECT_EQ(Summary("{ }", slow), kId1 + ":123");
  SearchRequest fast;
  fast.max_duration_nanos = 40 * kMs;
  EXPECT_EQ(Summary("{ }", fast), kId3 + ":7 abc:56");
  SearchRequest window;
  window.start_unix_nano = static_cast<int64_t>(kT0 + 5000 * kMs);
  window.end_unix_nano = static_cast<int64_t>(kT0 + 15000 * kMs);
  EXPECT_EQ(Summary("{ }", window), "abc:56");
}

// childCount and parent.x read other spans of the trace, across files: the
// charge span's child (db) arrived in a later request.
TEST_F(SearchTest, ChildCountAndParent) {
  EXPECT_EQ(Summary("{ childCount = 1 && name = \"charge\" }"), kId1 + ":2");
  EXPECT_EQ(Summary("{ span:childCount = 0 && resource.service.name = \"payments\" }"), kId3 + ":7 " + kId1 + ":3");
  EXPECT_EQ(Summary("{ parent.resource.service.name = \"frontend\" }"), "abc:6 " + kId1 + ":2");
  EXPECT_EQ(Summary("{ parent.span.http.status_code = 500 }"), kId1 + ":3");
}

TEST_F(SearchTest, Pipelines) {
  EXPECT_EQ(Summary("{ resource.service.name = \"payments\" } | count() > 1"), kId1 + ":23");
  EXPECT_EQ(Summary("{ } | count() = 1"), kId3 + ":7");
  EXPECT_EQ(Summary("{ } | avg(duration) > 60ms"), kId1 + ":123");  // (200 + 50 + 5) / 3 ms
  EXPECT_EQ(Summary("{ } | min(duration) < 2ms"), kId3 + ":7");
  EXPECT_EQ(Summary("{ } | max(span.http.status_code) >= 503"), kId3 + ":7");
  EXPECT_EQ(Summary("{ } | sum(duration) >= 255ms"), kId1 + ":123");
  EXPECT_EQ(Summary("{ } | { name = \"db\" }"), kId1 + ":3");
  EXPECT_EQ(Summary("{ } | by(resource.service.name) | count() > 1"), kId1 + ":23");
  auto r = Run("{ } | by(resource.service.name) | count() > 1");
  ASSERT_TRUE(r.ok());
  const auto& set = r->traces(0).spansets(0);
  ASSERT_EQ(set.attributes_size(), 2);
  EXPECT_EQ(set.attributes(0).key(), "by(resource.service.name)");
  EXPECT_EQ(set.attributes(0).value().string_value(), "payments");
  EXPECT_EQ(set.attributes(1).key(), "count()");
  EXPECT_EQ(set.attributes(1).value().int_value(), 2);
  // by() without a filter after it: one spanset per group.
  r = Run("{ } | by(resource.service.name)");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->traces_size(), 3);
  EXPECT_EQ(r->traces(2).spansets_size(), 2);  // T1: frontend and payments
  EXPECT_EQ(Summary("{ } | by(resource.service.name) | coalesce()"), kId3 + ":7 abc:56 " + kId1 + ":123");
  // select() shows values on the spans.
  r = Run("{ status = error } | select(span.http.status_code, name)");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->traces_size(), 2);
  std::map<std::string, std::string> attrs;
  for (const auto& kv : r->traces(0).spansets(0).spans(0).attributes()) attrs[kv.key()] = kv.value().ShortDebugString();
  EXPECT_EQ(attrs["span.http.status_code"], "int_value: 503");
  EXPECT_EQ(attrs["name"], "string_value: \"orphan\"");
}

// Tag names and values: the flushed files' (cached per file after the
// first request), merged with the writer's buffer and later files.
TEST_F(SearchTest, TagsFromFilesCacheAndBuffer) {
  auto field = [](const std::string& text) {
    auto q = traceql::Parse("{ " + text + " != nil }");
    EXPECT_TRUE(q.ok()) << q.status();
    return std::move(q->pipeline->stages[0].spanset->filter->lhs);
  };
  auto service = field("resource.service.name");
  auto values = [&](TagsRequest req = {}) {
    auto r = querier_->TagValues({}, *service, req);
    EXPECT_TRUE(r.ok()) << r.status();
    std::string out;
    for (const auto& v : r.ok() ? *r : std::vector<TagValue>{}) out += v.type + ":" + v.value + " ";
    return out;
  };
  auto span_names = [&] {
    auto r = querier_->TagNames({}, TagsRequest{});
    EXPECT_TRUE(r.ok()) << r.status();
    std::string out;
    if (r.ok() && r->count("span")) {
      for (const auto& n : r->at("span")) out += n + " ";
    }
    return out;
  };
  EXPECT_EQ(values(), "string:cache string:frontend string:payments ");
  EXPECT_EQ(span_names(), "amount http.status_code ");
  EXPECT_EQ(values(), "string:cache string:frontend string:payments ");  // now from the cache

  // Unflushed spans count, and so does the file they are flushed into.
  ExportTraceServiceRequest late;
  auto* login = AddSpan(&late, "auth", std::string(16, '\x44'), 1, 0, "login", kT0 + 30000 * kMs, kMs);
  SetInt(login, "late.key", 1);
  auto* event = login->add_events();
  event->set_name("retry");
  event->set_time_unix_nano(kT0 + 30000 * kMs + 10);
  auto* attempt = event->add_attributes();
  attempt->set_key("attempt");
  attempt->mutable_value()->set_int_value(2);
  auto* link = login->add_links();
  link->set_trace_id(kT1);
  link->set_span_id(std::string(7, '\0') + '\x01');
  auto* follows = link->add_attributes();
  follows->set_key("kind");
  follows->mutable_value()->set_string_value("follows");
  ASSERT_TRUE(writer_->Write({}, Signal::kTraces, late.SerializeAsString()).ok());
  EXPECT_EQ(values(), "string:auth string:cache string:frontend string:payments ");
  EXPECT_EQ(span_names(), "amount http.status_code late.key ");
  ASSERT_TRUE(writer_->FlushAll().ok());
  EXPECT_EQ(values(), "string:auth string:cache string:frontend string:payments ");
  EXPECT_EQ(span_names(), "amount http.status_code late.key ");

  auto listed = [&](const std::string& text) {
    auto f = field(text);
    auto r = querier_->TagValues({}, *f, TagsRequest{});
    EXPECT_TRUE(r.ok()) << r.status();
    std::string out;
    for (const auto& v : r.ok() ? *r : std::vector<TagValue>{}) out += v.type + ":" + v.value + " ";
    return out;
  };
  EXPECT_EQ(listed("event:name"), "string:retry ");
  EXPECT_EQ(listed("event.attempt"), "int:2 ");
  EXPECT_EQ(listed("link.kind"), "string:follows ");
  EXPECT_EQ(Summary("{ event:name = \"retry\" && event.attempt >= 2 }"), std::string(32, '4') + ":1");
  EXPECT_EQ(Summary("{ link:traceID = \"" + kId1 + "\" && link.kind = \"follows\" }"), std::string(32, '4') + ":1");

  TagsRequest two;
  two.limit = 2;
  EXPECT_EQ(values(two), "string:auth string:cache ");
  // A filter reads the spans it selects, not the cache.
  auto q = traceql::Parse("{ name = \"redis\" }");
  ASSERT_TRUE(q.ok());
  TagsRequest filtered;
  filtered.filter = q->pipeline->stages[0].spanset->filter.get();
  EXPECT_EQ(values(filtered), "string:cache ");
}

TEST(TagCacheTest, KeepsEntriesUntilFullThenStartsOver) {
  constexpr size_t k = TagCache::kStringCost;
  // Room for the names entry of f1 (3 strings, 4 bytes of text) and one
  // values entry (2 strings + "string" "x", plus file and tag), not a third.
  TagCache cache(/*max_bytes=*/(k + 2) + 2 * (k + 1) + (k + 2 + 4) + (k + 7) + 2);
  EXPECT_EQ(cache.names("f1"), nullptr);
  cache.put_names("f1", {{"span", {"a", "b"}}});
  ASSERT_NE(cache.names("f1"), nullptr);
  EXPECT_EQ(cache.names("f1")->at("span").size(), 2u);
  auto kept = cache.put_values("f1", "name", {{{"string", "x"}}, false});
  EXPECT_EQ(cache.values("f1", "name"), kept);
  // A second fill of the same entry keeps the first and is not charged again
  // (else the budget would be spent and f1 dropped below, before f2).
  EXPECT_EQ(cache.put_values("f1", "name", {{{"string", "x"}}, false}), kept);
  ASSERT_NE(cache.names("f1"), nullptr);
  EXPECT_EQ(cache.values("f1", "other"), nullptr);
  cache.put_values("f2", "name", {{{"string", "y"}}, false});  // over: starts over
  EXPECT_EQ(cache.names("f1"), nullptr);
  EXPECT_EQ(cache.values("f1", "name"), nullptr);
  ASSERT_NE(cache.values("f2", "name"), nullptr);
  EXPECT_EQ(cache.values("f2", "name")->values[0].second, "y");
}

// A pipeline that does not start with a spanset expression applies to
// every span of the trace, as if it started with { }.
TEST_F(SearchTest, PipelinesStartingWithoutASpansetExpression) {
  EXPECT_EQ(Summary("count() > 1"), "abc:56 " + kId1 + ":123");
  EXPECT_EQ(Summary("count() = 1"), kId3 + ":7");
  EXPECT_EQ(Summary("avg(duration) > 60ms | { name = \"db\" }"), kId1 + ":3");
  // (Tempo's grammar lets no pipeline start with coalesce().)
  EXPECT_EQ(Summary("by(resource.service.name) | coalesce()"), kId3 + ":7 abc:56 " + kId1 + ":123");
  auto r = Run("by(resource.service.name)");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces_size(), 3);
  EXPECT_EQ(r->traces(2).spansets_size(), 2);  // T1: frontend and payments
  r = Run("select(span.http.status_code)");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces_size(), 3);
  ASSERT_EQ(r->traces(0).spansets(0).spans(0).attributes_size(), 1);  // the orphan
  EXPECT_EQ(r->traces(0).spansets(0).spans(0).attributes(0).key(), "span.http.status_code");
  EXPECT_EQ(r->traces(0).spansets(0).spans(0).attributes(0).value().int_value(), 503);
}

// by() of an expression groups by its typed value, labelled with its text.
TEST_F(SearchTest, ByExpression) {
  auto r = Run("{ } | by(duration > 10ms)");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces_size(), 3);
  const auto& t1 = r->traces(2);
  ASSERT_EQ(t1.spansets_size(), 2);
  // false (db, 5 ms), then true (GET /checkout and charge).
  EXPECT_EQ(t1.spansets(0).attributes(0).key(), "by(duration > 10ms)");
  EXPECT_EQ(t1.spansets(0).attributes(0).value().ShortDebugString(), "bool_value: false");
  EXPECT_EQ(t1.spansets(0).matched(), 1u);
  EXPECT_EQ(t1.spansets(1).attributes(0).value().ShortDebugString(), "bool_value: true");
  EXPECT_EQ(t1.spansets(1).matched(), 2u);
  EXPECT_EQ(r->traces(0).spansets_size(), 1);  // the orphan: 1 ms
  // An integer intrinsic: T1's GET /checkout and charge have one child each.
  EXPECT_EQ(Summary("{ } | by(childCount) | count() > 1"), kId1 + ":12");
  r = Run("{ } | by(childCount) | count() > 1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->traces(0).spansets(0).attributes(0).key(), "by(childCount)");
  EXPECT_EQ(r->traces(0).spansets(0).attributes(0).value().ShortDebugString(), "int_value: 1");
  // Arithmetic over an attribute: a double.
  r = Run("{ status = error } | by(span.http.status_code + 1)");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces_size(), 2);
  EXPECT_EQ(r->traces(0).spansets(0).attributes(0).key(), "by(span.http.status_code + 1)");
  EXPECT_EQ(r->traces(0).spansets(0).attributes(0).value().double_value(), 504);
  EXPECT_EQ(r->traces(1).spansets(0).attributes(0).value().double_value(), 501);
  // Spans without a value group together, shown as Tempo shows nil.
  r = Run("{ resource.service.name = \"payments\" } | by(span.amount)");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces_size(), 2);
  EXPECT_EQ(r->traces(0).spansets(0).attributes(0).value().string_value(), "nil");  // the orphan
  EXPECT_EQ(r->traces(1).spansets_size(), 2);  // T1: charge (9.5) and db (nil)
  // Labels as Tempo's stringer writes them.
  r = Run("{ name = \"charge\" } | by(duration * 2 > 10ms) | by(name = \"charge\")");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces(0).spansets(0).attributes_size(), 2);
  EXPECT_EQ(r->traces(0).spansets(0).attributes(0).key(), "by((duration * 2) > 10ms)");
  EXPECT_EQ(r->traces(0).spansets(0).attributes(0).value().ShortDebugString(), "bool_value: true");
  EXPECT_EQ(r->traces(0).spansets(0).attributes(1).key(), "by(name = `charge`)");
  // A status: its name.
  r = Run("{ name = \"charge\" } | by(status)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->traces(0).spansets(0).attributes(0).value().string_value(), "error");
}

// A spanset expression after the first stage is evaluated on each input
// spanset: its filters see that spanset's spans only, related by the
// structure of the whole trace.
TEST_F(SearchTest, SpansetOperatorsAfterTheFirstStage) {
  EXPECT_EQ(Summary("{ } | { name = \"charge\" } > { name = \"db\" }"), kId1 + ":3");
  EXPECT_EQ(Summary("{ } | ({ name = \"redis\" } || { name = \"orphan\" })"), kId3 + ":7 abc:6");
  // GET /checkout is not in the payments spanset.
  EXPECT_EQ(Summary("{ resource.service.name = \"payments\" } | { name = \"GET /checkout\" } >> { }"), "");
  EXPECT_EQ(Summary("{ resource.service.name = \"payments\" } | { status = error } >> { }"), kId1 + ":3");
  // Per group of by(), keeping the group's attributes.
  EXPECT_EQ(Summary("{ } | by(resource.service.name) | { } && { status = error }"), kId3 + ":7 " + kId1 + ":23");
  auto r = Run("{ } | by(resource.service.name) | { } && { status = error }");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces(1).spansets_size(), 1);
  EXPECT_EQ(r->traces(1).spansets(0).attributes(0).value().string_value(), "payments");
}

// Tempo's nested set numbering over whole traces, across files: T1 is
// GET /checkout [1, 6] > charge [2, 5] > db [3, 4] (db arrived later, in
// another file); T2 is GET /cart [1, 4] > redis [2, 3]; T3 has no root,
// so its orphan has 0 for all three.
TEST_F(SearchTest, NestedSetIntrinsics) {
  EXPECT_EQ(Summary("{ nestedSetLeft = 3 }"), kId1 + ":3");
  EXPECT_EQ(Summary("{ nestedSetRight = 5 }"), kId1 + ":2");
  EXPECT_EQ(Summary("{ nestedSetParent = -1 }"), "abc:5 " + kId1 + ":1");
  EXPECT_EQ(Summary("{ nestedSetParent = 2 }"), kId1 + ":3");
  EXPECT_EQ(Summary("{ nestedSetLeft = 0 && nestedSetParent = 0 }"), kId3 + ":7");
  EXPECT_EQ(Summary("{ nestedSetRight = nestedSetLeft + 1 && nestedSetLeft > 0 }"), "abc:6 " + kId1 + ":3");
}

// Siblings are numbered by start time (then span id), whatever order they
// arrived in: R [1, 8] > A [2, 5] > A1 [3, 4]; R > B [6, 7], B sent first.
class NestedSetTest : public test_data::QuerierFixture {};

TEST_F(NestedSetTest, SiblingsByStartTime) {
  ExportTraceServiceRequest req;
  const std::string trace(16, '\x55');
  AddSpan(&req, "svc", trace, 1, 0, "R", kT0, 10 * kMs);
  AddSpan(&req, "svc", trace, 2, 1, "B", kT0 + 2 * kMs, kMs);
  AddSpan(&req, "svc", trace, 3, 1, "A", kT0 + 1 * kMs, kMs);
  AddSpan(&req, "svc", trace, 4, 3, "A1", kT0 + 1 * kMs, kMs);
  ASSERT_TRUE(writer_->Write({}, Signal::kTraces, req.SerializeAsString()).ok());
  auto names = [&](const std::string& q) {
    auto parsed = traceql::Parse(q);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    auto r = querier_->Search({}, *parsed, SearchRequest{});
    EXPECT_TRUE(r.ok()) << r.status();
    std::string out;
    for (const auto& t : r.ok() ? r->traces() : decltype(r->traces()){}) {
      for (const auto& sp : t.spansets(0).spans()) out += sp.spanid().substr(15);
    }
    return out;
  };
  EXPECT_EQ(names("{ nestedSetLeft = 2 && nestedSetRight = 5 }"), "3");
  EXPECT_EQ(names("{ nestedSetLeft = 3 && nestedSetParent = 2 }"), "4");
  EXPECT_EQ(names("{ nestedSetLeft = 6 && nestedSetRight = 7 && nestedSetParent = 1 }"), "2");
  EXPECT_EQ(names("{ nestedSetRight = 8 }"), "1");
}

// Root scalar filters over wrapped pipelines: each pipeline runs on the
// whole trace, its aggregate over its one spanset; the trace's spanset is
// the spans those spansets hold.
TEST_F(SearchTest, RootScalarFilters) {
  // T1: two payments spans, one frontend; T2 and T3 lack one side.
  EXPECT_EQ(Summary("({ resource.service.name = \"payments\" } | count()) > "
                    "({ resource.service.name = \"frontend\" } | count())"),
            kId1 + ":123");
  EXPECT_EQ(Summary("({ } | count()) = 1"), kId3 + ":7");
  EXPECT_EQ(Summary("({ } | avg(duration)) > 60ms"), kId1 + ":123");  // (200 + 50 + 5) / 3 ms
  EXPECT_EQ(Summary("({ status = error } | max(span.http.status_code)) >= 503"), kId3 + ":7");
  // T1: avg 85 ms plus one error span; T3: 1 ms plus one.
  EXPECT_EQ(Summary("({ } | avg(duration)) + ({ status = error } | count()) > 60000000"), kId1 + ":123");
  EXPECT_EQ(Summary("({ } | by(resource.service.name) | coalesce() | count()) > 2"), kId1 + ":123");
  // Several spansets on a side: as Tempo's spanset operators, an error.
  auto r = Run("({ } | by(resource.service.name) | count()) > 1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

// A pipeline wrapped in a spanset expression runs on the spanset the
// expression is evaluated on (the whole trace in the first stage), and its
// spansets are the operand, as in Tempo: && and || pool their spans (the
// pipeline's own attributes are not kept), structural operators relate one
// spanset on each side.
TEST_F(SearchTest, WrappedPipelinesAsSpansetOperands) {
  const std::string payments2 = "({ resource.service.name = \"payments\" } | count() > 1)";
  // T1 has two payments spans (charge, db); T3 only one.
  EXPECT_EQ(Summary(payments2 + " && { status = error }"), kId1 + ":23");
  EXPECT_EQ(Summary(payments2 + " || { name = \"redis\" }"), "abc:6 " + kId1 + ":23");
  // On either side of a structural operator.
  EXPECT_EQ(Summary("{ name = \"GET /checkout\" } >> " + payments2), kId1 + ":23");
  EXPECT_EQ(Summary("({ status = error } | count() = 1) > { name = \"db\" }"), kId1 + ":3");
  // An aggregate of the whole trace: T1 averages 85 ms, T2 16 ms, T3 1 ms.
  EXPECT_EQ(Summary("({ } | avg(duration) > 60ms) && { status = error }"), kId1 + ":123");
  EXPECT_EQ(Summary("({ status = error } | count() = 1) &> { }"), kId1 + ":23");
  EXPECT_EQ(Summary("{ } >> ({ resource.service.name = \"payments\" } | by(resource.service.name) | count() > 1)"),
            kId1 + ":23");
  // Nested: a wrapped pipeline inside a wrapped pipeline's first stage.
  EXPECT_EQ(Summary("(" + payments2 + " && { status = error } | count() = 2) || { name = \"redis\" }"),
            "abc:6 " + kId1 + ":23");
  // Inside a root scalar filter's pipeline.
  EXPECT_EQ(Summary("(" + payments2 + " && { status = error } | count()) = 2"), kId1 + ":23");
  // In a later stage, on each input spanset: per by() group, not the trace
  // (T1's three spans and T2's two would pass on the whole trace).
  EXPECT_EQ(Summary("{ } | ({ status = error } | count() = 1) && { name = \"db\" }"), kId1 + ":23");
  EXPECT_EQ(Summary("{ } | by(resource.service.name) | ({ status = error } | count() = 1) && { }"),
            kId3 + ":7 " + kId1 + ":23");
  EXPECT_EQ(Summary("{ } | by(resource.service.name) | ({ } | count() = 2) && { }"), kId1 + ":23");
  // Candidates need the wrapped pipeline's first filters: only T2 has redis.
  auto r = Run("({ name = \"redis\" } | count() = 1) && { }");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces_size(), 1);
  EXPECT_EQ(r->metrics().inspectedtraces(), 1u);
  // A wrapped pipeline that is a whole stage runs as its stages would, on
  // every spanset in hand: its spansets and attributes stay apart, and
  // coalesce() merges the groups of all of them.
  r = Run("({ } | by(resource.service.name) | count() > 1)");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces_size(), 1);
  EXPECT_EQ(r->traces(0).spansets_size(), 1);
  EXPECT_EQ(r->traces(0).spansets(0).attributes_size(), 2);  // by(...) and count()
  r = Run("{ } | by(resource.service.name) | ({ } | coalesce())");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces_size(), 3);
  for (const auto& t : r->traces()) EXPECT_EQ(t.spansets_size(), 1) << t.traceid();
  EXPECT_EQ(r->traces(2).spansets(0).spans_size(), 3);
  // Several spansets on a side of a structural operator: Tempo's error
  // (T2's two spans make two groups).
  r = Run("{ } > ({ } | by(name))");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("consider using coalesce()"), std::string::npos) << r.status();
}

TEST_F(SearchTest, UnsupportedFormsSaySo) {
  auto r = Run("{ } | rate()");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

// Search over an hour reads the newest part first (see SearchSlices in
// search.cc): twelve one-span traces five minutes apart, each in its own
// file, and a two-span trace whose spans lie on both sides of a slice
// boundary (33m45s for a one-hour range: slices of 3m45s, 7m30s, 15m, ...).
class SlicedSearchTest : public test_data::QuerierFixture {
 protected:
  static constexpr uint64_t kMin = 60000 * kMs;
  void SetUp() override {
    QuerierFixture::SetUp();
    if (HasFatalFailure() || !writer_) return;
    for (int k = 0; k < 12; ++k) {
      ExportTraceServiceRequest req;
      AddSpan(&req, "svc", std::string(15, '\0') + static_cast<char>(0x40 + k), 1, 0, "s",
              kT0 + static_cast<uint64_t>(k) * 5 * kMin + kMin, kMs);
      ASSERT_TRUE(writer_->Write({}, Signal::kTraces, req.SerializeAsString()).ok());
      ASSERT_TRUE(writer_->FlushAll().ok());
    }
    ExportTraceServiceRequest pair;
    AddSpan(&pair, "svc", std::string(16, '\x77'), 1, 0, "A", kT0 + 33 * kMin, kMs);
    AddSpan(&pair, "svc", std::string(16, '\x77'), 2, 1, "B", kT0 + 34 * kMin + 30000 * kMs, kMs);
    // Ten minutes apart across the same boundary: beyond the margin.
    AddSpan(&pair, "svc", std::string(16, '\x78'), 1, 0, "C", kT0 + 30 * kMin, kMs);
    AddSpan(&pair, "svc", std::string(16, '\x78'), 2, 1, "D", kT0 + 40 * kMin, kMs);
    ASSERT_TRUE(writer_->Write({}, Signal::kTraces, pair.SerializeAsString()).ok());
    ASSERT_TRUE(writer_->FlushAll().ok());
  }
  absl::StatusOr<tempopb::SearchResponse> Run(const std::string& q, uint32_t limit) {
    auto parsed = traceql::Parse(q);
    if (!parsed.ok()) return parsed.status();
    SearchRequest req;
    req.limit = limit;
    req.start_unix_nano = static_cast<int64_t>(kT0);
    req.end_unix_nano = static_cast<int64_t>(kT0 + 60 * kMin);
    return querier_->Search({}, *parsed, req);
  }
};

TEST_F(SlicedSearchTest, NewestSlicesFirstAndStopsAtTheLimit) {
  auto two = Run("{ name = \"s\" }", 2);
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->traces_size(), 2);
  EXPECT_EQ(two->traces(0).traceid(), "4b");  // k = 11, 56 minutes in
  EXPECT_EQ(two->traces(1).traceid(), "4a");
  auto all = Run("{ name = \"s\" }", 100);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->traces_size(), 12);
  EXPECT_EQ(all->traces(11).traceid(), "40");
  // The limit of two was met in the newest slices: fewer files were read.
  EXPECT_LT(two->metrics().inspectedbytes(), all->metrics().inspectedbytes());
  EXPECT_LT(two->metrics().totalblocks(), all->metrics().totalblocks());
}

TEST_F(SlicedSearchTest, FarApartSpansAreFoundByTheWholeRangePass) {
  for (const char* q : {"{ name = \"C\" } && { name = \"D\" }", "{ name = \"C\" } > { name = \"D\" }"}) {
    auto r = Run(q, 20);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->traces_size(), 1) << q;
    std::string id;
    for (int i = 0; i < 16; ++i) id += "78";
    EXPECT_EQ(r->traces(0).traceid(), id);
  }
}

TEST_F(SlicedSearchTest, SpansOnBothSidesOfASliceBoundaryAreJudgedTogether) {
  for (const char* q : {"{ name = \"A\" } && { name = \"B\" }", "{ name = \"A\" } > { name = \"B\" }"}) {
    auto r = Run(q, 20);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->traces_size(), 1) << q;
    EXPECT_EQ(r->traces(0).traceid(), std::string(32, '7'));
  }
}

}  // namespace
}  // namespace signaldb::querier
