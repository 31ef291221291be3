// Helpers shared by the router's handlers.
#pragma once

#include <httplib.h>

#include <string>

#include "absl/status/status.h"

namespace signaldb::router {

// HTTP status for a failed call.
int HttpStatusFor(const absl::Status& status);
// Writes `{"error": message}` with the status's HTTP code.
void ReplyJsonError(httplib::Response& res, const absl::Status& status);

}  // namespace signaldb::router
