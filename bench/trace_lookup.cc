// The trace lookup benchmark (make bench): trace-by-id latency through the
// Tempo API of the real signaldb over many traces data files, with the
// per-file trace-id index (storage.trace_index = true) and, as the baseline
// measured in the same run on the same files, without it.
//
// Load phase (skipped with --reuse DIR): signal-producer's default profile,
// generated on one thread (protobuf, then decoded into columns) while a second
// thread writes the requests in-process through writer::Writer (WAL fsync
// off, no background maintenance) and flushes every --spans-per-file spans,
// so the table has many files. A reservoir sample of the trace ids written
// (with their span counts) goes to <dir>/sample_ids.txt for later runs.
//
// Query phase: the signaldb binary is started on the data dir twice (trace
// index on, then off; compaction off so the files stay as loaded). After a
// warm-up, one keep-alive client issues sequential GET /tempo/api/traces/<id>
// for sampled ids (each answer must be 200 with every span of the trace) and
// for random absent ids (each answer must be 404). Files read per lookup are
// the server's scan plan, computed in-process on the same files.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/hex.h"
#include "loadgen/generator.h"
#include "server_process.h"
#include "span_loader.h"
#include "spdlog/spdlog.h"
#include "writer/writer.h"

namespace {

using namespace signaldb;  // NOLINT
using namespace signaldb::bench;  // NOLINT

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16 |
                 static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8 |
                 static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 2]));
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string RawFromHex(const std::string& hex) {
  std::string raw;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return raw;
}


// How many committed files a lookup of each id reads (the scan plan the
// querier builds for GET /api/traces/<id>), with or without the index.
struct Planned {
  std::vector<size_t> files;  // per id
  size_t total_files = 0;
  uint64_t rows = 0;
};

Planned PlanLookups(const fs::path& dir, bool use_index, const std::vector<std::string>& hex_ids) {
  writer::WriterOptions wo = WriterOptionsFor(dir);
  wo.use_trace_index = use_index;
  auto w = writer::Writer::Open(wo);
  if (!w.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", dir.c_str(), w.status().ToString().c_str());
    std::exit(1);
  }
  Planned p;
  auto ds = (*w)->GetDataset(TenantContext{});
  if (!ds.ok()) {
    std::fprintf(stderr, "cannot open the dataset: %s\n", ds.status().ToString().c_str());
    std::exit(1);
  }
  using Predicate = writer::SignalStore::Predicate;
  for (const auto& hex : hex_ids) {
    auto plan = (*ds)
                    ->store(Signal::kTraces)
                    .PlanScan("traces", {{Predicate::kStringEquals, "trace_id", hex}});
    if (!plan.ok()) {
      std::fprintf(stderr, "cannot plan a lookup: %s\n", plan.status().ToString().c_str());
      std::exit(1);
    }
    p.files.push_back(plan->files.size());
    p.total_files = plan->total_files;
  }
  for (const auto& [name, t] : (*w)->Stats().tables) {
    if (name == "default/default/traces") p.rows = t.committed_rows;
  }
  (void)(*w)->Close();
  return p;
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

struct Series {
  std::vector<double> ms;
  double wall_s = 0, server_cpu_s = 0;
  uint64_t wrong = 0;
};

// Sequential lookups over one keep-alive connection. `expected_spans` 0
// means the id is absent: the answer must be 404.
Series Lookups(httplib::Client& client, pid_t server,
               const std::vector<std::pair<std::string, int>>& ids) {
  Series s;
  bench::ProcSample before = bench::Sample(server);
  auto start = Clock::now();
  for (const auto& [hex, expected_spans] : ids) {
    auto t0 = Clock::now();
    auto r = client.Get("/tempo/api/traces/" + hex);
    s.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    std::string problem;
    if (!r) {
      problem = "no answer: " + httplib::to_string(r.error());
    } else if (expected_spans == 0) {
      if (r->status != 404)
        problem = "status " + std::to_string(r->status) + " for an absent id (want 404)";
    } else if (r->status != 200) {
      problem = "status " + std::to_string(r->status) + " (want 200)";
    } else {
      // Each span of the trace carries the trace id (base64 in Tempo's JSON).
      std::string needle = "\"traceId\":\"" + Base64(RawFromHex(hex)) + "\"";
      int found = 0;
      for (size_t pos = r->body.find(needle); pos != std::string::npos;
           pos = r->body.find(needle, pos + 1))
        ++found;
      if (found != expected_spans || r->body.find("\"spanId\"") == std::string::npos) {
        problem = "200 with " + std::to_string(found) + " spans of the trace, want " +
                  std::to_string(expected_spans);
      }
    }
    if (!problem.empty()) {
      if (s.wrong < 5) {
        std::printf("  WRONG ANSWER for %s: %s; body (%zu bytes): %.200s\n", hex.c_str(),
                    problem.c_str(), r ? r->body.size() : 0, r ? r->body.c_str() : "");
      }
      s.wrong++;
    }
  }
  s.wall_s = Seconds(Clock::now() - start);
  s.server_cpu_s = bench::Sample(server).cpu_seconds - before.cpu_seconds;
  return s;
}

struct ModeResult {
  Series present, absent;
  double start_s = 0;
  uint64_t warmup_wrong = 0;
  std::string load_before, load_after;
  uint64_t peak_rss_kb = 0;
};

// The machine's 1-minute load average (it is shared; figures move with it).
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "?" : one;
}

ModeResult RunMode(const std::string& binary, const fs::path& dir, bool use_index,
                   const std::vector<std::pair<std::string, int>>& warmup,
                   const std::vector<std::pair<std::string, int>>& present,
                   const std::vector<std::pair<std::string, int>>& absent) {
  ModeResult m;
  m.load_before = LoadAverage();
  auto t0 = Clock::now();
  bench::ServerProcess server(
      binary, dir.string(),
      {std::string("SIGNALDB_STORAGE__TRACE_INDEX=") + (use_index ? "true" : "false"),
       "SIGNALDB_COMPACTOR__ENABLED=false"});
  m.start_s = Seconds(Clock::now() - t0);
  httplib::Client client("127.0.0.1", server.api_port());
  client.set_keep_alive(true);
  client.set_read_timeout(std::chrono::minutes(10));
  m.warmup_wrong = Lookups(client, server.pid(), warmup).wrong;
  m.present = Lookups(client, server.pid(), present);
  m.absent = Lookups(client, server.pid(), absent);
  m.peak_rss_kb = bench::Sample(server.pid()).peak_rss_kb;
  m.load_after = LoadAverage();
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SignalDB trace-by-id lookup benchmark"};
  // A flag given twice takes its last value, so arguments after the defaults
  // of scripts/bench.sh override them.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string binary = "build/bin/signaldb", dir_flag, reuse;
  LoadOptions lo{.spans = 100'000'000,
                 .spans_per_file = 250'000,
                 .seed = 1,
                 .per_request = 1000,
                 .sample = 2000};
  size_t lookups = 1000, absent_n = 200, warmup_n = 20;
  bool keep = false;
  app.add_option("--signaldb", binary, "signaldb binary")->capture_default_str();
  app.add_option("--spans", lo.spans, "spans to load")->capture_default_str();
  app.add_option("--spans-per-file", lo.spans_per_file,
                 "spans per flush (one file per hour touched)")
      ->capture_default_str();
  app.add_option("--per-request", lo.per_request, "spans per generated export request")
      ->capture_default_str();
  app.add_option("--seed", lo.seed, "generator seed")->capture_default_str();
  app.add_option("--sample", lo.sample, "trace ids sampled while loading")->capture_default_str();
  app.add_option("--lookups", lookups, "lookups of existing trace ids per mode")
      ->capture_default_str();
  app.add_option("--absent", absent_n, "lookups of absent trace ids per mode")
      ->capture_default_str();
  app.add_option("--warmup", warmup_n, "unmeasured lookups before each mode")
      ->capture_default_str();
  app.add_option("--dir", dir_flag, "data directory to load into (must not exist or be empty)");
  app.add_option("--reuse", reuse, "skip loading; query this data dir of an earlier --keep run");
  app.add_flag("--keep", keep, "keep the data directory");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  if (lo.spans == 0 || lo.spans_per_file == 0 || lo.per_request <= 0 || lo.sample == 0) {
    std::fprintf(stderr,
                 "--spans, --spans-per-file, --per-request and --sample must be positive\n");
    return 2;
  }

  fs::path dir;
  std::vector<KnownTrace> sample;
  std::printf("trace lookup benchmark: signal-producer default profile, %u cores\n",
              std::thread::hardware_concurrency());
  if (!reuse.empty()) {
    dir = fs::absolute(reuse);
    keep = true;
    sample = ReadSample(dir);
    if (sample.empty()) {
      std::fprintf(stderr, "%s has no sample_ids.txt; load it with --keep first\n", dir.c_str());
      return 2;
    }
    std::printf("reusing %s (%zu sampled trace ids)\n", dir.c_str(), sample.size());
  } else {
    dir = dir_flag.empty()
              ? fs::temp_directory_path() / ("sdb_trace_lookup_" + std::to_string(::getpid()))
              : fs::absolute(dir_flag);
    if (fs::exists(dir) && !fs::is_empty(dir)) {
      std::fprintf(stderr, "%s is not empty; use --reuse to query it\n", dir.c_str());
      return 2;
    }
    fs::create_directories(dir);
    std::printf(
        "loading %s spans (seed %llu, %d spans per request, a flush every %s spans) into %s\n",
        Grouped(lo.spans).c_str(), static_cast<unsigned long long>(lo.seed), lo.per_request,
        Grouped(lo.spans_per_file).c_str(), dir.c_str());
    std::fflush(stdout);
    sample = Load(dir, lo);
  }
  // Loading leaves gigabytes of dirty pages; lookups timed while the kernel
  // writes them back would measure the disk's write queue, not lookups.
  {
    auto synced = std::chrono::steady_clock::now();
    ::sync();
    std::printf("sync after load: %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - synced).count());
  }

  // The ids to look up: sampled ids in a shuffled order (cycling when more
  // lookups than samples are asked for), and random ids that were never
  // written (2^-128 odds of a collision).
  std::mt19937_64 rng(lo.seed + 17);
  std::shuffle(sample.begin(), sample.end(), rng);
  std::vector<std::pair<std::string, int>> present, absent, warmup;
  for (size_t i = 0; i < lookups; ++i)
    present.emplace_back(sample[i % sample.size()].hex, sample[i % sample.size()].spans);
  for (size_t i = 0; i < warmup_n; ++i) {
    const KnownTrace& t = sample[(sample.size() - 1 - i % sample.size())];
    warmup.emplace_back(t.hex, t.spans);
  }
  std::mt19937_64 absent_rng(lo.seed ^ 0xab5e47ULL);
  for (size_t i = 0; i < absent_n; ++i) {
    std::string raw(16, '\0');
    for (int k = 0; k < 16; k += 8) {
      uint64_t v = absent_rng();
      std::memcpy(raw.data() + k, &v, 8);
    }
    absent.emplace_back(HexEncode(raw), 0);
  }

  OnDisk disk = Measure(dir);
  std::vector<std::string> planned_ids;
  for (const auto& p : present) planned_ids.push_back(p.first);
  for (const auto& p : absent) planned_ids.push_back(p.first);
  Planned with_index = PlanLookups(dir, true, planned_ids);
  Planned without_index = PlanLookups(dir, false, planned_ids);
  double rows = static_cast<double>(with_index.rows);
  std::printf(
      "stored: %s spans in %llu traces data files over %zu hour partition(s); Parquet %.2f GB "
      "(%.1f B/span); %llu trace-index sidecars %.1f MB (%.2f B/span); data dir %.2f GB\n",
      Grouped(with_index.rows).c_str(), static_cast<unsigned long long>(disk.data_files),
      disk.partitions.size(), static_cast<double>(disk.data_bytes) / 1e9,
      static_cast<double>(disk.data_bytes) / rows,
      static_cast<unsigned long long>(disk.index_files),
      static_cast<double>(disk.index_bytes) / 1e6, static_cast<double>(disk.index_bytes) / rows,
      static_cast<double>(disk.total_bytes) / 1e9);
  std::printf(
      "lookups: %zu existing ids (of %zu sampled), %zu absent ids, %zu warm-up; one keep-alive "
      "client, "
      "sequential, GET /tempo/api/traces/<id> (JSON)\n",
      present.size(), sample.size(), absent.size(), warmup.size());
  std::fflush(stdout);

  ModeResult on = RunMode(binary, dir, true, warmup, present, absent);
  ModeResult off = RunMode(binary, dir, false, warmup, present, absent);

  auto files = [&](const Planned& p, bool absent_ids, double* max) {
    size_t from = absent_ids ? present.size() : 0,
           to = absent_ids ? p.files.size() : present.size();
    double sum = 0;
    *max = 0;
    for (size_t i = from; i < to; ++i) {
      sum += static_cast<double>(p.files[i]);
      *max = std::max(*max, static_cast<double>(p.files[i]));
    }
    return to > from ? sum / static_cast<double>(to - from) : 0;
  };
  std::printf("%-30s %-8s %6s %8s %8s %8s %8s %10s %13s %11s\n", "mode", "ids", "n", "p50 ms",
              "p90 ms", "p99 ms", "max ms", "lookups/s", "files avg/max", "srv CPU ms");
  auto row = [&](const char* mode, const char* kind, const Series& s, const Planned& p,
                 bool absent_ids) {
    double max_files;
    double avg_files = files(p, absent_ids, &max_files);
    double n = static_cast<double>(s.ms.size());
    std::printf("%-30s %-8s %6zu %8.2f %8.2f %8.2f %8.2f %10.1f %8.1f/%-4.0f %11.2f\n", mode, kind,
                s.ms.size(), Pct(s.ms, 0.5), Pct(s.ms, 0.9), Pct(s.ms, 0.99),
                s.ms.empty() ? 0 : *std::max_element(s.ms.begin(), s.ms.end()), n / s.wall_s,
                avg_files, max_files, 1000 * s.server_cpu_s / n);
  };
  row("trace index on", "present", on.present, with_index, false);
  row("trace index on", "absent", on.absent, with_index, true);
  row("baseline: trace index off", "present", off.present, without_index, false);
  row("baseline: trace index off", "absent", off.absent, without_index, true);
  std::printf(
      "files in the table: %zu; server start (until healthy) %.2f s with the index, %.2f s "
      "without; "
      "server peak RSS %.0f / %.0f MiB; machine load average %s -> %s with the index, %s -> %s "
      "without\n",
      with_index.total_files, on.start_s, off.start_s, static_cast<double>(on.peak_rss_kb) / 1024,
      static_cast<double>(off.peak_rss_kb) / 1024, on.load_before.c_str(), on.load_after.c_str(),
      off.load_before.c_str(), off.load_after.c_str());
  auto ratio = [](const Series& slow, const Series& fast, double p) {
    return Pct(slow.ms, p) / Pct(fast.ms, p);
  };
  std::printf(
      "speedup with the index: present ids p50 %.1fx, p99 %.1fx, lookups/s %.1fx; absent ids p50 "
      "%.1fx, "
      "p99 %.1fx\n",
      ratio(off.present, on.present, 0.5), ratio(off.present, on.present, 0.99),
      (static_cast<double>(on.present.ms.size()) / on.present.wall_s) /
          (static_cast<double>(off.present.ms.size()) / off.present.wall_s),
      ratio(off.absent, on.absent, 0.5), ratio(off.absent, on.absent, 0.99));
  uint64_t wrong = on.warmup_wrong + on.present.wrong + on.absent.wrong + off.warmup_wrong +
                   off.present.wrong + off.absent.wrong;
  double p99 = Pct(on.present.ms, 0.99);
  std::printf("target: p99 <= 50 ms (trace index on): %.2f ms, %s\n", p99,
              wrong > 0   ? "NOT met (wrong answers)"
              : p99 <= 50 ? "met"
                          : "NOT met");
  if (keep) {
    std::printf("data kept in %s (query it again with --reuse %s)\n", dir.c_str(), dir.c_str());
  } else {
    fs::remove_all(dir);
  }
  if (wrong > 0) {
    std::printf(
        "FAILED: %llu wrong answer(s): index on %llu present / %llu absent, index off %llu present "
        "/ %llu "
        "absent\n",
        static_cast<unsigned long long>(wrong), static_cast<unsigned long long>(on.present.wrong),
        static_cast<unsigned long long>(on.absent.wrong),
        static_cast<unsigned long long>(off.present.wrong),
        static_cast<unsigned long long>(off.absent.wrong));
    return 1;
  }
  return 0;
}
