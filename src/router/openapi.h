// GET /api/v1/openapi.json: an OpenAPI 3.0 description of the router's whole
// HTTP API (Tempo, SQL, admin, health).
#pragma once

#include <string>

namespace signaldb::router {

// The document, as JSON text.
const std::string& OpenApiJson();

}  // namespace signaldb::router
