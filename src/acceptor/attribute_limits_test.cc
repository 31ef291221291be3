// Per-tenant attribute limits through a running acceptor: OTLP/gRPC, OTLP/HTTP
// (JSON and protobuf) and remote_write answer with the counts and messages
// of partialSuccess, and store what the limits let through.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <snappy.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "acceptor/acceptor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "prometheus/remote.pb.h"

namespace signaldb::acceptor {
namespace {

namespace fs = std::filesystem;
namespace tsvc = opentelemetry::proto::collector::trace::v1;
namespace lsvc = opentelemetry::proto::collector::logs::v1;
namespace msvc = opentelemetry::proto::collector::metrics::v1;
using ::testing::HasSubstr;

// Two spans: the first with `attrs` attributes, the second with one.
tsvc::ExportTraceServiceRequest Spans(int trace, int attrs) {
  tsvc::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < 2; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(15, '\0') + static_cast<char>(trace));
    s->set_span_id(std::string(7, '\0') + static_cast<char>(i + 1));
    s->set_name("op");
    s->set_start_time_unix_nano(1700000000000000000ULL);
    for (int a = 0; a < (i == 0 ? attrs : 1); ++a) {
      auto* kv = s->add_attributes();
      kv->set_key("a" + std::to_string(a));
      kv->mutable_value()->set_string_value("v");
    }
  }
  return req;
}

class AttributeLimitsAcceptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("sdb_acceptor_limits_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    writer::WriterOptions wo;
    wo.wal_dir = (root_ / "wal").string();
    wo.storage_dir = (root_ / "storage").string();
    wo.maintenance_interval = std::chrono::milliseconds(0);
    auto w = writer::Writer::Open(wo);
    ASSERT_TRUE(w.ok()) << w.status();
    writer_ = std::move(*w);
    querier_ = std::make_unique<querier::Querier>(writer_.get(), querier::QuerierOptions{});
    AcceptorOptions o{.grpc_addr = "127.0.0.1:0",
                      .http_addr = "127.0.0.1:0",
                      .workers = 2,
                      .storage_dir = wo.storage_dir};
    o.limits_of = [this](const std::string& tenant) {
      std::lock_guard lock(mu_);
      TenantLimits l;
      l.max_attributes_per_record = tenant == "default" ? max_attributes_ : 0;
      l.max_attribute_value_length = 0;
      l.reject_over_limit_attributes = reject_;
      return l;
    };
    auto a = Acceptor::Start(o, writer_.get(), querier_.get());
    ASSERT_TRUE(a.ok()) << a.status();
    acceptor_ = std::move(*a);
    channel_ = grpc::CreateChannel(acceptor_->grpc_address(), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (acceptor_) acceptor_->Stop();
    acceptor_.reset();
    querier_.reset();
    writer_.reset();
    fs::remove_all(root_);
  }
  void SetLimits(uint64_t max_attributes, bool reject) {
    std::lock_guard lock(mu_);
    max_attributes_ = max_attributes;
    reject_ = reject;
  }
  int64_t Count(const std::string& sql) {
    auto ds = writer_->GetDataset({});
    auto conn = (*ds)->db().Connect();
    auto t = (*conn)->Query(sql);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::get<int64_t>(t->rows[0][0]) : -1;
  }
  tsvc::ExportTraceServiceResponse ExportGrpc(const tsvc::ExportTraceServiceRequest& req) {
    auto stub = tsvc::TraceService::NewStub(channel_);
    grpc::ClientContext ctx;
    tsvc::ExportTraceServiceResponse resp;
    grpc::Status st = stub->Export(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }
  httplib::Result Post(const std::string& path, const std::string& body, const std::string& type) {
    httplib::Client client("http://" + acceptor_->http_address());
    return client.Post(path, body, type);
  }
  // Spans(trace, attrs) as OTLP/HTTP JSON (ids in hex).
  tsvc::ExportTraceServiceResponse ExportJson(int trace, int attrs) {
    std::string spans;
    for (int i = 0; i < 2; ++i) {
      std::string kvs;
      for (int a = 0; a < (i == 0 ? attrs : 1); ++a) {
        kvs += std::string(a ? "," : "") + R"({"key":"a)" + std::to_string(a) +
               R"(","value":{"stringValue":"v"}})";
      }
      char ids[80];
      std::snprintf(ids, sizeof(ids), R"("traceId":"%032x","spanId":"%016x")", trace, i + 1);
      spans += std::string(i ? "," : "") + "{" + ids +
               R"(,"name":"op","startTimeUnixNano":"1700000000000000000",)" + R"("attributes":[)" +
               kvs + "]}";
    }
    auto res =
        Post("/v1/traces", R"({"resourceSpans":[{"scopeSpans":[{"spans":[)" + spans + "]}]}]}",
             "application/json");
    EXPECT_TRUE(res);
    tsvc::ExportTraceServiceResponse resp;
    if (!res) return resp;
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(res->body, &resp).ok()) << res->body;
    return resp;
  }

  fs::path root_;
  std::mutex mu_;
  uint64_t max_attributes_ = 3;
  bool reject_ = false;
  std::unique_ptr<writer::Writer> writer_;
  std::unique_ptr<querier::Querier> querier_;
  std::unique_ptr<Acceptor> acceptor_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(AttributeLimitsAcceptorTest, GrpcTruncateWarnsAndRejectCounts) {
  auto truncated = ExportGrpc(Spans(1, 5));
  ASSERT_TRUE(truncated.has_partial_success());
  EXPECT_EQ(truncated.partial_success().rejected_spans(), 0);
  EXPECT_EQ(truncated.partial_success().error_message(),
            "1 spans stored truncated: attributes beyond max_attributes_per_record (3) dropped");
  EXPECT_EQ(Count("SELECT count(*) FROM traces WHERE dropped_attributes_count = 2"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM traces"), 2);

  SetLimits(3, /*reject=*/true);
  auto rejected = ExportGrpc(Spans(2, 5));
  EXPECT_EQ(rejected.partial_success().rejected_spans(), 1);
  EXPECT_EQ(rejected.partial_success().error_message(),
            "span has 5 attributes, over max_attributes_per_record (3)");
  EXPECT_EQ(Count("SELECT count(*) FROM traces"), 3);

  // Within the limits: no partialSuccess at all.
  EXPECT_FALSE(ExportGrpc(Spans(3, 3)).has_partial_success());
  // 0 means no limit.
  SetLimits(0, /*reject=*/true);
  EXPECT_FALSE(ExportGrpc(Spans(4, 500)).has_partial_success());
  EXPECT_EQ(Count("SELECT count(*) FROM traces"), 7);
}

TEST_F(AttributeLimitsAcceptorTest, HttpJsonAndProtobufAnswerTheSame) {
  auto truncated = ExportJson(1, 4);
  EXPECT_EQ(truncated.partial_success().rejected_spans(), 0);
  EXPECT_THAT(truncated.partial_success().error_message(), HasSubstr("1 spans stored truncated"));
  SetLimits(2, /*reject=*/true);
  auto rejected = ExportJson(2, 4);
  EXPECT_EQ(rejected.partial_success().rejected_spans(), 1);
  EXPECT_THAT(rejected.partial_success().error_message(),
              HasSubstr("max_attributes_per_record (2)"));
  EXPECT_EQ(Count("SELECT count(*) FROM traces"), 3);

  // Logs over OTLP/HTTP protobuf.
  lsvc::ExportLogsServiceRequest logs;
  auto* sl = logs.add_resource_logs()->add_scope_logs();
  for (int n : {1, 3}) {
    auto* rec = sl->add_log_records();
    for (int a = 0; a < n; ++a) {
      auto* kv = rec->add_attributes();
      kv->set_key("k" + std::to_string(a));
      kv->mutable_value()->set_int_value(a);
    }
  }
  auto res = Post("/v1/logs", logs.SerializeAsString(), "application/x-protobuf");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  lsvc::ExportLogsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(res->body));
  EXPECT_EQ(resp.partial_success().rejected_log_records(), 1);
  EXPECT_EQ(resp.partial_success().error_message(),
            "log record has 3 attributes, over max_attributes_per_record (2)");
  EXPECT_EQ(Count("SELECT count(*) FROM logs"), 1);
}

TEST_F(AttributeLimitsAcceptorTest, MetricsOverGrpcAndRemoteWrite) {
  SetLimits(2, /*reject=*/true);
  msvc::ExportMetricsServiceRequest req;
  auto* m = req.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("g");
  for (int n : {1, 3, 4}) {
    auto* p = m->mutable_gauge()->add_data_points();
    p->set_as_int(n);
    for (int a = 0; a < n; ++a) {
      auto* kv = p->add_attributes();
      kv->set_key("k" + std::to_string(a));
      kv->mutable_value()->set_int_value(a);
    }
  }
  auto stub = msvc::MetricsService::NewStub(channel_);
  grpc::ClientContext ctx;
  msvc::ExportMetricsServiceResponse resp;
  ASSERT_TRUE(stub->Export(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.partial_success().rejected_data_points(), 2);
  EXPECT_THAT(resp.partial_success().error_message(), HasSubstr("data point has 3 attributes"));
  EXPECT_EQ(Count("SELECT count(*) FROM metrics_gauge"), 1);

  // remote_write: labels (but __name__) are the attributes; a series over
  // the limit loses all its samples.
  prometheus::WriteRequest wr;
  auto series = [&](const std::vector<std::pair<std::string, std::string>>& labels, int samples) {
    auto* ts = wr.add_timeseries();
    for (const auto& [k, v] : labels) {
      auto* l = ts->add_labels();
      l->set_name(k);
      l->set_value(v);
    }
    for (int i = 0; i < samples; ++i) {
      auto* s = ts->add_samples();
      s->set_value(i);
      s->set_timestamp(1700000000000 + i);
    }
  };
  series({{"__name__", "up"}, {"job", "api"}, {"instance", "a"}}, 2);
  series({{"__name__", "up"}, {"job", "api"}, {"instance", "b"}, {"zone", "z"}}, 3);
  auto send = [&] {
    std::string body;
    const std::string raw = wr.SerializeAsString();
    snappy::Compress(raw.data(), raw.size(), &body);
    return Post("/api/v1/write", body, "application/x-protobuf");
  };
  auto res = send();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(
      res->body,
      HasSubstr(
          "3 samples rejected: data point has 3 attributes, over max_attributes_per_record (2)"));
  EXPECT_EQ(Count("SELECT count(*) FROM metrics_gauge WHERE metric_name = 'up'"), 2);

  SetLimits(2, /*reject=*/false);
  res = send();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204) << res->body;  // truncation alone is a success
  EXPECT_EQ(Count("SELECT count(*) FROM metrics_gauge WHERE metric_name = 'up'"), 7);
}

// Limits are the tenant's own: the ingestor asks for the tenant of each request.
TEST_F(AttributeLimitsAcceptorTest, LimitsAreLookedUpPerTenant) {
  Ingestor ingestor(writer_.get(), IngestLimits{}, nullptr, nullptr, [](const std::string& tenant) {
    TenantLimits l;
    l.max_attributes_per_record = tenant == "strict" ? 1 : 0;
    l.reject_over_limit_attributes = true;
    return l;
  });
  const std::string payload = Spans(1, 3).SerializeAsString();
  auto strict = ingestor.Export(TenantContext{"strict", "default"}, Signal::kTraces, payload);
  ASSERT_TRUE(strict.ok()) << strict.status();
  EXPECT_EQ(strict->rejected, 1u);
  auto lax = ingestor.Export(TenantContext{"lax", "default"}, Signal::kTraces, payload);
  ASSERT_TRUE(lax.ok()) << lax.status();
  EXPECT_EQ(lax->rejected, 0u);
  EXPECT_EQ(lax->accepted, 2u);
  // Without limits_of there are no attribute limits.
  Ingestor unlimited(writer_.get(), IngestLimits{});
  EXPECT_FALSE(unlimited.AttributeLimitsOf("strict").active());
}

}  // namespace
}  // namespace signaldb::acceptor
