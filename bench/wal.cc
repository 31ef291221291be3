// WAL benchmark (make bench): durable appends through our WAL (group commit)
// from 1, 4, 16 and 64 concurrent writers — throughput and latency
// p50/p99 — beside the baseline measured in the same run: each writer doing
// plain write()+fdatasync() of the same record size on one shared file.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "wal/wal.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  double per_sec = 0, mb_per_sec = 0, p50_us = 0, p99_us = 0;
};

double Pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

template <typename Fn>
Result Measure(int writers, double seconds, size_t record, Fn append) {
  std::atomic<uint64_t> n{0};
  std::mutex mu;
  std::vector<double> lat;
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      std::string payload(record, 'x');
      std::vector<double> mine;
      while (Clock::now() < end) {
        auto t0 = Clock::now();
        if (!append(payload)) break;
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        ++n;
      }
      std::lock_guard lock(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  Result r;
  r.per_sec = static_cast<double>(n.load()) / wall;
  r.mb_per_sec = r.per_sec * static_cast<double>(record) / 1e6;
  r.p50_us = Pct(lat, 0.5);
  r.p99_us = Pct(lat, 0.99);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SignalDB WAL benchmark"};
  double seconds = 3;
  size_t record = 4096;
  std::string dir = (std::filesystem::temp_directory_path() / ("sdb_wal_bench_" + std::to_string(::getpid()))).string();
  app.add_option("--seconds", seconds, "seconds per measurement")->capture_default_str();
  app.add_option("--record", record, "record payload bytes")->capture_default_str();
  app.add_option("--dir", dir, "directory to write in (on the disk to measure)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf("WAL benchmark: %zu-byte records, %.0f s per run, in %s\n", record, seconds, dir.c_str());
  std::printf("%-8s | %-44s | %-44s\n", "writers", "baseline: write+fdatasync per record",
              "WAL append (group commit)");
  std::printf("%-8s | %10s %9s %10s %10s | %10s %9s %10s %10s\n", "", "appends/s", "MB/s", "p50 us", "p99 us",
              "appends/s", "MB/s", "p50 us", "p99 us");
  for (int writers : {1, 4, 16, 64}) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    int fd = ::open((dir + "/baseline").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    Result base = Measure(writers, seconds, record, [&](const std::string& p) {
      return ::write(fd, p.data(), p.size()) == static_cast<ssize_t>(p.size()) && ::fdatasync(fd) == 0;
    });
    ::close(fd);
    auto log = signaldb::wal::Wal::Open(signaldb::DefaultFileSystem(), dir + "/wal", {}, 0);
    if (!log.ok()) {
      std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
      return 1;
    }
    Result ours = Measure(writers, seconds, record, [&](const std::string& p) {
      return (*log)->Append(signaldb::wal::RecordType::kOtlpExport, p).ok();
    });
    std::printf("%-8d | %10.0f %9.1f %10.0f %10.0f | %10.0f %9.1f %10.0f %10.0f\n", writers, base.per_sec,
                base.mb_per_sec, base.p50_us, base.p99_us, ours.per_sec, ours.mb_per_sec, ours.p50_us, ours.p99_us);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
