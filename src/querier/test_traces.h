// Test fixtures of the querier: QuerierFixture (a writer and a querier in
// a temporary directory) and ThreeTracesTest, the data of the TraceQL tests
// (search_test.cc, metrics_test.cc): three traces written in two requests
// with a flush between them, so traces span requests and Parquet files.
// Expected answers in those tests are worked out by hand from the spans
// below.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "querier/querier.h"

namespace signaldb::querier::test_data {

namespace fs = std::filesystem;
namespace tpb = opentelemetry::proto::trace::v1;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

constexpr uint64_t kT0 = 1700000000000000000ULL;
constexpr uint64_t kMs = 1000000;

// T1 (newest-but-one... see starts): GET /checkout (frontend, root, 200 ms)
//      -> charge (payments, error, http.status_code 500, amount 9.5)
//         -> db (payments)           [db arrives in a later request and file]
// T2 (id with leading zeros): GET /cart (frontend, root, 30 ms, starts 10 s later)
//      -> redis (cache)
// T3: orphan (payments, error, http.status_code 503; parent never arrived), starts 20 s later
inline const std::string kT1 = std::string(16, '\x11');
inline const std::string kT2 = std::string(14, '\0') + "\x0a\xbc";
inline const std::string kT3 = std::string(16, '\x33');

inline tpb::Span* AddSpan(ExportTraceServiceRequest* req, const std::string& service, const std::string& trace,
                   char id, char parent, const std::string& name, uint64_t start, uint64_t duration) {
  auto* rs = req->add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(service);
  auto* span = rs->add_scope_spans()->add_spans();
  span->set_trace_id(trace);
  span->set_span_id(std::string(7, '\0') + id);
  if (parent != 0) span->set_parent_span_id(std::string(7, '\0') + parent);
  span->set_name(name);
  span->set_start_time_unix_nano(start);
  span->set_end_time_unix_nano(start + duration);
  return span;
}

inline void SetInt(tpb::Span* span, const std::string& key, int64_t v) {
  auto* kv = span->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(v);
}

// A writer and a querier over a fresh temporary directory.
class QuerierFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sdb_querier_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    OpenWriter();
  }
  // (Re)opens the writer and querier over root_.
  void OpenWriter() {
    querier_.reset();
    writer_.reset();
    writer::WriterOptions o;
    o.wal_dir = (root_ / "wal").string();
    o.storage_dir = (root_ / "storage").string();
    o.flush_interval = std::chrono::hours(1);
    auto w = writer::Writer::Open(o);
    ASSERT_TRUE(w.ok()) << w.status();
    writer_ = std::move(*w);
    querier_ = std::make_unique<Querier>(writer_.get(), QuerierOptions{});
  }
  void TearDown() override {
    querier_.reset();
    writer_.reset();
    fs::remove_all(root_);
  }

  fs::path root_;
  std::unique_ptr<writer::Writer> writer_;
  std::unique_ptr<Querier> querier_;
};

class ThreeTracesTest : public QuerierFixture {
 protected:
  void SetUp() override {
    QuerierFixture::SetUp();
    if (HasFatalFailure() || !writer_) return;

    ExportTraceServiceRequest first;
    auto* root = AddSpan(&first, "frontend", kT1, 1, 0, "GET /checkout", kT0, 200 * kMs);
    root->set_kind(tpb::Span::SPAN_KIND_SERVER);
    auto* charge = AddSpan(&first, "payments", kT1, 2, 1, "charge", kT0 + 10 * kMs, 50 * kMs);
    charge->mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
    SetInt(charge, "http.status_code", 500);
    auto* amount = charge->add_attributes();
    amount->set_key("amount");
    amount->mutable_value()->set_double_value(9.5);
    AddSpan(&first, "frontend", kT2, 5, 0, "GET /cart", kT0 + 10000 * kMs, 30 * kMs);
    AddSpan(&first, "cache", kT2, 6, 5, "redis", kT0 + 10001 * kMs, 2 * kMs);
    ASSERT_TRUE(writer_->Write({}, Signal::kTraces, first.SerializeAsString()).ok());
    ASSERT_TRUE(writer_->FlushAll().ok());

    ExportTraceServiceRequest second;  // a later request, another file
    AddSpan(&second, "payments", kT1, 3, 2, "db", kT0 + 20 * kMs, 5 * kMs);
    auto* orphan = AddSpan(&second, "payments", kT3, 7, 9, "orphan", kT0 + 20000 * kMs, 1 * kMs);
    orphan->mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
    SetInt(orphan, "http.status_code", 503);
    ASSERT_TRUE(writer_->Write({}, Signal::kTraces, second.SerializeAsString()).ok());
    ASSERT_TRUE(writer_->FlushAll().ok());
  }
};

inline const std::string kId1 = "11111111111111111111111111111111";
inline const std::string kId3 = "33333333333333333333333333333333";

}  // namespace signaldb::querier::test_data
