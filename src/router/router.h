// The router role: serves the HTTP API (Tempo, SQL, health) on one address.
//
// Thread-safety: Start/Stop from one thread; requests are served concurrently.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "auth/auth.h"
#include "net/http_server.h"
#include "router/http_util.h"
#include "tenancy/registry.h"
#include "querier/querier.h"
#include "writer/writer.h"

namespace signaldb::router {

struct RouterOptions {
  std::string http_addr;
  std::string storage_dir;  // probed by /health
  const auth::Authenticator* auth = nullptr;  // not owned; null: auth off (default/default)
  // Tenants for the admin API (not owned); null: the admin API answers 404.
  tenancy::Registry* registry = nullptr;
  // Each tenant's limits (query concurrency, max query range); null: none.
  std::function<TenantLimits(const std::string& tenant)> limits_of;
};

class Router {
 public:
  // Pointers are not owned and must outlive the router.
  static absl::StatusOr<std::unique_ptr<Router>> Start(const RouterOptions& options, querier::Querier* querier,
                                                       writer::Writer* writer);
  void Stop() { http_.Stop(); }
  std::string bound_address() const { return http_.bound_address(); }

 private:
  Router() = default;
  std::unique_ptr<QueryAccess> access_;  // outlives the server's requests (declared first)
  net::HttpServer http_;
};

}  // namespace signaldb::router
