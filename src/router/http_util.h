// Helpers shared by the router's handlers.
#pragma once

#include <httplib.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/auth.h"
#include "common/tenant.h"

namespace signaldb::router {

// HTTP status for a failed call.
int HttpStatusFor(const absl::Status& status);
// Writes `{"error": message}` with the status's HTTP code.
void ReplyJsonError(httplib::Response& res, const absl::Status& status);
// The tenant and dataset a request is for (Authorization, X-Tenant-ID or
// X-Scope-OrgID, X-Dataset-ID), or why it is refused (auth.h); `auth` null:
// default/default.
absl::StatusOr<TenantContext> RequestTenant(const httplib::Request& req, const auth::Authenticator* auth);

}  // namespace signaldb::router
