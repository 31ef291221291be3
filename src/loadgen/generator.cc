#include "loadgen/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>

namespace signaldb::loadgen {
namespace {

namespace tpb = opentelemetry::proto::trace::v1;
namespace cpb = opentelemetry::proto::common::v1;
namespace mpb = opentelemetry::proto::metrics::v1;

const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
const char* kResources[] = {"users", "orders", "items", "carts", "payments", "sessions", "search", "reviews"};
const char* kDbOps[] = {"SELECT", "INSERT", "UPDATE"};
const char* kLogTemplates[] = {"request completed", "cache miss for key", "retrying upstream call",
                               "user session created", "payment authorized", "slow query detected",
                               "connection pool exhausted", "config reloaded"};

void Str(google::protobuf::RepeatedPtrField<cpb::KeyValue>* kvs, const std::string& k, const std::string& v) {
  auto* kv = kvs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}
void Int(google::protobuf::RepeatedPtrField<cpb::KeyValue>* kvs, const std::string& k, int64_t v) {
  auto* kv = kvs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_int_value(v);
}

const char* kServiceNames[] = {"frontend", "checkout", "cart", "payment", "shipping", "product-catalog",
                               "recommendation", "currency", "email", "ad", "quote", "fraud-detection",
                               "accounting", "inventory", "search", "auth"};

std::string OperationName(int service, int op) {
  int r = (service * 7 + op) % 8;
  switch (op % 3) {
    case 0: return std::string(kMethods[op % 4]) + " /api/v1/" + kResources[r] + "/{id}";
    case 1: return std::string(kDbOps[op % 3]) + " " + kResources[r];
    default: return std::string("process ") + kResources[r];
  }
}

}  // namespace

std::string ServiceName(int i) {
  constexpr int kNamed = static_cast<int>(sizeof(kServiceNames) / sizeof(kServiceNames[0]));
  return i >= 0 && i < kNamed ? kServiceNames[i] : "service-" + std::to_string(i);
}

Generator::Generator(Profile profile, uint64_t seed) : profile_(profile), rng_(seed) {
  // A fixed epoch keeps runs with the same seed byte-identical.
  clock_ns_ = profile_.start_unix_nano != 0 ? profile_.start_unix_nano
                                            : 1700000000000000000ULL + (seed % 1000) * 1000000000ULL;
  profile_.trace_interval_ns = std::max<uint64_t>(profile_.trace_interval_ns, 2);
}

std::string Generator::Id(int bytes) {
  std::string id(static_cast<size_t>(bytes), '\0');
  for (int i = 0; i < bytes; i += 8) {
    uint64_t v = Next() | 1;  // never all zero
    std::memcpy(id.data() + i, &v, std::min(8, bytes - i));
  }
  return id;
}

void Generator::FillResource(opentelemetry::proto::resource::v1::Resource* r, int service) {
  auto* a = r->mutable_attributes();
  const std::string name = ServiceName(service);
  Str(a, "service.name", name);
  Str(a, "service.version", "1." + std::to_string(service % 4) + ".0");
  Str(a, "deployment.environment", service % 5 == 0 ? "staging" : "production");
  Str(a, "host.name", "host-" + std::to_string(service % 3));
  Str(a, "k8s.pod.name", name + "-7d9f8b-" + std::to_string(service * 31 % 97));
  Str(a, "telemetry.sdk.language", "cpp");
}

opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest Generator::Traces(int spans) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  std::map<int, tpb::ScopeSpans*> by_service;
  auto scope_for = [&](int service) {
    auto [it, fresh] = by_service.emplace(service, nullptr);
    if (fresh) {
      auto* rs = req.add_resource_spans();
      FillResource(rs->mutable_resource(), service);
      rs->set_schema_url("https://opentelemetry.io/schemas/1.24.0");
      it->second = rs->add_scope_spans();
      it->second->mutable_scope()->set_name("io.opentelemetry.instrumentation");
      it->second->mutable_scope()->set_version("2.1.0");
    }
    return it->second;
  };
  int made = 0;
  while (made < spans) {
    std::string trace_id = Id(16);
    int n = std::max(1, std::min(profile_.spans_per_trace, spans - made));
    std::vector<std::string> ids;
    uint64_t start = clock_ns_;
    clock_ns_ += profile_.trace_interval_ns / 2 + Next() % profile_.trace_interval_ns;
    bool error_trace = Uniform() < profile_.error_rate;
    for (int i = 0; i < n; ++i) {
      int service = i == 0 ? Pick(profile_.services) : Pick(profile_.services);
      auto* span = scope_for(service)->add_spans();
      span->set_trace_id(trace_id);
      ids.push_back(Id(8));
      span->set_span_id(ids.back());
      if (i > 0) span->set_parent_span_id(ids[static_cast<size_t>(Pick(i))]);
      int op = Pick(profile_.operations);
      span->set_name(OperationName(service, op));
      span->set_kind(i == 0 ? tpb::Span::SPAN_KIND_SERVER
                            : static_cast<tpb::Span::SpanKind>(1 + Pick(5)));
      uint64_t s = start + static_cast<uint64_t>(i) * (50000 + Next() % 200000);
      // Mostly a few milliseconds (exponential, mean 2 ms); one span in 25 is
      // slow (40-400 ms), the long tail real latency distributions have.
      uint64_t dur = static_cast<uint64_t>(-std::log(1 - Uniform() * 0.999) * 2000000) + 10000;
      if (Uniform() < 0.04) dur = 40000000 + Next() % 360000000;
      span->set_start_time_unix_nano(s);
      span->set_end_time_unix_nano(s + dur);
      span->set_flags(0x101);
      auto* a = span->mutable_attributes();
      if (op % 3 == 0) {
        Str(a, "http.request.method", kMethods[op % 4]);
        Str(a, "url.path", "/api/v1/" + std::string(kResources[op % 8]) + "/" + std::to_string(Pick(profile_.attribute_cardinality)));
        Int(a, "http.response.status_code", error_trace && i == 0 ? 500 : 200);
        Str(a, "server.address", ServiceName(service) + ".svc");
      } else if (op % 3 == 1) {
        Str(a, "db.system", "postgresql");
        Str(a, "db.operation.name", kDbOps[op % 3]);
        Str(a, "db.collection.name", kResources[op % 8]);
      }
      for (int k = 0; k < profile_.attributes; ++k) {
        if (k % 4 == 3) Int(a, "app.attr" + std::to_string(k), Pick(profile_.attribute_cardinality));
        else Str(a, "app.attr" + std::to_string(k), "value-" + std::to_string(Pick(profile_.attribute_cardinality)));
      }
      double ev = profile_.events_per_span;
      while (Uniform() < ev) {
        ev -= 1;
        auto* e = span->add_events();
        e->set_name("cache.lookup");
        e->set_time_unix_nano(s + dur / 2);
        Str(e->mutable_attributes(), "cache.key", "k" + std::to_string(Pick(profile_.attribute_cardinality)));
      }
      if (Uniform() < profile_.link_probability) {
        auto* l = span->add_links();
        l->set_trace_id(Id(16));
        l->set_span_id(Id(8));
      }
      if (error_trace && i == 0) {
        span->mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
        span->mutable_status()->set_message("upstream returned 500");
        auto* e = span->add_events();
        e->set_name("exception");
        e->set_time_unix_nano(s + dur);
        Str(e->mutable_attributes(), "exception.type", "UpstreamError");
        Str(e->mutable_attributes(), "exception.message", "upstream returned 500");
      }
      ++made;
    }
  }
  return req;
}

opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest Generator::Logs(int records) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  std::map<int, opentelemetry::proto::logs::v1::ScopeLogs*> by_service;
  for (int i = 0; i < records; ++i) {
    int service = Pick(profile_.services);
    auto [it, fresh] = by_service.emplace(service, nullptr);
    if (fresh) {
      auto* rl = req.add_resource_logs();
      FillResource(rl->mutable_resource(), service);
      it->second = rl->add_scope_logs();
      it->second->mutable_scope()->set_name("app.logger");
    }
    auto* rec = it->second->add_log_records();
    clock_ns_ += 100000 + Next() % 100000;
    rec->set_time_unix_nano(clock_ns_);
    rec->set_observed_time_unix_nano(clock_ns_ + 5000);
    double u = Uniform();
    int sev = u < 0.02 ? 17 : u < 0.1 ? 13 : u < 0.7 ? 9 : 5;  // mostly INFO, some WARN/ERROR/DEBUG
    rec->set_severity_number(static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(sev));
    rec->set_severity_text(sev == 17 ? "ERROR" : sev == 13 ? "WARN" : sev == 9 ? "INFO" : "DEBUG");
    rec->mutable_body()->set_string_value(std::string(kLogTemplates[Pick(8)]) + " id=" +
                                          std::to_string(Pick(profile_.attribute_cardinality)));
    for (int k = 0; k < profile_.log_attributes; ++k) {
      Str(rec->mutable_attributes(), "log.attr" + std::to_string(k), "v" + std::to_string(Pick(profile_.attribute_cardinality)));
    }
    if (Uniform() < 0.5) {
      rec->set_trace_id(Id(16));
      rec->set_span_id(Id(8));
      rec->set_flags(1);
    }
  }
  return req;
}

opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest Generator::Metrics(int points) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  FillResource(rm->mutable_resource(), Pick(profile_.services));
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name("app.meter");
  clock_ns_ += 10000000000ULL;
  int per_kind = std::max(1, points / 5);
  auto attrs = [&](auto* p) {
    Str(p->mutable_attributes(), "route", "/api/v1/" + std::string(kResources[Pick(8)]));
    Str(p->mutable_attributes(), "instance", "i-" + std::to_string(Pick(profile_.metric_series)));
  };
  auto* counter = sm->add_metrics();
  counter->set_name("http.server.requests");
  counter->set_unit("{request}");
  counter->mutable_sum()->set_is_monotonic(true);
  counter->mutable_sum()->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* gauge = sm->add_metrics();
  gauge->set_name("process.memory.usage");
  gauge->set_unit("By");
  auto* hist = sm->add_metrics();
  hist->set_name("http.server.request.duration");
  hist->set_unit("s");
  hist->mutable_histogram()->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_DELTA);
  auto* exp = sm->add_metrics();
  exp->set_name("rpc.server.payload.size");
  exp->mutable_exponential_histogram()->set_aggregation_temporality(mpb::AGGREGATION_TEMPORALITY_DELTA);
  auto* summary = sm->add_metrics();
  summary->set_name("legacy.latency");
  for (int i = 0; i < per_kind; ++i) {
    auto* c = counter->mutable_sum()->add_data_points();
    c->set_time_unix_nano(clock_ns_);
    c->set_start_time_unix_nano(clock_ns_ - 60000000000ULL);
    c->set_as_int(static_cast<int64_t>(Next() % 100000));
    attrs(c);
    auto* g = gauge->mutable_gauge()->add_data_points();
    g->set_time_unix_nano(clock_ns_);
    g->set_as_double(Uniform() * 1e9);
    attrs(g);
    auto* h = hist->mutable_histogram()->add_data_points();
    h->set_time_unix_nano(clock_ns_);
    h->set_start_time_unix_nano(clock_ns_ - 10000000000ULL);
    uint64_t total = 0;
    for (double b : {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0}) {
      h->add_explicit_bounds(b);
      uint64_t n = Next() % 50;
      h->add_bucket_counts(n);
      total += n;
    }
    h->add_bucket_counts(Next() % 3);
    h->set_count(total);
    h->set_sum(Uniform() * static_cast<double>(total));
    attrs(h);
    auto* e = exp->mutable_exponential_histogram()->add_data_points();
    e->set_time_unix_nano(clock_ns_);
    e->set_scale(3);
    e->set_zero_count(Next() % 5);
    e->mutable_positive()->set_offset(static_cast<int32_t>(Next() % 20));
    for (int b = 0; b < 8; ++b) e->mutable_positive()->add_bucket_counts(Next() % 30);
    e->set_count(100);
    attrs(e);
    auto* s = summary->mutable_summary()->add_data_points();
    s->set_time_unix_nano(clock_ns_);
    s->set_count(1000);
    s->set_sum(Uniform() * 500);
    for (double q : {0.5, 0.9, 0.99}) {
      auto* qv = s->add_quantile_values();
      qv->set_quantile(q);
      qv->set_value(Uniform() * q * 10);
    }
    attrs(s);
  }
  return req;
}

}  // namespace signaldb::loadgen
