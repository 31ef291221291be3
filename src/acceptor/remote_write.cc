#include "acceptor/remote_write.h"

#include <cstring>
#include <map>

#include "common/strings.h"
#include "prometheus/remote.pb.h"

namespace signaldb::acceptor {
namespace {

namespace mpb = opentelemetry::proto::metrics::v1;

bool ValidMetricName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool ValidLabelName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Why a series' labels are unacceptable, or empty when they are fine.
std::string CheckLabels(const prometheus::TimeSeries& ts, std::string* name) {
  std::map<std::string, int> seen;
  for (const auto& l : ts.labels()) {
    if (!ValidLabelName(l.name())) return StrCat("invalid label name '", l.name(), "'");
    if (++seen[l.name()] > 1) return StrCat("duplicate label name '", l.name(), "'");
    if (l.name() == "__name__") *name = l.value();
  }
  if (name->empty()) return "series has no __name__ label";
  if (!ValidMetricName(*name)) return StrCat("invalid metric name '", *name, "'");
  return "";
}

}  // namespace

absl::StatusOr<RemoteWriteConversion> ConvertRemoteWrite(std::string_view protobuf) {
  prometheus::WriteRequest wr;
  if (protobuf.size() > INT32_MAX || !wr.ParseFromArray(protobuf.data(), static_cast<int>(protobuf.size()))) {
    return absl::InvalidArgumentError("body is not a valid Prometheus WriteRequest protobuf");
  }
  RemoteWriteConversion out;
  // One resource per job, like Prometheus' own OTLP translation.
  std::map<std::string, mpb::ScopeMetrics*> by_job;
  for (const auto& ts : wr.timeseries()) {
    std::string name;
    std::string problem = CheckLabels(ts, &name);
    if (!problem.empty()) {
      if (out.rejected_series++ == 0) out.first_error = problem;
      continue;
    }
    std::string job;
    for (const auto& l : ts.labels()) {
      if (l.name() == "job") job = l.value();
    }
    auto [it, fresh] = by_job.emplace(job, nullptr);
    if (fresh) {
      auto* rm = out.request.add_resource_metrics();
      if (!job.empty()) {
        auto* kv = rm->mutable_resource()->add_attributes();
        kv->set_key("service.name");
        kv->mutable_value()->set_string_value(job);
      }
      it->second = rm->add_scope_metrics();
      it->second->mutable_scope()->set_name("prometheus.remote_write");
    }
    auto* metric = it->second->add_metrics();
    metric->set_name(name);
    auto* gauge = metric->mutable_gauge();
    for (const auto& s : ts.samples()) {
      auto* p = gauge->add_data_points();
      p->set_time_unix_nano(static_cast<uint64_t>(s.timestamp()) * 1000000ULL);
      p->set_as_double(s.value());  // the exact bits, stale-marker NaN included
      uint64_t bits;
      double v = s.value();
      std::memcpy(&bits, &v, sizeof(bits));
      if (bits == 0x7ff0000000000002ULL) p->set_flags(mpb::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK);
      for (const auto& l : ts.labels()) {
        if (l.name() == "__name__") continue;
        auto* kv = p->add_attributes();
        kv->set_key(l.name());
        kv->mutable_value()->set_string_value(l.value());
      }
      ++out.samples;
    }
    ++out.series;
  }
  return out;
}

}  // namespace signaldb::acceptor
