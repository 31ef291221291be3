// Ingest-path benchmarks, each beside its baseline:
//   decode:  OTLP request -> columnar batch, vs. protobuf parsing alone (and
//            under attribute limits none of its spans exceed);
//   wal:     durable appends (fdatasync each) through our WAL with group
//            commit, vs. a bare write()+fdatasync() loop on one file;
//   writer:  the whole acknowledged path (decode + WAL + buffer), vs. decode;
//   flush:   buffered rows to Parquet with our writer, vs. DuckDB's COPY
//            (and our encoder alone: BM_ParquetEncode).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "columnar/batch.h"
#include "counting_file.h"
#include "loadgen/generator.h"
#include "otlp/trace_decoder.h"
#include "schema/tables.h"
#include "wal/wal.h"
#include "writer/data_files.h"
#include "writer/writer.h"
#include "parquet/writer.h"
#include "spdlog/spdlog.h"

namespace {

using namespace signaldb;  // NOLINT
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

ExportTraceServiceRequest MakeRequest(int spans, uint64_t seed) {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("bench-service");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("bench");
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    std::string tid(16, '\0'), sid(8, '\0');
    uint64_t t = seed * 1000003 + static_cast<uint64_t>(i / 10) + 1, sp = seed * 7919 + static_cast<uint64_t>(i) + 1;
    std::memcpy(tid.data(), &t, 8);
    std::memcpy(sid.data(), &sp, 8);
    s->set_trace_id(tid);
    s->set_span_id(sid);
    s->set_name("GET /api/items/{id}");
    s->set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
    s->set_start_time_unix_nano(1700000000000000000ULL + static_cast<uint64_t>(i) * 1000);
    s->set_end_time_unix_nano(1700000000000500000ULL + static_cast<uint64_t>(i) * 1000);
    for (int a = 0; a < 8; ++a) {
      auto* attr = s->add_attributes();
      attr->set_key("attr." + std::to_string(a));
      if (a % 2) attr->mutable_value()->set_int_value(a * 100);
      else attr->mutable_value()->set_string_value("value-" + std::to_string(a));
    }
  }
  return req;
}

void BM_Baseline_ProtobufParse(benchmark::State& state) {
  std::string bytes = MakeRequest(100, 1).SerializeAsString();
  for (auto _ : state) {
    ExportTraceServiceRequest req;
    benchmark::DoNotOptimize(req.ParseFromString(bytes));
  }
  state.SetItemsProcessed(state.iterations() * 100);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_Baseline_ProtobufParse);

void BM_DecodeTraces(benchmark::State& state) {
  std::string bytes = MakeRequest(100, 1).SerializeAsString();
  for (auto _ : state) {
    columnar::Batch batch(&schema::Traces());
    benchmark::DoNotOptimize(otlp::DecodeTracesProto(bytes, &batch));
  }
  state.SetItemsProcessed(state.iterations() * 100);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_DecodeTraces);

// Realistic 1000-span requests (loadgen's default profile, ~400 KB each),
// as the ingest benchmark sends them.
void BM_DecodeRealisticTraces(benchmark::State& state) {
  loadgen::Generator gen(loadgen::Profile{}, 42);
  std::vector<std::string> requests;
  for (int i = 0; i < 8; ++i) requests.push_back(gen.Traces(1000).SerializeAsString());
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& r = requests[i++ % requests.size()];
    columnar::Batch batch(&schema::Traces());
    benchmark::DoNotOptimize(otlp::DecodeTracesProto(r, &batch));
    bytes += static_cast<int64_t>(r.size());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_DecodeRealisticTraces)->Unit(benchmark::kMillisecond);

// The same as a server meets them: each request's batch stays buffered (here
// the last 100), so its memory is not the previous batch's, and the caches
// hold other work's data when the request arrives. The argument idles the
// thread that many milliseconds before each decode, as a lightly loaded
// server does between requests (on this VM a core woken from idle decodes
// markedly slower).
void BM_DecodeRealisticTracesCold(benchmark::State& state) {
  loadgen::Generator gen(loadgen::Profile{}, 42);
  std::vector<std::string> requests;
  for (int i = 0; i < 8; ++i) requests.push_back(gen.Traces(1000).SerializeAsString());
  std::vector<std::unique_ptr<columnar::Batch>> kept(100);
  std::vector<char> other(64 << 20);
  size_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t k = 0; k < other.size(); k += 64) other[k] = static_cast<char>(other[k] + 1);
    benchmark::DoNotOptimize(other.data());
    if (state.range(0) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(state.range(0)));
    state.ResumeTiming();
    const std::string& r = requests[i % requests.size()];
    auto batch = std::make_unique<columnar::Batch>(&schema::Traces());
    benchmark::DoNotOptimize(otlp::DecodeTracesProto(r, batch.get()));
    kept[i++ % kept.size()] = std::move(batch);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_DecodeRealisticTracesCold)->Arg(0)->Arg(50)->Unit(benchmark::kMillisecond);

// The same under the default attribute limits (1024 attributes, 1 MiB
// values), none exceeded: what the limits cost a request within them.
void BM_DecodeTracesUnderLimits(benchmark::State& state) {
  std::string bytes = MakeRequest(100, 1).SerializeAsString();
  const otlp::AttributeLimits limits{.max_attributes = 1024, .max_value_length = 1 << 20};
  for (auto _ : state) {
    columnar::Batch batch(&schema::Traces());
    benchmark::DoNotOptimize(otlp::DecodeTracesProto(bytes, &batch, &limits));
  }
  state.SetItemsProcessed(state.iterations() * 100);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_DecodeTracesUnderLimits);

std::string BenchDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("sdb_bench_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void BM_Baseline_WriteFdatasync(benchmark::State& state) {
  static int fd = -1;
  static std::string dir;
  if (state.thread_index() == 0) {
    dir = BenchDir("raw");
    fd = ::open((dir + "/raw").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  std::string rec(1024, 'x');
  for (auto _ : state) {
    if (::write(fd, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size())) state.SkipWithError("write");
    ::fdatasync(fd);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    ::close(fd);
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_Baseline_WriteFdatasync)->Threads(1)->Threads(8)->UseRealTime();

void BM_WalAppend(benchmark::State& state) {
  static std::unique_ptr<wal::Wal> log;
  static std::string dir;
  if (state.thread_index() == 0) {
    dir = BenchDir("wal");
    log = std::move(*wal::Wal::Open(DefaultFileSystem(), dir, {}, 0));
  }
  std::string rec(1024, 'x');
  for (auto _ : state) {
    if (!log->Append(wal::RecordType::kOtlpExport, rec).ok()) state.SkipWithError("append");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    log.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_WalAppend)->Threads(1)->Threads(8)->UseRealTime();

void BM_WriterIngest(benchmark::State& state) {
  static std::unique_ptr<writer::Writer> w;
  static std::string dir;
  if (state.thread_index() == 0) {
    dir = BenchDir("writer");
    writer::WriterOptions o;
    o.wal_dir = dir + "/wal";
    o.storage_dir = dir + "/storage";
    o.flush_interval = std::chrono::seconds(5);
    w = std::move(*writer::Writer::Open(o));
  }
  uint64_t seed = static_cast<uint64_t>(state.thread_index()) * 1000000;
  for (auto _ : state) {
    state.PauseTiming();
    auto req = MakeRequest(100, ++seed);
    std::string bytes = req.SerializeAsString();
    state.ResumeTiming();
    if (!w->Write({}, Signal::kTraces, bytes).ok()) state.SkipWithError("write");
  }
  state.SetItemsProcessed(state.iterations() * 100);
  if (state.thread_index() == 0) {
    w.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_WriterIngest)->Threads(1)->Threads(8)->UseRealTime();

// Flushing buffered rows to Parquet files: the writer's sustained ceiling.
// Arguments: the encoder (0: DuckDB's COPY, the baseline; 1: our writer)
// and the data (0: the small spans of MakeRequest; 1: signal-producer's
// realistic spans; 2: its logs; 3: its metrics). Reports rows/s and the
// stored Parquet bytes per row.
void BM_Flush(benchmark::State& state) {
  const bool native = state.range(0) == 1;
  const int data = static_cast<int>(state.range(1));
  std::string dir = BenchDir("flush");
  writer::WriterOptions o;
  o.wal_dir = dir + "/wal";
  o.storage_dir = dir + "/storage";
  o.flush_interval = std::chrono::hours(1);
  o.maintenance_interval = std::chrono::milliseconds(0);
  o.parquet_encoder = native ? writer::ParquetEncoder::kNative : writer::ParquetEncoder::kDuckDb;
  auto w = std::move(*writer::Writer::Open(o));
  const Signal signal = data == 2 ? Signal::kLogs : data == 3 ? Signal::kMetrics : Signal::kTraces;
  std::vector<std::string> requests;
  loadgen::Generator gen(loadgen::Profile{}, 42);
  for (int i = 0; i < 20; ++i) {
    switch (data) {
      case 0: requests.push_back(MakeRequest(1000, static_cast<uint64_t>(i) + 7).SerializeAsString()); break;
      case 1: requests.push_back(gen.Traces(1000).SerializeAsString()); break;
      case 2: requests.push_back(gen.Logs(1000).SerializeAsString()); break;
      default: requests.push_back(gen.Metrics(1000).SerializeAsString()); break;
    }
  }
  uint64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (const auto& r : requests) {
      auto written = w->Write({}, signal, r);
      if (!written.ok()) {
        state.SkipWithError("write");
        break;
      }
      rows += written->accepted;
    }
    state.ResumeTiming();
    if (!w->FlushAll().ok()) state.SkipWithError("flush");
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(o.storage_dir)) {
    if (e.is_regular_file() && e.path().extension() == ".parquet") bytes += e.file_size();
  }
  state.counters["B/row"] = rows ? static_cast<double>(bytes) / static_cast<double>(rows) : 0;
  w.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Flush)
    ->ArgNames({"native", "data"})
    ->ArgsProduct({{0, 1}, {0, 1, 2, 3}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

using signaldb::bench::CountingFile;

// Our Parquet encoder alone (no file system, no commit): realistic
// 1000-span batches, sorted by trace as a flush sorts them, to one file.
// Arguments: dictionary encoding of strings (0/1), the zstd level and the
// number of batches (a flush of 120 is what the ingest benchmark's server
// writes at its maximum rate: its buffers outgrow the caches).
void BM_ParquetEncode(benchmark::State& state) {
  loadgen::Generator gen(loadgen::Profile{}, 42);
  std::vector<std::shared_ptr<const columnar::Batch>> batches;
  for (int i = 0; i < static_cast<int>(state.range(2)); ++i) {
    auto b = std::make_shared<columnar::Batch>(&schema::Traces());
    if (!otlp::DecodeTracesProto(gen.Traces(1000).SerializeAsString(), b.get()).ok()) state.SkipWithError("decode");
    batches.push_back(std::move(b));
  }
  auto rows = columnar::SortRows(batches, writer::SortColumnIndexes(schema::Traces()));
  auto options = writer::NativeParquetOptions(schema::Traces(), static_cast<int>(state.range(1)));
  options.dictionary = state.range(0) == 1;
  uint64_t bytes = 0;
  for (auto _ : state) {
    CountingFile out;
    if (!parquet::WriteFile(schema::Traces(), batches, rows, options, &out).ok()) state.SkipWithError("write");
    bytes = out.Size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
  state.counters["B/row"] = static_cast<double>(bytes) / static_cast<double>(rows.size());
}
BENCHMARK(BM_ParquetEncode)
    ->ArgNames({"dict", "zstd", "batches"})
    ->Args({1, 3, 20})
    ->Args({0, 3, 20})
    ->Args({1, 1, 20})
    ->Args({1, 1, 30})
    ->Args({1, 1, 40})
    ->Args({1, 1, 60})
    ->Args({1, 1, 120})
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  // SIGNALDB_BENCH_DEBUG=1 logs each flush's timings.
  if (getenv("SIGNALDB_BENCH_DEBUG")) spdlog::set_level(spdlog::level::debug);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
}
