#include "router/http_util.h"

#include <nlohmann/json.hpp>

#include <chrono>

#include "common/status_macros.h"
#include "common/strings.h"

namespace signaldb::router {

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

void ReplyJsonError(httplib::Response& res, const absl::Status& status) {
  res.status = HttpStatusFor(status);
  if (res.status == 429) res.set_header("Retry-After", "1");
  nlohmann::json body = {{"error", std::string(status.message())}};
  // Messages may echo request bytes that are not UTF-8.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

absl::StatusOr<QueryScope> QueryAccess::Enter(const httplib::Request& req) const {
  QueryScope scope;
  if (auth_ != nullptr) {
    const auth::Credentials c = auth::CredentialsFrom([&](const char* name) { return req.get_header_value(name); });
    ASSIGN_OR_RETURN(TenantContext ctx, auth_->Authenticate(c));
    static_cast<TenantContext&>(scope) = std::move(ctx);
  }
  if (!limits_of_) return scope;
  scope.limits = limits_of_(scope.tenant);
  const uint64_t max = scope.limits.query_concurrency;
  if (max == 0) return scope;
  std::lock_guard lock(mu_);
  uint64_t& running = running_[scope.tenant];
  if (running >= max) {
    return absl::ResourceExhaustedError(
        StrCat("tenant '", scope.tenant, "' already runs ", running, " queries (query_concurrency ", max,
               "); retry when one has finished"));
  }
  ++running;
  // The slot is given back when the last copy of the scope goes.
  scope.slot = std::shared_ptr<void>(nullptr, [this, tenant = scope.tenant](void*) {
    std::lock_guard lock(mu_);
    if (--running_[tenant] == 0) running_.erase(tenant);
  });
  return scope;
}

absl::StatusOr<QueryScope> RequestTenant(const httplib::Request& req, const QueryAccess* access) {
  if (access == nullptr) return QueryScope{};
  return access->Enter(req);
}

absl::Status LimitRange(const TenantLimits& limits, int64_t* start, int64_t* end) {
  const int64_t max = std::chrono::duration_cast<std::chrono::nanoseconds>(limits.max_query_range).count();
  if (max <= 0) return absl::OkStatus();
  if (*start != 0 && *end != 0) {
    if (*end - *start > max) {
      return absl::InvalidArgumentError(StrCat("the time range of the query (", (*end - *start) / 1000000000,
                                               "s) exceeds this tenant's max_query_range (", max / 1000000000, "s)"));
    }
    return absl::OkStatus();
  }
  if (*end == 0) {
    *end = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
               .count();
  }
  if (*start == 0 || *end - *start > max) *start = *end - max;
  return absl::OkStatus();
}

}  // namespace signaldb::router
