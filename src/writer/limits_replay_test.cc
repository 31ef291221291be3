// Attribute limits and the WAL: the limits a request was stored under travel
// with it, so replay after a crash gives back exactly the acknowledged rows,
// whatever the limits are by then.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "schema/tables.h"
#include "writer/wal_record.h"
#include "writer/writer.h"

namespace signaldb::writer {
namespace {

namespace fs = std::filesystem;
using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using ::testing::HasSubstr;
using ::testing::Not;

// `spans` spans of trace `trace`, each with a string attribute of
// `value_bytes` bytes and then `attrs` int attributes.
std::string Spans(int trace, int spans, int attrs, size_t value_bytes) {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* svc = rs->mutable_resource()->add_attributes();
  svc->set_key("service.name");
  svc->mutable_value()->set_string_value("svc");
  auto* ss = rs->add_scope_spans();
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(15, '\0') + static_cast<char>(trace));
    s->set_span_id(std::string(7, '\0') + static_cast<char>(i + 1));
    s->set_name("op");
    s->set_start_time_unix_nano(1700000000000000000ULL + static_cast<uint64_t>(i));
    s->set_end_time_unix_nano(1700000000000001000ULL);
    auto* kv = s->add_attributes();
    kv->set_key("text");
    kv->mutable_value()->set_string_value(std::string(value_bytes, 'x'));
    for (int a = 0; a < attrs; ++a) {
      auto* kv = s->add_attributes();
      kv->set_key("a" + std::to_string(a));
      kv->mutable_value()->set_int_value(a);
    }
  }
  return req.SerializeAsString();
}

class LimitsReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');  // parameterized names
    root_ = fs::temp_directory_path() / ("sdb_limits_replay_test_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::unique_ptr<Writer> Open() {
    WriterOptions o;
    o.maintenance_interval = std::chrono::milliseconds(0);
    o.wal_dir = (root_ / "wal").string();
    o.storage_dir = (root_ / "storage").string();
    o.flush_interval = std::chrono::hours(1);  // flushes only when asked
    auto w = Writer::Open(o);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }
  // Stores `payload` as the acceptor does, under `limits`: decoded while it
  // is logged.
  ExportResult Store(Writer& w, Signal signal, const std::string& payload,
                     const otlp::AttributeLimits& limits) {
    auto r = w.Write({}, signal, payload, &limits);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : ExportResult{};
  }
  // The same with the request decoded first, and logged with the limits only
  // when they changed something.
  ExportResult StoreDecoded(Writer& w, Signal signal, const std::string& payload,
                            const otlp::AttributeLimits& limits) {
    auto decoded = DecodePayload(signal, payload, &limits);
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    auto r = w.WriteDecoded({}, signal, payload, std::move(*decoded));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : ExportResult{};
  }
  // Every stored span, attributes included, one line each, sorted.
  std::string Rows(Writer& w) {
    auto ds = w.GetDataset({});
    auto conn = (*ds)->db().Connect();
    auto t = (*conn)->Query(
        "SELECT string_agg(line, '\n' ORDER BY line) FROM (SELECT concat_ws('|', trace_id, "
        "span_id, "
        "CAST(span_attributes_string AS VARCHAR), CAST(span_attributes_int AS VARCHAR), "
        "dropped_attributes_count, resource_attributes) AS line FROM traces)");
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok() || t->rows.empty() || !std::holds_alternative<std::string>(t->rows[0][0]))
      return "";
    return std::get<std::string>(t->rows[0][0]);
  }
  std::string LogAttributes(Writer& w) {
    auto ds = w.GetDataset({});
    auto conn = (*ds)->db().Connect();
    auto t = (*conn)->Query("SELECT log_attributes FROM logs");
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok() || t->rows.size() != 1) return "";
    return std::get<std::string>(t->rows[0][0]);
  }
  // The WAL record types of the default dataset's `signal` log, in order.
  std::vector<wal::RecordType> RecordTypes(const char* signal) {
    auto log = wal::Wal::Open(DefaultFileSystem(),
                              (root_ / "wal" / "default" / "default" / signal).string(), {}, 0);
    EXPECT_TRUE(log.ok()) << log.status();
    std::vector<wal::RecordType> out;
    EXPECT_TRUE((*log)
                    ->Replay(0,
                             [&](uint64_t, wal::RecordType type, std::string_view) {
                               out.push_back(type);
                               return absl::OkStatus();
                             })
                    .ok());
    return out;
  }
  fs::path root_;
};

TEST(WalRecordTest, LimitsHeaderRoundTripsAndBadHeadersAreDataLoss) {
  const otlp::AttributeLimits limits{
      .max_attributes = 1024, .max_value_length = (1ull << 40) + 7, .reject = true};
  std::string record = EncodeLimitsHeader(limits) + "request";
  ASSERT_EQ(record.size(), kLimitsHeaderSize + 7);
  auto parsed = ParseLimitedRecord(record);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->limits, limits);
  EXPECT_EQ(parsed->request, "request");
  EXPECT_EQ(ParseLimitedRecord(record.substr(0, 10)).status().code(), absl::StatusCode::kDataLoss);
  std::string future = record;
  future[0] = 9;
  EXPECT_EQ(ParseLimitedRecord(future).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeWalRecord(Signal::kTraces, static_cast<wal::RecordType>(77), "").status().code(),
            absl::StatusCode::kDataLoss);
}

// The decoder says how to log what it decoded: plain when the limits changed
// nothing, limited (with the limits) when they did.
TEST(WalRecordTest, OnlyRequestsTheLimitsChangedAreLoggedWithThem) {
  const otlp::AttributeLimits limits{.max_attributes = 4, .max_value_length = 16};
  auto within = DecodePayload(Signal::kTraces, Spans(1, 2, 3, 16), &limits);
  ASSERT_TRUE(within.ok());
  EXPECT_EQ(within->record_type, wal::RecordType::kOtlpExport);
  EXPECT_TRUE(within->record_head.empty());
  auto over = DecodePayload(Signal::kTraces, Spans(1, 2, 3, 17), &limits);
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->record_type, wal::RecordType::kOtlpExportLimited);
  EXPECT_EQ(over->record_head, EncodeLimitsHeader(limits));
  EXPECT_EQ(over->truncated, 2u);
  // Replaying the limited record gives the same rows; without its limits it would not.
  const std::string record = over->record_head + Spans(1, 2, 3, 17);
  auto replayed = DecodeWalRecord(Signal::kTraces, wal::RecordType::kOtlpExportLimited, record);
  ASSERT_TRUE(replayed.ok());
  const auto& a = over->batches[0].column(schema::kSpanAttributesString).MapValues();
  const auto& b = replayed->batches[0].column(schema::kSpanAttributesString).MapValues();
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(a.StringAt(0), std::string(16, 'x'));
  EXPECT_EQ(b.StringAt(0), a.StringAt(0));
}

// Rows after a crash and restart equal the rows acknowledged before it,
// though the limits are different when the writer comes back; new requests
// get the new limits. Both ways of logging a request are checked: decoded
// while it is logged (the acceptor's; the limits go with every record), and
// decoded first (the limits go only with records they changed).
class LimitsReplayBothWaysTest : public LimitsReplayTest, public ::testing::WithParamInterface<bool> {};

TEST_P(LimitsReplayBothWaysTest, ReplayGivesBackTheAcknowledgedRowsAfterTheLimitsChanged) {
  const bool while_decoding = GetParam();
  auto Store = [&](Writer& w, Signal signal, const std::string& payload, const otlp::AttributeLimits& limits) {
    return while_decoding ? LimitsReplayTest::Store(w, signal, payload, limits)
                          : StoreDecoded(w, signal, payload, limits);
  };
  // Long enough for the key service.name, which every request has.
  const otlp::AttributeLimits before{.max_attributes = 3, .max_value_length = 12};
  const otlp::AttributeLimits before_reject{
      .max_attributes = 3, .max_value_length = 12, .reject = true};
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto w = Open();
    auto truncated = Store(*w, Signal::kTraces, Spans(1, 3, 5, 50), before);
    auto rejected = Store(*w, Signal::kTraces, Spans(2, 2, 5, 5), before_reject);
    auto plain = Store(*w, Signal::kTraces, Spans(3, 2, 1, 5), before);
    auto logs_limited = [&] {
      ExportLogsServiceRequest req;
      auto* rec = req.add_resource_logs()->add_scope_logs()->add_log_records();
      auto* kv = rec->add_attributes();
      kv->set_key("msg");
      kv->mutable_value()->set_string_value(std::string(64, 'm'));
      return Store(*w, Signal::kLogs, req.SerializeAsString(), before);
    }();
    const bool as_expected = truncated.accepted == 3 && truncated.truncated == 3 &&
                             rejected.rejected == 2 && rejected.accepted == 0 &&
                             plain.accepted == 2 && plain.message.empty() &&
                             logs_limited.truncated == 1 && !::testing::Test::HasFailure();
    if (!as_expected) {
      std::fprintf(stderr, "truncated %lu/%lu rejected %lu/%lu plain %lu '%s' logs %lu\n",
                   static_cast<unsigned long>(truncated.accepted),
                   static_cast<unsigned long>(truncated.truncated),
                   static_cast<unsigned long>(rejected.accepted),
                   static_cast<unsigned long>(rejected.rejected),
                   static_cast<unsigned long>(plain.accepted), plain.message.c_str(),
                   static_cast<unsigned long>(logs_limited.truncated));
    }
    std::ofstream(root_ / "rows_before") << Rows(*w);
    ::_exit(as_expected ? 0 : 1);  // the crash: nothing flushed or closed
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::string before_rows;
  {
    std::ifstream in(root_ / "rows_before");
    before_rows.assign(std::istreambuf_iterator<char>(in), {});
  }
  // 3 truncated spans and 2 plain ones; the rejected request wrote nothing.
  ASSERT_EQ(std::count(before_rows.begin(), before_rows.end(), '\n'), 4);
  EXPECT_THAT(before_rows, HasSubstr("{a0=0, a1=1}"));
  EXPECT_THAT(before_rows, Not(HasSubstr("a2")));
  EXPECT_THAT(before_rows, HasSubstr(std::string(12, 'x')));
  EXPECT_THAT(before_rows, Not(HasSubstr(std::string(13, 'x'))));
  if (while_decoding) {
    // Every request is logged, the wholly rejected one too, before the decode
    // could say whether the limits change it.
    EXPECT_EQ(RecordTypes("traces"), std::vector<wal::RecordType>(3, wal::RecordType::kOtlpExportLimitedUnchecked));
    EXPECT_EQ(RecordTypes("logs"),
              (std::vector<wal::RecordType>{wal::RecordType::kOtlpExportLimitedUnchecked}));
  } else {
    EXPECT_EQ(RecordTypes("traces"),
              (std::vector<wal::RecordType>{wal::RecordType::kOtlpExportLimited,
                                            wal::RecordType::kOtlpExport}));
    EXPECT_EQ(RecordTypes("logs"),
              (std::vector<wal::RecordType>{wal::RecordType::kOtlpExportLimited}));
  }

  // Restart: replay knows nothing of the limits in force now.
  auto w = Open();
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(Rows(*w), before_rows);
  EXPECT_EQ(LogAttributes(*w), R"([{"key":"msg","value":{"stringValue":"mmmmmmmmmmmm"}}])");
  const otlp::AttributeLimits after{.max_attributes = 1, .max_value_length = 2};
  auto fresh = Store(*w, Signal::kTraces, Spans(4, 1, 5, 50), after);
  EXPECT_EQ(fresh.truncated, 1u);
  ASSERT_TRUE(w->FlushAll().ok());
  std::string rows = Rows(*w);
  EXPECT_EQ(rows.substr(0, before_rows.size()), before_rows);  // trace 4 sorts last
  EXPECT_THAT(rows, HasSubstr("|{te=xx}|{}|5|"));  // key and value cut to 2 bytes, 5 dropped
  w.reset();
  auto again = Open();
  EXPECT_EQ(Rows(*again), rows);
}

INSTANTIATE_TEST_SUITE_P(LoggedWhileDecodingOrAfter, LimitsReplayBothWaysTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "WhileDecoding" : "DecodedFirst";
                         });

}  // namespace
}  // namespace signaldb::writer
