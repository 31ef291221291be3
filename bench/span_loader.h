// Shared by the benchmarks that need many spans on disk (trace_lookup,
// query): generates signal-producer's profile on one thread (protobuf, then
// decoded into columns) while a second thread writes the requests in-process
// through writer::Writer (WAL fsync off, no background maintenance) and
// flushes every `spans_per_file` spans, so the table has many files, as a
// long-running server's table has before compaction merges them. A reservoir
// sample of the trace ids written (with their span counts) goes to
// <dir>/sample_ids.txt for later runs.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
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
#include "writer/writer.h"

namespace signaldb::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// "1234567" -> "1,234,567".
inline std::string Grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// A trace known to be stored, and how many spans it has.
struct KnownTrace {
  std::string hex;  // 32 lowercase hex characters, as stored and as Tempo takes it
  int spans = 0;
};

// Keeps a uniform sample of `capacity` traces out of all offered (Vitter's
// algorithm R), deterministic for a seed.
class Reservoir {
 public:
  Reservoir(size_t capacity, uint64_t seed) : capacity_(capacity), rng_(seed) {}
  void Offer(KnownTrace t) {
    ++seen_;
    if (kept_.size() < capacity_) {
      kept_.push_back(std::move(t));
      return;
    }
    uint64_t slot = rng_() % seen_;
    if (slot < capacity_) kept_[slot] = std::move(t);
  }
  const std::vector<KnownTrace>& kept() const { return kept_; }

 private:
  size_t capacity_;
  std::mt19937_64 rng_;
  uint64_t seen_ = 0;
  std::vector<KnownTrace> kept_;
};

// One generated request, ready for the writer.
struct Prepared {
  std::string payload;
  writer::Decoded decoded;
  uint64_t spans = 0;
};

// A bounded hand-over queue between the generator thread and the writer.
class Queue {
 public:
  explicit Queue(size_t capacity) : capacity_(capacity) {}
  void Push(Prepared p) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(std::move(p));
    not_empty_.notify_one();
  }
  void Finish() {
    std::lock_guard lock(mu_);
    finished_ = true;
    not_empty_.notify_all();
  }
  std::optional<Prepared> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty() || finished_; });
    if (items_.empty()) return std::nullopt;
    Prepared p = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return p;
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Prepared> items_;
  bool finished_ = false;
};

struct LoadOptions {
  uint64_t spans = 0, spans_per_file = 0, seed = 0;
  int per_request = 0;
  size_t sample = 0;  // trace ids kept in <dir>/sample_ids.txt
  loadgen::Profile profile;
};

inline writer::WriterOptions WriterOptionsFor(const fs::path& dir) {
  writer::WriterOptions o;
  o.wal_dir = (dir / "wal").string();  // where signaldb puts them for data_dir = dir
  o.storage_dir = (dir / "storage").string();
  o.maintenance_interval = std::chrono::milliseconds(0);
  return o;
}

// Generates and writes the spans; returns the sampled traces.
inline std::vector<KnownTrace> Load(const fs::path& dir, const LoadOptions& lo) {
  writer::WriterOptions wo = WriterOptionsFor(dir);
  wo.wal.fsync = false;
  // Flushes happen only when this benchmark asks for them.
  wo.flush_interval = std::chrono::hours(24);
  wo.max_buffer_rows = UINT64_MAX;
  wo.max_buffer_bytes = 64ull << 30;
  auto opened = writer::Writer::Open(wo);
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open the writer on %s: %s\n", dir.c_str(),
                 opened.status().ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<writer::Writer> w = std::move(*opened);

  // Room for a whole file's requests: the generator prepares the next file
  // while the writer flushes the previous one.
  Queue queue(std::max<size_t>(8, lo.spans_per_file / static_cast<uint64_t>(lo.per_request) + 1));
  Reservoir reservoir(lo.sample, lo.seed ^ 0x7261636b6c6f6f6bULL);
  std::atomic<uint64_t> generated_bytes{0};
  Clock::duration generate_busy{};
  auto start = Clock::now();
  std::thread generator([&] {
    loadgen::Generator gen(lo.profile, lo.seed);
    uint64_t made = 0;
    while (made < lo.spans) {
      auto t0 = Clock::now();
      int n = static_cast<int>(
          std::min<uint64_t>(static_cast<uint64_t>(lo.per_request), lo.spans - made));
      ExportTraceServiceRequest req = gen.Traces(n);
      // Span counts per trace, in first-seen order (a trace never spans two
      // requests).
      std::unordered_map<std::string, size_t> slot;
      std::vector<KnownTrace> traces;
      uint64_t spans = 0;
      for (const auto& rs : req.resource_spans()) {
        for (const auto& ss : rs.scope_spans()) {
          for (const auto& span : ss.spans()) {
            auto [it, fresh] = slot.emplace(span.trace_id(), traces.size());
            if (fresh) traces.push_back({HexEncode(span.trace_id()), 0});
            traces[it->second].spans++;
            ++spans;
          }
        }
      }
      for (auto& t : traces) reservoir.Offer(std::move(t));
      Prepared p;
      p.payload = req.SerializeAsString();
      auto decoded = writer::DecodePayload(Signal::kTraces, p.payload);
      if (!decoded.ok() || decoded->rejected > 0) {
        std::fprintf(
            stderr, "generated request does not decode: %s\n",
            decoded.ok() ? decoded->first_error.c_str() : decoded.status().ToString().c_str());
        std::exit(1);
      }
      p.decoded = std::move(*decoded);
      p.spans = spans;
      generated_bytes += p.payload.size();
      made += spans;
      generate_busy += Clock::now() - t0;
      queue.Push(std::move(p));
    }
    queue.Finish();
  });

  Clock::duration write_busy{}, flush_busy{};
  uint64_t written = 0, since_flush = 0, next_report = lo.spans / 10;
  auto flush = [&] {
    auto t0 = Clock::now();
    absl::Status st = w->FlushAll();
    flush_busy += Clock::now() - t0;
    if (!st.ok()) {
      std::fprintf(stderr, "flush failed: %s\n", st.ToString().c_str());
      std::exit(1);
    }
    since_flush = 0;
  };
  while (auto p = queue.Pop()) {
    auto t0 = Clock::now();
    auto r = w->WriteDecoded(TenantContext{}, Signal::kTraces, p->payload, std::move(p->decoded));
    write_busy += Clock::now() - t0;
    if (!r.ok()) {
      std::fprintf(stderr, "write failed: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
    written += p->spans;
    since_flush += p->spans;
    if (since_flush >= lo.spans_per_file) flush();
    if (written >= next_report && written < lo.spans) {
      double s = Seconds(Clock::now() - start);
      std::printf("  loading: %s spans (%.0f%%), %.0f spans/s, about %.0f s to go\n",
                  Grouped(written).c_str(),
                  100.0 * static_cast<double>(written) / static_cast<double>(lo.spans),
                  static_cast<double>(written) / s,
                  s * static_cast<double>(lo.spans - written) / static_cast<double>(written));
      std::fflush(stdout);
      next_report += lo.spans / 10;
    }
  }
  generator.join();
  if (since_flush > 0) flush();
  if (absl::Status st = w->Close(); !st.ok()) {
    std::fprintf(stderr, "closing the writer failed: %s\n", st.ToString().c_str());
    std::exit(1);
  }
  double wall = Seconds(Clock::now() - start);
  std::printf(
      "load: %s spans in %.1f s: %.0f spans/s (%.1f MB/s of OTLP protobuf); generator thread busy "
      "%.0f%%, "
      "writer thread busy %.0f%% (writes %.0f%%, flushes %.0f%%)\n",
      Grouped(written).c_str(), wall, static_cast<double>(written) / wall,
      static_cast<double>(generated_bytes.load()) / wall / 1e6, 100 * Seconds(generate_busy) / wall,
      100 * (Seconds(write_busy) + Seconds(flush_busy)) / wall, 100 * Seconds(write_busy) / wall,
      100 * Seconds(flush_busy) / wall);

  std::ofstream out(dir / "sample_ids.txt");
  for (const auto& t : reservoir.kept()) out << t.hex << ' ' << t.spans << '\n';
  return reservoir.kept();
}

inline std::vector<KnownTrace> ReadSample(const fs::path& dir) {
  std::vector<KnownTrace> ids;
  std::ifstream in(dir / "sample_ids.txt");
  KnownTrace t;
  while (in >> t.hex >> t.spans) ids.push_back(t);
  return ids;
}

struct OnDisk {
  uint64_t data_files = 0, data_bytes = 0, index_files = 0, index_bytes = 0, total_bytes = 0;
  std::set<std::string> partitions;
};

inline OnDisk Measure(const fs::path& dir) {
  OnDisk d;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    d.total_bytes += f.file_size();
    std::string path = f.path().string();
    if (path.find("/traces/data/") == std::string::npos) continue;
    if (f.path().extension() == ".parquet") {
      d.data_files++;
      d.data_bytes += f.file_size();
      d.partitions.insert(f.path().parent_path().filename().string());
    } else if (f.path().extension() == ".tidx") {
      d.index_files++;
      d.index_bytes += f.file_size();
    }
  }
  return d;
}

}  // namespace signaldb::bench
