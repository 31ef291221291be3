#include "querier/querier.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "catalog/catalog.h"
#include "iceberg/table.h"
#include "objstore/object_store.h"
#include "objstore/s3rver_process.h"
#include "querier/test_traces.h"
#include "schema/tables.h"

namespace signaldb::querier {
namespace {

namespace fs = std::filesystem;
namespace tpb = opentelemetry::proto::trace::v1;
using google::protobuf::util::MessageDifferencer;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

const std::string kTrace(16, '\x42');

void AddAttr(google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* kvs,
             const std::string& k, const std::string& v) {
  auto* kv = kvs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

// Two resources; the first with two scopes. Every span field set somewhere.
ExportTraceServiceRequest RichRequest() {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
  AddAttr(rs->mutable_resource()->mutable_attributes(), "service.name", "frontend");
  rs->mutable_resource()->set_dropped_attributes_count(1);
  auto* ss = rs->add_scope_spans();
  ss->set_schema_url("scope-schema");
  ss->mutable_scope()->set_name("http");
  ss->mutable_scope()->set_version("1.2.3");
  AddAttr(ss->mutable_scope()->mutable_attributes(), "scope.attr", "x");
  ss->mutable_scope()->set_dropped_attributes_count(2);
  auto* root = ss->add_spans();
  root->set_trace_id(kTrace);
  root->set_span_id(std::string(8, '\x01'));
  root->set_trace_state("vendor=1");
  root->set_flags(0x301);
  root->set_name("GET /");
  root->set_kind(tpb::Span::SPAN_KIND_SERVER);
  root->set_start_time_unix_nano(1700000000000000000ULL);
  root->set_end_time_unix_nano(1700000000500000000ULL);
  auto* a = root->add_attributes();
  a->set_key("http.status_code");
  a->mutable_value()->set_int_value(200);
  a = root->add_attributes();
  a->set_key("ratio");
  a->mutable_value()->set_double_value(0.25);
  a = root->add_attributes();
  a->set_key("raw");
  a->mutable_value()->set_bytes_value(std::string("\x00\x01", 2));
  a = root->add_attributes();
  a->set_key("list");
  a->mutable_value()->mutable_array_value()->add_values()->set_bool_value(true);
  a = root->add_attributes();
  a->set_key("map");
  AddAttr(a->mutable_value()->mutable_kvlist_value()->mutable_values(), "inner", "v");
  // Every typed map, with values that are hard to carry exactly.
  AddAttr(root->mutable_attributes(), "http.method", "GET \"quoted\" \xc3\xa9");
  AddAttr(root->mutable_attributes(), "empty", "");
  for (auto [key, d] : {std::pair{"neg.zero", -0.0}, std::pair{"third", 1.0 / 3}, std::pair{"tiny", 4.9e-324},
                        std::pair{"inf", HUGE_VAL}, std::pair{"ninf", -HUGE_VAL}, std::pair{"nan", std::nan("")}}) {
    a = root->add_attributes();
    a->set_key(key);
    a->mutable_value()->set_double_value(d);
  }
  a = root->add_attributes();
  a->set_key("big");
  a->mutable_value()->set_int_value(INT64_MIN);
  a = root->add_attributes();
  a->set_key("sampled");
  a->mutable_value()->set_bool_value(false);
  a = root->add_attributes();
  a->set_key("no.value");
  root->set_dropped_attributes_count(3);
  auto* ev = root->add_events();
  ev->set_name("exception");
  ev->set_time_unix_nano(1700000000100000000ULL);
  AddAttr(ev->mutable_attributes(), "exception.message", "boom");
  ev->set_dropped_attributes_count(1);
  root->set_dropped_events_count(4);
  auto* link = root->add_links();
  link->set_trace_id(std::string(16, '\x07'));
  link->set_span_id(std::string(8, '\x08'));
  link->set_trace_state("t=1");
  link->set_flags(1);
  AddAttr(link->mutable_attributes(), "link.attr", "y");
  link->set_dropped_attributes_count(5);
  root->set_dropped_links_count(6);
  root->mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
  root->mutable_status()->set_message("failed");

  auto* ss2 = rs->add_scope_spans();
  ss2->mutable_scope()->set_name("db");
  auto* child = ss2->add_spans();
  child->set_trace_id(kTrace);
  child->set_span_id(std::string(8, '\x02'));
  child->set_parent_span_id(std::string(8, '\x01'));
  child->set_name("SELECT");
  child->set_kind(tpb::Span::SPAN_KIND_CLIENT);
  child->set_start_time_unix_nano(1700000000100000000ULL);
  child->set_end_time_unix_nano(1700000000200000000ULL);
  child->mutable_status()->set_code(tpb::Status::STATUS_CODE_OK);

  auto* rs2 = req.add_resource_spans();
  AddAttr(rs2->mutable_resource()->mutable_attributes(), "service.name", "backend");
  auto* other = rs2->add_scope_spans()->add_spans();
  other->set_trace_id(kTrace);
  other->set_span_id(std::string(8, '\x03'));
  other->set_parent_span_id(std::string(8, '\x02'));
  other->set_name("consume");
  other->set_kind(tpb::Span::SPAN_KIND_CONSUMER);
  other->set_start_time_unix_nano(1700000000300000000ULL);
  other->set_end_time_unix_nano(1700000000250000000ULL);  // ends before it starts
  return req;
}

class QuerierTest : public test_data::QuerierFixture {
 protected:
  void ExpectRoundTrip(const ExportTraceServiceRequest& sent) {
    auto got = querier_->FindTrace({}, kTrace);
    ASSERT_TRUE(got.ok()) << got.status();
    tpb::TracesData want;
    *want.mutable_resource_spans() = sent.resource_spans();
    // The store always materializes scope and status (as Tempo's output has them).
    for (auto& rs : *want.mutable_resource_spans()) {
      rs.mutable_resource();
      for (auto& ss : *rs.mutable_scope_spans()) {
        ss.mutable_scope();
        for (auto& span : *ss.mutable_spans()) {
          span.mutable_status();
          // Span attributes come back in key order (stored by value kind).
          std::sort(span.mutable_attributes()->pointer_begin(), span.mutable_attributes()->pointer_end(),
                    [](const auto* a, const auto* b) { return a->key() < b->key(); });
        }
      }
    }
    // NaN equals NaN here; -0 and 0 differ (bitwise equality of doubles is
    // what a lossless store owes).
    google::protobuf::util::DefaultFieldComparator cmp;
    cmp.set_treat_nan_as_equal(true);
    MessageDifferencer diff;
    diff.set_field_comparator(&cmp);
    EXPECT_TRUE(diff.Compare(want, *got)) << "want:\n" << want.DebugString() << "got:\n" << got->DebugString();
    bool saw_negative_zero = false;
    for (const auto& rs : got->resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) {
          for (const auto& kv : span.attributes()) {
            if (kv.key() == "neg.zero") saw_negative_zero = std::signbit(kv.value().double_value());
          }
        }
      }
    }
    EXPECT_TRUE(saw_negative_zero);
  }
};

TEST_F(QuerierTest, TraceRoundTripsLosslesslyBeforeAndAfterFlush) {
  auto req = RichRequest();
  ASSERT_TRUE(writer_->Write({}, Signal::kTraces, req.SerializeAsString()).ok());
  ExpectRoundTrip(req);
  ASSERT_TRUE(writer_->FlushAll().ok());
  ExpectRoundTrip(req);
}

TEST_F(QuerierTest, MergesRequestsAndDropsDuplicateSpans) {
  auto req = RichRequest();
  ASSERT_TRUE(writer_->Write({}, Signal::kTraces, req.SerializeAsString()).ok());
  ASSERT_TRUE(writer_->FlushAll().ok());
  ASSERT_TRUE(writer_->Write({}, Signal::kTraces, req.SerializeAsString()).ok());  // a client retry
  ExpectRoundTrip(req);
}

// Trace lookups read only the files whose trace_id bounds can hold the trace.
TEST_F(QuerierTest, TraceLookupPrunesFilesByBounds) {
  auto req = RichRequest();
  for (int i = 0; i < 3; ++i) {
    auto r = req;
    for (auto& rs : *r.mutable_resource_spans()) {
      for (auto& ss : *rs.mutable_scope_spans()) {
        for (auto& span : *ss.mutable_spans()) span.set_trace_id(std::string(16, static_cast<char>(0x10 * (i + 1))));
      }
    }
    ASSERT_TRUE(writer_->Write({}, Signal::kTraces, r.SerializeAsString()).ok());
    ASSERT_TRUE(writer_->FlushAll().ok());  // one file per trace
  }
  auto ds = writer_->GetDataset({});
  ASSERT_TRUE(ds.ok());
  std::string hex20;
  for (int i = 0; i < 16; ++i) hex20 += "20";
  using Predicate = writer::SignalStore::Predicate;
  auto& store = (*ds)->store(Signal::kTraces);
  auto planned = [&](std::vector<Predicate> predicates) {
    auto p = store.PlanScan("traces", predicates);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? p->files.size() : size_t{999};
  };
  auto plan = store.PlanScan("traces", {{Predicate::kStringEquals, "trace_id", hex20}});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->total_files, 3u);
  EXPECT_EQ(plan->files.size(), 1u);
  EXPECT_EQ(planned({{Predicate::kStringEquals, "trace_id", std::string(32, '9')}}), 0u);
  // Time bounds prune too: every span here starts in 2023.
  EXPECT_EQ(planned({{Predicate::kIntAtMost, "start_time_unix_nano", "", 1600000000000000000LL}}), 0u);
  EXPECT_EQ(planned({{Predicate::kIntAtLeast, "end_time_unix_nano", "", 1600000000000000000LL}}), 3u);
  auto got = querier_->FindTrace({}, std::string(16, '\x20'));
  ASSERT_TRUE(got.ok()) << got.status();
  int spans = 0;
  for (const auto& rs : got->resource_spans()) {
    for (const auto& ss : rs.scope_spans()) spans += ss.spans_size();
  }
  EXPECT_EQ(spans, 3);
}

// Files without column statistics (as other engines may write them) are
// still pruned by their hour partition, and found through the trace filter.
TEST_F(QuerierTest, TraceLookupPrunesFilesByPartitionWithoutBounds) {
  constexpr uint64_t kHourNanos = 3600ULL * 1000000000;
  constexpr uint64_t kBase = 472222ULL * kHourNanos;  // an hour in 2023
  for (uint64_t i = 0; i < 3; ++i) {
    ExportTraceServiceRequest r;
    auto* span = r.add_resource_spans()->add_scope_spans()->add_spans();
    span->set_trace_id(std::string(16, static_cast<char>(0x10 * (i + 1))));
    span->set_span_id(std::string(8, '\x01'));
    span->set_start_time_unix_nano(kBase + i * 5 * kHourNanos + 10);
    span->set_end_time_unix_nano(kBase + i * 5 * kHourNanos + 20);
    ASSERT_TRUE(writer_->Write({}, Signal::kTraces, r.SerializeAsString()).ok());
    ASSERT_TRUE(writer_->FlushAll().ok());  // hours 0, 5 and 10: one file each
  }
  writer_.reset();
  {
    // Rewrite the manifest entries without bounds (same data files).
    const std::string storage = (root_ / "storage").string();
    auto cat = catalog::OpenCatalog(storage + "/catalog.db");
    ASSERT_TRUE(cat.ok()) << cat.status();
    auto objects = objstore::Open("file://" + storage);
    ASSERT_TRUE(objects.ok()) << objects.status();
    auto table = iceberg::IcebergTable::Open(cat->get(), objects->get(), {"default", "default"}, "traces",
                                             "default/default/traces", schema::Traces(),
                                             {"trace_id", "start_time_unix_nano"});
    ASSERT_TRUE(table.ok()) << table.status();
    auto files = (*table)->Files();
    ASSERT_TRUE(files.ok()) << files.status();
    ASSERT_EQ(files->size(), 3u);
    std::vector<std::string> removed;
    for (auto& f : *files) {
      removed.push_back(f.file_path);
      ASSERT_TRUE(f.partition_hour.has_value());
      f.lower_bounds.clear();
      f.upper_bounds.clear();
    }
    ASSERT_TRUE((*table)->Rewrite(removed, *files, "replace").ok());
  }
  OpenWriter();
  ASSERT_TRUE(writer_);

  auto ds = writer_->GetDataset({});
  ASSERT_TRUE(ds.ok());
  using Predicate = writer::SignalStore::Predicate;
  auto planned = [&](std::vector<Predicate> predicates) {
    auto p = (*ds)->store(Signal::kTraces).PlanScan("traces", predicates);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? p->files.size() : size_t{999};
  };
  const auto at = [&](uint64_t hour, uint64_t offset = 0) { return static_cast<int64_t>(kBase + hour * kHourNanos + offset); };
  EXPECT_EQ(planned({}), 3u);
  // Start at most in hour 4: only hour 0's file; at least hour 6: hour 10's.
  EXPECT_EQ(planned({{Predicate::kIntAtMost, "start_time_unix_nano", "", at(4)}}), 1u);
  EXPECT_EQ(planned({{Predicate::kIntAtLeast, "start_time_unix_nano", "", at(6)}}), 1u);
  EXPECT_EQ(planned({{Predicate::kIntAtLeast, "start_time_unix_nano", "", at(5, 1)},
                     {Predicate::kIntAtMost, "start_time_unix_nano", "", at(5, 2)}}),
            1u);
  EXPECT_EQ(planned({{Predicate::kIntAtLeast, "start_time_unix_nano", "", at(11)}}), 0u);
  // The same through the microsecond timestamp column.
  EXPECT_EQ(planned({{Predicate::kIntAtMost, "timestamp", "", at(4) / 1000}}), 1u);
  // No trace_id bounds either: the trace filter alone picks the file.
  EXPECT_EQ(planned({{Predicate::kStringEquals, "trace_id", std::string(32, '2') }}), 0u);
  std::string hex20;
  for (int i = 0; i < 16; ++i) hex20 += "20";
  EXPECT_EQ(planned({{Predicate::kStringEquals, "trace_id", hex20}}), 1u);
  auto got = querier_->FindTrace({}, std::string(16, '\x20'));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->resource_spans_size(), 1);
}

TEST_F(QuerierTest, UnknownTraceIsEmptyAndRangeFilters) {
  auto req = RichRequest();
  ASSERT_TRUE(writer_->Write({}, Signal::kTraces, req.SerializeAsString()).ok());
  auto none = querier_->FindTrace({}, std::string(16, '\x09'));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->resource_spans_size(), 0);
  auto late = querier_->FindTrace({}, kTrace, {.start_unix_nano = 1800000000000000000LL, .end_unix_nano = {}});
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->resource_spans_size(), 0);
}

TEST_F(QuerierTest, SqlSeesUnflushedRowsAndIsLockedDown) {
  auto req = RichRequest();
  ASSERT_TRUE(writer_->Write({}, Signal::kTraces, req.SerializeAsString()).ok());
  auto t = querier_->Sql({}, "SELECT span_name, duration_nanos, span_kind, status_code FROM traces ORDER BY start_time_unix_nano");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(std::get<std::string>(t->rows[0][0]), "GET /");
  EXPECT_EQ(std::get<int64_t>(t->rows[0][1]), 500000000);
  EXPECT_EQ(std::get<std::string>(t->rows[0][2]), "server");
  EXPECT_EQ(std::get<std::string>(t->rows[0][3]), "error");
  EXPECT_EQ(std::get<int64_t>(t->rows[2][1]), 0);  // end < start: zero, not an underflow
  // Span attributes are typed maps; the other JSON columns have attr().
  t = querier_->Sql({}, "SELECT span_attributes_int['http.status_code'], span_attributes_double['ratio'], "
                        "attr(resource_attributes, 'service.name'), span_attributes_string['nope'], "
                        "span_attributes_string['http.status_code'] "
                        "FROM traces WHERE span_name = 'GET /'");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(std::get<int64_t>(t->rows[0][0]), 200);
  EXPECT_EQ(std::get<double>(t->rows[0][1]), 0.25);
  EXPECT_EQ(std::get<std::string>(t->rows[0][2]), "frontend");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(t->rows[0][3]));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(t->rows[0][4]));  // an int, not a string
  EXPECT_EQ(querier_->Sql({}, "SELECT * FROM read_csv('/etc/passwd')").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(querier_->Sql({}, "DELETE FROM _buf_traces").status().code(), absl::StatusCode::kInvalidArgument);
  // Paging.
  const std::string names = "SELECT span_name FROM traces ORDER BY start_time_unix_nano";
  t = querier_->Sql({}, names, {.limit = 2, .offset = 1});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_FALSE(t->truncated);
  t = querier_->Sql({}, names, {.limit = 1});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(std::get<std::string>(t->rows[0][0]), "GET /");
  EXPECT_TRUE(t->truncated);
}

// The cost guard counts the data files of the tables a query names.
TEST_F(QuerierTest, SqlRefusesQueriesOverTooMuchData) {
  ASSERT_TRUE(writer_->Write({}, Signal::kTraces, RichRequest().SerializeAsString()).ok());
  Querier small(writer_.get(), QuerierOptions{.sql_max_scanned_bytes = 100});
  EXPECT_TRUE(small.Sql({}, "SELECT count(*) FROM traces").ok());  // nothing flushed yet
  ASSERT_TRUE(writer_->FlushAll().ok());
  auto t = small.Sql({}, "SELECT count(*) FROM traces");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(t.status().message().find("query.max_scanned_bytes"), std::string::npos) << t.status();
  EXPECT_TRUE(small.Sql({}, "SELECT count(*) FROM logs").ok());  // other tables are small
  EXPECT_TRUE(querier_->Sql({}, "SELECT count(*) FROM traces").ok());  // no limit
}

}  // namespace
}  // namespace signaldb::querier

namespace signaldb::querier {
namespace {

// Tables on remote storage (a real S3-compatible server, and memory): data
// files are staged, uploaded and read back through the dataset's disk cache,
// for trace lookups, SQL, compaction and after a restart; nothing of the
// table is left in local files but cached copies.
TEST(RemoteStorageTest, TracesRoundTripThroughObjectStores) {
  auto s3rver = objstore::S3rverProcess::Start({"lake"});
  ASSERT_TRUE(s3rver.ok()) << s3rver.status();
  for (std::string uri : {std::string("s3://lake/signaldb"), std::string("memory://querier-test")}) {
    SCOPED_TRACE(uri);
    fs::path root = fs::temp_directory_path() / ("sdb_remote_test_" + std::to_string(::getpid()));
    fs::remove_all(root);
    writer::WriterOptions o;
    o.wal_dir = (root / "wal").string();
    o.storage_dir = (root / "local").string();
    o.storage_uri = uri;
    o.catalog_uri = (root / "catalog.db").string();  // survives the local directory
    o.s3.endpoint = (*s3rver)->endpoint();
    o.s3.path_style = true;
    o.s3.access_key_id = objstore::S3rverProcess::kAccessKeyId;
    o.s3.secret_access_key = objstore::S3rverProcess::kSecretAccessKey;
    o.flush_interval = std::chrono::hours(1);
    o.maintenance_interval = std::chrono::milliseconds(0);
    auto open = [&](uint64_t cache_bytes) {
      o.cache_bytes = cache_bytes;
      auto w = writer::Writer::Open(o);
      EXPECT_TRUE(w.ok()) << w.status();
      return w.ok() ? std::move(*w) : nullptr;
    };
    auto count = [](Querier& q) {
      auto t = q.Sql({}, "SELECT count(*) FROM traces");
      EXPECT_TRUE(t.ok()) << t.status();
      return t.ok() ? std::get<int64_t>(t->rows[0][0]) : -1;
    };
    auto spans = [](Querier& q) {
      auto got = q.FindTrace({}, kTrace);
      EXPECT_TRUE(got.ok()) << got.status();
      int n = 0;
      for (const auto& rs : got->resource_spans()) {
        for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
      }
      return n;
    };
    {
      auto w = open(64 << 20);
      ASSERT_NE(w, nullptr);
      Querier q(w.get(), {});
      auto req = RichRequest();
      ASSERT_TRUE(w->Write({}, Signal::kTraces, req.SerializeAsString()).ok());
      ASSERT_TRUE(w->FlushAll().ok());
      ASSERT_TRUE(w->Write({}, Signal::kTraces, req.SerializeAsString()).ok());
      ASSERT_TRUE(w->FlushAll().ok());
      EXPECT_EQ(count(q), 6);  // two copies of three spans, both from remote files
      EXPECT_EQ(spans(q), 3);  // duplicates merged
      auto r = w->MaintainAll(std::chrono::system_clock::now());
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->compacted_files, 2u);
      EXPECT_EQ(count(q), 6);
      ASSERT_TRUE(w->Close().ok());
    }
    // The only Parquet files on local disk are cached copies.
    for (const auto& e : fs::recursive_directory_iterator(root / "local")) {
      if (e.path().extension() == ".parquet") {
        EXPECT_NE(e.path().string().find("/.cache/"), std::string::npos) << e.path();
      }
    }
    fs::remove_all(root / "local");  // nothing cached or staged any more
    {
      auto w = open(64 << 20);
      ASSERT_NE(w, nullptr);
      Querier q(w.get(), {});
      EXPECT_EQ(spans(q), 3);
      EXPECT_EQ(count(q), 6);
    }
    {
      auto w = open(100);  // a cache too small for the data
      ASSERT_NE(w, nullptr);
      Querier q(w.get(), {});
      auto t = q.Sql({}, "SELECT count(*) FROM traces");
      EXPECT_EQ(t.status().code(), absl::StatusCode::kResourceExhausted) << t.status();
      // A query that names no table fetches nothing.
      auto one = q.Sql({}, "SELECT 42 AS answer");
      EXPECT_TRUE(one.ok()) << one.status();
    }
    fs::remove_all(root);
  }
}

}  // namespace
}  // namespace signaldb::querier
