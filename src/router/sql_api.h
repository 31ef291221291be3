// POST /api/v1/sql: one read-only SELECT over the tenant's tables.
// Request body: the SQL text (or JSON {"query": "..."} with a JSON content
// type). Response: {"columns":[{"name","type"}],"rows":[[...]]}, plus
// "truncated": true when the row limit cut the result. 64-bit integers are
// JSON strings (as in Tempo's API), other numbers are numbers, nested values
// are JSON, NaN/Infinity are strings.
#pragma once

#include <httplib.h>

#include "engine/engine.h"
#include "querier/querier.h"

namespace signaldb::router {

// The response body for a result table.
std::string SqlResultJson(const engine::Table& table);
void RegisterSqlApi(httplib::Server& server, querier::Querier* querier);

}  // namespace signaldb::router
