// Grafana Tempo's HTTP query API (see shared/reference/tempo-api.md): echo,
// buildinfo and trace by id (v1 and v2), in Tempo's exact encodings.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "router/http_util.h"
#include "querier/querier.h"

namespace signaldb::router {

// Parses a trace id the way Tempo does: case-insensitive hex, odd lengths
// left-padded with '0', at most 128 bits, shorter ids left-padded with zero
// bytes. Returns the 16 raw bytes; errors carry Tempo's messages.
absl::StatusOr<std::string> ParseTempoTraceId(const std::string& text);

// Registers the routes under `prefix` (e.g. "/tempo").
// `access` null: every request is default/default, without limits.
void RegisterTempoApi(httplib::Server& server, const std::string& prefix, querier::Querier* querier,
                      const QueryAccess* access = nullptr);

}  // namespace signaldb::router
