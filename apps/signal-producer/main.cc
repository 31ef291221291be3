// signal-producer: a load generator for SignalDB (or any OTLP receiver).
// Sends realistic traces, logs and metrics over OTLP/gRPC or OTLP/HTTP, at a
// target rate or as fast as possible, printing a progress line every second
// and a summary at the end. The same --seed gives the same data.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "config/config.h"
#include "loadgen/generator.h"
#include "loadgen/sender.h"

namespace {

using namespace signaldb;  // NOLINT
using Clock = std::chrono::steady_clock;

struct Totals {
  std::atomic<uint64_t> records{0}, requests{0}, errors{0}, bytes{0};
  std::atomic<uint64_t> per_signal[3] = {0, 0, 0};
  std::mutex mu;
  std::vector<double> latencies_ms;  // guarded by mu
  std::string last_error;            // guarded by mu
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

}  // namespace

// "4ms", "1500us", "250000ns", "1.5s" -> nanoseconds; 0 when malformed.
static uint64_t ParseNanos(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || !(value > 0)) return 0;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  double scale = unit == "ns" ? 1 : unit == "us" || unit == "µs" ? 1e3 : unit == "ms" ? 1e6 : unit == "s" ? 1e9 : 0;
  double ns = value * scale;
  return ns >= 1 && ns < 1e15 ? static_cast<uint64_t>(ns) : 0;
}

int main(int argc, char** argv) {
  CLI::App app{"signal-producer: realistic OTLP load for SignalDB"};
  std::string transport_name = "grpc", target, signals = "traces,logs,metrics", duration_text = "10s";
  std::string trace_interval_text = "1500us", start_text;
  loadgen::SenderIdentity identity;
  double rate = 0;
  uint64_t count = 0, seed = 1;
  int batch = 500, concurrency = 4;
  loadgen::Profile profile;
  app.add_option("--transport", transport_name, "grpc | http/protobuf | http/json")->capture_default_str();
  app.add_option("--target", target, "host:port (default localhost:4317 for grpc, localhost:4318 for http)");
  app.add_option("--signals", signals, "comma-separated: traces,logs,metrics")->capture_default_str();
  app.add_option("--rate", rate, "records per second in total; 0 = as fast as possible")->capture_default_str();
  app.add_option("--duration", duration_text, "how long to run (e.g. 30s, 2m)")->capture_default_str();
  app.add_option("--count", count, "stop after this many records (overrides --duration)");
  app.add_option("--batch", batch, "records per request")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--concurrency", concurrency, "concurrent connections")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--seed", seed, "random seed (same seed, same data)")->capture_default_str();
  app.add_option("--services", profile.services, "services")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--operations", profile.operations, "operations per service")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--spans-per-trace", profile.spans_per_trace, "spans per trace")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--attributes", profile.attributes, "extra attributes per span")->capture_default_str()->check(CLI::Range(0, 1000));
  app.add_option("--cardinality", profile.attribute_cardinality, "distinct values per attribute")->capture_default_str()->check(CLI::Range(1, 100000000));
  app.add_option("--events-per-span", profile.events_per_span, "average span events")->capture_default_str();
  app.add_option("--link-probability", profile.link_probability, "chance a span has a link")->capture_default_str();
  app.add_option("--error-rate", profile.error_rate, "share of traces that fail")->capture_default_str();
  app.add_option("--log-attributes", profile.log_attributes, "attributes per log record")->capture_default_str();
  app.add_option("--metric-series", profile.metric_series, "series per metric")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--trace-interval", trace_interval_text,
                 "mean time between trace starts on each connection's clock (e.g. 4ms)")
      ->capture_default_str();
  app.add_option("--start", start_text,
                 "first timestamp: Unix seconds or 'now' (default: a fixed 2023 epoch, so a seed always gives "
                 "the same bytes)");
  app.add_option("--api-key", identity.api_key, "API key for a server with [auth] enabled (also SIGNALDB_API_KEY)")
      ->envname("SIGNALDB_API_KEY");
  app.add_option("--tenant", identity.tenant, "tenant to send as (X-Tenant-ID)");
  app.add_option("--dataset", identity.dataset, "dataset to send to (X-Dataset-ID)");
  CLI11_PARSE(app, argc, argv);

  loadgen::Transport transport;
  if (transport_name == "grpc") transport = loadgen::Transport::kGrpc;
  else if (transport_name == "http/protobuf") transport = loadgen::Transport::kHttpProtobuf;
  else if (transport_name == "http/json") transport = loadgen::Transport::kHttpJson;
  else {
    std::fprintf(stderr, "signal-producer: --transport must be grpc, http/protobuf or http/json\n");
    return 2;
  }
  if (target.empty()) target = transport == loadgen::Transport::kGrpc ? "localhost:4317" : "localhost:4318";
  std::vector<Signal> kinds;
  std::stringstream ss(signals);
  for (std::string s; std::getline(ss, s, ',');) {
    if (s == "traces") kinds.push_back(Signal::kTraces);
    else if (s == "logs") kinds.push_back(Signal::kLogs);
    else if (s == "metrics") kinds.push_back(Signal::kMetrics);
    else {
      std::fprintf(stderr, "signal-producer: unknown signal '%s'\n", s.c_str());
      return 2;
    }
  }
  uint64_t interval_ns = ParseNanos(trace_interval_text);
  if (interval_ns == 0) {
    std::fprintf(stderr, "signal-producer: --trace-interval must be a positive duration such as 4ms or 1500us\n");
    return 2;
  }
  profile.trace_interval_ns = interval_ns;
  if (start_text == "now") {
    profile.start_unix_nano = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  } else if (!start_text.empty()) {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(start_text.data(), start_text.data() + start_text.size(), seconds);
    if (ec != std::errc() || end != start_text.data() + start_text.size() || seconds == 0 ||
        seconds > 9000000000ULL) {
      std::fprintf(stderr, "signal-producer: --start must be Unix seconds or 'now'\n");
      return 2;
    }
    profile.start_unix_nano = seconds * 1000000000ULL;
  }
  auto duration = ParseDuration(duration_text);
  if (!duration.ok()) {
    std::fprintf(stderr, "signal-producer: --duration: %s\n", std::string(duration.status().message()).c_str());
    return 2;
  }

  Totals totals;
  std::atomic<bool> stop{false};
  const auto start = Clock::now();
  const auto deadline = start + *duration;
  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&, w] {
      loadgen::Generator gen(profile, seed * 1000003 + static_cast<uint64_t>(w));
      auto sender = loadgen::MakeSender(transport, target, identity);
      const double per_worker = rate / concurrency;
      auto next = Clock::now();
      for (uint64_t i = 0; !stop.load(); ++i) {
        if (count > 0 && totals.records.load() >= count) break;
        if (count == 0 && Clock::now() >= deadline) break;
        Signal s = kinds[(i + static_cast<uint64_t>(w)) % kinds.size()];
        std::string body;
        switch (s) {
          case Signal::kTraces: body = loadgen::Encode(transport, gen.Traces(batch)); break;
          case Signal::kLogs: body = loadgen::Encode(transport, gen.Logs(batch)); break;
          case Signal::kMetrics: body = loadgen::Encode(transport, gen.Metrics(batch)); break;
        }
        if (per_worker > 0) {
          next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(batch / per_worker));
          std::this_thread::sleep_until(next);
        }
        auto t0 = Clock::now();
        absl::Status st = sender->Send(s, body);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        totals.requests++;
        totals.bytes += body.size();
        if (st.ok()) {
          totals.records += static_cast<uint64_t>(batch);
          totals.per_signal[static_cast<int>(s)] += static_cast<uint64_t>(batch);
        } else {
          totals.errors++;
          // Retrying cannot fix a refused key, tenant or dataset: stop.
          if (st.code() == absl::StatusCode::kUnauthenticated || st.code() == absl::StatusCode::kPermissionDenied ||
              st.code() == absl::StatusCode::kNotFound) {
            stop = true;
          }
        }
        std::lock_guard lock(totals.mu);
        totals.latencies_ms.push_back(ms);
        if (!st.ok()) totals.last_error = st.ToString();
      }
    });
  }
  std::thread progress([&] {
    uint64_t last = 0;
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (stop.load()) break;
      double secs = std::chrono::duration<double>(Clock::now() - start).count();
      uint64_t now = totals.records.load();
      std::fprintf(stderr, "\r[%5.0fs] %9llu rec/s  total %llu  errors %llu  (traces %llu, logs %llu, metrics %llu)   ",
                   secs, static_cast<unsigned long long>(now - last), static_cast<unsigned long long>(now),
                   static_cast<unsigned long long>(totals.errors.load()),
                   static_cast<unsigned long long>(totals.per_signal[0].load()),
                   static_cast<unsigned long long>(totals.per_signal[1].load()),
                   static_cast<unsigned long long>(totals.per_signal[2].load()));
      last = now;
    }
  });
  for (auto& t : workers) t.join();
  stop = true;
  progress.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> lat;
  std::string last_error;
  {
    std::lock_guard lock(totals.mu);
    lat = totals.latencies_ms;
    last_error = totals.last_error;
  }
  std::printf("\nsignal-producer: %s to %s, %d connections, batch %d, seed %llu\n", loadgen::TransportName(transport),
              target.c_str(), concurrency, batch, static_cast<unsigned long long>(seed));
  std::printf("  records   %llu acknowledged in %.1f s = %.0f records/s (traces %llu, logs %llu, metrics %llu)\n",
              static_cast<unsigned long long>(totals.records.load()), secs,
              static_cast<double>(totals.records.load()) / secs,
              static_cast<unsigned long long>(totals.per_signal[0].load()),
              static_cast<unsigned long long>(totals.per_signal[1].load()),
              static_cast<unsigned long long>(totals.per_signal[2].load()));
  std::printf("  requests  %llu (%.1f MB sent), errors %llu\n", static_cast<unsigned long long>(totals.requests.load()),
              static_cast<double>(totals.bytes.load()) / 1e6, static_cast<unsigned long long>(totals.errors.load()));
  std::printf("  latency   p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", Percentile(lat, 0.5), Percentile(lat, 0.99),
              lat.empty() ? 0.0 : *std::max_element(lat.begin(), lat.end()));
  if (!last_error.empty()) std::printf("  last error: %s\n", last_error.c_str());
  return totals.errors.load() > 0 ? 1 : 0;
}
