// Helpers shared by the router's handlers.
#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/auth.h"
#include "common/tenant.h"
#include "config/config.h"

namespace signaldb::router {

// HTTP status for a failed call.
int HttpStatusFor(const absl::Status& status);
// Writes `{"error": message}` with the status's HTTP code.
void ReplyJsonError(httplib::Response& res, const absl::Status& status);
// A query request admitted: its tenant and dataset, its tenant's limits, and
// one of the tenant's query slots, held until this is destroyed.
struct QueryScope : TenantContext {
  TenantLimits limits;
  std::shared_ptr<void> slot;
};

// Who may query, and how much: authentication, then the tenant's query
// concurrency (query_concurrency; over it, ResourceExhausted → 429).
//
// Thread-safety: thread-safe.
class QueryAccess {
 public:
  // `auth` null: every request is default/default. `limits_of` null: no
  // limits.
  QueryAccess(const auth::Authenticator* auth, std::function<TenantLimits(const std::string&)> limits_of)
      : auth_(auth), limits_of_(std::move(limits_of)) {}
  absl::StatusOr<QueryScope> Enter(const httplib::Request& req) const;

 private:
  const auth::Authenticator* const auth_;
  const std::function<TenantLimits(const std::string&)> limits_of_;
  mutable std::mutex mu_;
  mutable std::map<std::string, uint64_t> running_;  // queries per tenant
};

// The tenant and dataset a request is for (Authorization, X-Tenant-ID or
// X-Scope-OrgID, X-Dataset-ID), or why it is refused (auth.h), with a query
// slot of the tenant; `access` null: default/default without limits.
absl::StatusOr<QueryScope> RequestTenant(const httplib::Request& req, const QueryAccess* access);

// Checks a start..end (unix nanoseconds; 0: open) against the tenant's
// max_query_range: a wider range is InvalidArgument; an open range becomes
// the last max_query_range before `end` (or now).
absl::Status LimitRange(const TenantLimits& limits, int64_t* start_unix_nano, int64_t* end_unix_nano);

}  // namespace signaldb::router
