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

TEST_F(SearchTest, UnsupportedFormsSaySo) {
  auto r = Run("count() > 1 | { }");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("not supported yet"), std::string::npos);
  r = Run("{ } | rate()");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace signaldb::querier
