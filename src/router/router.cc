#include "router/router.h"

#include "health/health.h"
#include "router/sql_api.h"
#include "router/tempo_api.h"

namespace signaldb::router {

absl::StatusOr<std::unique_ptr<Router>> Router::Start(const RouterOptions& options, querier::Querier* querier,
                                                      writer::Writer* writer) {
  auto r = std::unique_ptr<Router>(new Router());
  auto& routes = r->http_.routes();
  RegisterTempoApi(routes, "/tempo", querier, options.auth);
  RegisterSqlApi(routes, querier, options.auth);
  routes.Get("/health", [=](const httplib::Request&, httplib::Response& res) {
    auto report = health::Check(writer, querier, options.storage_dir, /*per_dataset=*/options.auth == nullptr);
    res.status = report.healthy ? 200 : 503;
    res.set_content(report.json, "application/json");
  });
  if (auto st = r->http_.Start(options.http_addr); !st.ok()) return st;
  return r;
}

}  // namespace signaldb::router
