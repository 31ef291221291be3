// The storage benchmark (make bench): starts the real signaldb on a temp data
// dir, sends freshly generated traces, logs and metrics of signal-producer's
// default profile over OTLP/HTTP protobuf, waits until every row is in
// Parquet, and reports the stored bytes per span, log record and data point
// (Parquet data files; Iceberg metadata separately) beside two baselines from
// the same run: the OTLP protobuf bytes received and those bytes compressed
// with zstd (level 3, per request), i.e. a store that keeps the wire format.
// Each zstd level is measured with both flush encoders (--writers).
#include <zstd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "loadgen/generator.h"
#include "loadgen/sender.h"
#include "server_process.h"

namespace {

using namespace signaldb;  // NOLINT
namespace fs = std::filesystem;

struct Sent {
  uint64_t items = 0, proto_bytes = 0, zstd_bytes = 0;
};

uint64_t Count(const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& r) {
  uint64_t n = 0;
  for (const auto& rs : r.resource_spans())
    for (const auto& ss : rs.scope_spans()) n += static_cast<uint64_t>(ss.spans_size());
  return n;
}
uint64_t Count(const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& r) {
  uint64_t n = 0;
  for (const auto& rl : r.resource_logs())
    for (const auto& sl : rl.scope_logs()) n += static_cast<uint64_t>(sl.log_records_size());
  return n;
}
uint64_t Count(const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& r) {
  using opentelemetry::proto::metrics::v1::Metric;
  uint64_t n = 0;
  for (const auto& rm : r.resource_metrics())
    for (const auto& sm : rm.scope_metrics())
      for (const auto& m : sm.metrics()) {
        switch (m.data_case()) {
          case Metric::kGauge: n += static_cast<uint64_t>(m.gauge().data_points_size()); break;
          case Metric::kSum: n += static_cast<uint64_t>(m.sum().data_points_size()); break;
          case Metric::kHistogram: n += static_cast<uint64_t>(m.histogram().data_points_size()); break;
          case Metric::kExponentialHistogram:
            n += static_cast<uint64_t>(m.exponential_histogram().data_points_size());
            break;
          case Metric::kSummary: n += static_cast<uint64_t>(m.summary().data_points_size()); break;
          default: break;
        }
      }
  return n;
}

// Sends `total` items in requests of `per_request`, generated fresh (distinct
// ids and timestamps, as a real producer's are) by `threads` clients.
template <typename MakeRequest>
Sent Send(const bench::ServerProcess& server, Signal signal, uint64_t total, int per_request, int threads,
          MakeRequest make) {
  std::vector<Sent> parts(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      loadgen::Generator gen(loadgen::Profile{}, 7000 + static_cast<uint64_t>(t));
      auto sender = loadgen::MakeSender(loadgen::Transport::kHttpProtobuf,
                                        server.target(loadgen::Transport::kHttpProtobuf));
      Sent& mine = parts[static_cast<size_t>(t)];
      ZSTD_CCtx* z = ZSTD_createCCtx();
      std::string packed;
      while (mine.items < total / static_cast<uint64_t>(threads)) {
        auto req = make(gen, per_request);
        std::string body = loadgen::Encode(loadgen::Transport::kHttpProtobuf, req);
        absl::Status st = sender->Send(signal, body);
        for (int retry = 0; !st.ok() && retry < 100; ++retry) {  // overload answers are retryable
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          st = sender->Send(signal, body);
        }
        if (!st.ok()) {
          std::fprintf(stderr, "send failed: %s\n", st.ToString().c_str());
          failures++;
          break;
        }
        packed.resize(ZSTD_compressBound(body.size()));
        size_t zn = ZSTD_compressCCtx(z, packed.data(), packed.size(), body.data(), body.size(), 3);
        mine.items += Count(req);
        mine.proto_bytes += body.size();
        mine.zstd_bytes += ZSTD_isError(zn) ? body.size() : zn;
      }
      ZSTD_freeCCtx(z);
    });
  }
  for (auto& w : workers) w.join();
  if (failures > 0) std::exit(1);
  Sent s;
  for (const auto& p : parts) {
    s.items += p.items;
    s.proto_bytes += p.proto_bytes;
    s.zstd_bytes += p.zstd_bytes;
  }
  return s;
}

struct Stored {
  uint64_t data_bytes = 0, data_files = 0, metadata_bytes = 0;
};

// Sums the Parquet data files and Iceberg metadata of the tables whose names
// start with `prefix` in the default tenant/dataset.
Stored Measure(const fs::path& dir, const std::string& prefix) {
  Stored s;
  fs::path root = dir / "storage" / "default" / "default";
  if (!fs::exists(root)) return s;
  for (const auto& table : fs::directory_iterator(root)) {
    std::string name = table.path().filename().string();
    if (!table.is_directory() || name.rfind(prefix, 0) != 0) continue;
    for (const auto& f : fs::recursive_directory_iterator(table.path())) {
      if (!f.is_regular_file()) continue;
      std::string rel = fs::relative(f.path(), table.path()).string();
      if (rel.rfind("data/", 0) == 0 && f.path().extension() == ".parquet") {
        s.data_bytes += f.file_size();
        s.data_files++;
      } else if (rel.rfind("metadata/", 0) == 0) {
        s.metadata_bytes += f.file_size();
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SignalDB storage benchmark"};
  std::string binary = "build/bin/signaldb";
  uint64_t spans = 1'000'000, logs = 500'000, points = 500'000;
  int per_request = 1000, threads = 2;
  bool keep = false;
  std::vector<int> levels = {1, 9};
  app.add_option("--signaldb", binary, "signaldb binary")->capture_default_str();
  app.add_option("--spans", spans, "spans to send")->capture_default_str();
  app.add_option("--logs", logs, "log records to send")->capture_default_str();
  app.add_option("--points", points, "metric data points to send")->capture_default_str();
  app.add_option("--per-request", per_request, "items per export request")->capture_default_str();
  app.add_option("--threads", threads, "concurrent clients")->capture_default_str();
  app.add_option("--levels", levels, "[storage] compression_level values to measure")->delimiter(',');
  app.add_flag("--keep", keep, "keep the data directory for inspection");
  std::vector<std::string> writers = {"native", "duckdb"};
  app.add_option("--writers", writers, "[storage] parquet_writer values to measure (our encoder, DuckDB's COPY)")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);

  std::printf("storage benchmark: signal-producer default profile, %d items per OTLP/HTTP protobuf request\n",
              per_request);
  std::printf("%-8s %-7s %5s %10s %7s | %12s %12s | %12s %10s %10s | %8s\n", "signal", "writer", "zstd", "items",
              "files",
              "otlp B/item", "otlp+zstd", "stored B/it", "vs otlp", "vs zstd", "meta B/it");
  std::vector<std::pair<std::string, int>> runs;
  for (const auto& w : writers)
    for (int l : levels) runs.emplace_back(w, l);
  for (const auto& [writer, level] : runs) {
    fs::path dir = fs::temp_directory_path() /
                   ("sdb_storage_bench_" + std::to_string(::getpid()) + "_" + writer + "_" + std::to_string(level));
    fs::create_directories(dir);
    Sent sent[3];
    {
      bench::ServerProcess server(binary, dir.string(),
                                  {"SIGNALDB_STORAGE__COMPRESSION_LEVEL=" + std::to_string(level),
                                   "SIGNALDB_STORAGE__PARQUET_WRITER=" + writer});
      sent[0] = Send(server, Signal::kTraces, spans, per_request, threads,
                     [](loadgen::Generator& g, int n) { return g.Traces(n); });
      sent[1] = Send(server, Signal::kLogs, logs, per_request, threads,
                     [](loadgen::Generator& g, int n) { return g.Logs(n); });
      sent[2] = Send(server, Signal::kMetrics, points, per_request, threads,
                     [](loadgen::Generator& g, int n) { return g.Metrics(n); });
      server.WaitDrained();
    }  // a clean stop flushes whatever is left
    Stored stored[3] = {Measure(dir, "traces"), Measure(dir, "logs"), Measure(dir, "metrics_")};
    const char* names[3] = {"spans", "logs", "points"};
    for (int i = 0; i < 3; ++i) {
      double n = static_cast<double>(sent[i].items);
      if (n == 0) continue;
      double proto = static_cast<double>(sent[i].proto_bytes) / n;
      double zstd = static_cast<double>(sent[i].zstd_bytes) / n;
      double data = static_cast<double>(stored[i].data_bytes) / n;
      std::printf("%-8s %-7s %5d %10llu %7llu | %12.1f %12.1f | %12.1f %9.3fx %9.2fx | %8.2f\n", names[i],
                  writer.c_str(), level,
                  static_cast<unsigned long long>(sent[i].items),
                  static_cast<unsigned long long>(stored[i].data_files), proto, zstd, data, data / proto, data / zstd,
                  static_cast<double>(stored[i].metadata_bytes) / n);
    }
    if (sent[0].items > 0) {
      std::printf("%s writer, zstd level %d: stored bytes per span %.1f (target <= 40)\n", writer.c_str(), level,
                  static_cast<double>(stored[0].data_bytes) / static_cast<double>(sent[0].items));
    }
    if (keep) {
      std::printf("data kept in %s\n", dir.c_str());
    } else {
      fs::remove_all(dir);
    }
  }
  return 0;
}
