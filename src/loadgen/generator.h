// Generates realistic OTLP export requests from a profile, deterministically
// for a given seed.
//
// Thread-safety: a Generator is used by one thread; use one per thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace signaldb::loadgen {

struct Profile {
  int services = 8;
  int operations = 24;            // distinct span names per service
  int spans_per_trace = 12;
  int attributes = 10;            // span attributes beyond the semantic ones
  int attribute_cardinality = 200;
  double events_per_span = 0.3;   // average
  double link_probability = 0.05;
  double error_rate = 0.02;
  int log_attributes = 6;
  int metric_series = 50;         // distinct attribute sets per metric
  // Mean time between the starts of consecutive traces (each generator has
  // its own clock); 10 M spans of 12-span traces over an hour is 4.32 ms.
  uint64_t trace_interval_ns = 1500000;
  // Where the clock starts, in Unix nanoseconds; 0 = a fixed epoch
  // (2023-11-14T22:13:20Z) plus the seed's offset, so runs are reproducible.
  uint64_t start_unix_nano = 0;
};

// The name of service number `i`: the services of a typical shop first
// (frontend, checkout, cart, ...), then "service-<i>".
std::string ServiceName(int i);

class Generator {
 public:
  Generator(Profile profile, uint64_t seed);

  // About `spans` spans, whole traces, grouped by service.
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest Traces(int spans);
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest Logs(int records);
  // About `points` data points spread over every metric kind.
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest Metrics(int points);

  const Profile& profile() const { return profile_; }

 private:
  uint64_t Next() { return rng_(); }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  int Pick(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  std::string Id(int bytes);
  void FillResource(opentelemetry::proto::resource::v1::Resource* r, int service);

  Profile profile_;
  std::mt19937_64 rng_;
  uint64_t clock_ns_;  // advances with every generated record
};

}  // namespace signaldb::loadgen
