// The tenant context every request carries from the acceptor's first line to
// the querier's last. With auth disabled it is always default/default.
#pragma once

#include <string>

namespace signaldb {

struct TenantContext {
  std::string tenant = "default";
  std::string dataset = "default";

  bool operator==(const TenantContext&) const = default;
  bool operator<(const TenantContext& o) const {
    return tenant != o.tenant ? tenant < o.tenant : dataset < o.dataset;
  }
};

// The signals SignalDB stores; each has its own WAL directory and tables.
enum class Signal { kTraces, kLogs, kMetrics };
inline const char* SignalName(Signal s) {
  switch (s) {
    case Signal::kTraces:
      return "traces";
    case Signal::kLogs:
      return "logs";
    case Signal::kMetrics:
      return "metrics";
  }
  return "unknown";
}

}  // namespace signaldb
