#include "router/http_util.h"

#include <nlohmann/json.hpp>

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
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

void ReplyJsonError(httplib::Response& res, const absl::Status& status) {
  res.status = HttpStatusFor(status);
  nlohmann::json body = {{"error", std::string(status.message())}};
  res.set_content(body.dump(), "application/json");
}

absl::StatusOr<TenantContext> RequestTenant(const httplib::Request& req, const auth::Authenticator* auth) {
  if (auth == nullptr) return TenantContext{};
  const auth::Credentials c = auth::CredentialsFrom([&](const char* name) { return req.get_header_value(name); });
  return auth->Authenticate(c);
}

}  // namespace signaldb::router
