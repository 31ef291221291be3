#include "router/router.h"

#include "health/health.h"
#include "router/admin_api.h"
#include "router/openapi.h"
#include "router/sql_api.h"
#include "router/tempo_api.h"

namespace signaldb::router {

absl::StatusOr<std::unique_ptr<Router>> Router::Start(const RouterOptions& options, querier::Querier* querier,
                                                      writer::Writer* writer) {
  auto r = std::unique_ptr<Router>(new Router());
  auto& routes = r->http_.routes();
  r->access_ = std::make_unique<QueryAccess>(options.auth, options.limits_of);
  RegisterTempoApi(routes, "/tempo", querier, r->access_.get());
  RegisterSqlApi(routes, querier, r->access_.get());
  RegisterAdminApi(routes, options.registry);
  routes.Get("/api/v1/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(OpenApiJson(), "application/json");
  });
  routes.Get("/health", [=](const httplib::Request&, httplib::Response& res) {
    auto report = health::Check(writer, querier, options.storage_dir, /*per_dataset=*/options.auth == nullptr);
    res.status = report.healthy ? 200 : 503;
    res.set_content(report.json, "application/json");
  });
  if (auto st = r->http_.Start(options.http_addr); !st.ok()) return st;
  return r;
}

}  // namespace signaldb::router
