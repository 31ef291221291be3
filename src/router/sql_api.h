// POST /api/v1/sql: one read-only SELECT over the tenant's tables.
// Request body: the SQL text (or JSON {"query": "..."} with a JSON content
// type). Response: {"columns":[{"name","type"}],"rows":[[...]]}, plus
// "truncated": true and "next_offset" when the row limit cut the result.
// 64-bit integers are JSON strings (as in Tempo's API), other numbers are
// numbers, nested values are JSON, NaN/Infinity are strings.
// `?format=csv` (or `Accept: text/csv`) answers RFC 4180 CSV with a header
// row instead (the next page's offset in X-SignalDB-Next-Offset);
// `?limit=N&offset=M` pages through a result (limit capped by
// query.max_rows). Queries naming tables with more than
// query.max_scanned_bytes of data are refused with 400.
#pragma once

#include <httplib.h>

#include "router/http_util.h"
#include "engine/engine.h"
#include "querier/querier.h"

namespace signaldb::router {

// The response body for a result table.
std::string SqlResultJson(const engine::Table& table);
// The same as CSV.
std::string SqlResultCsv(const engine::Table& table);
// `access` null: every request is default/default, without limits.
void RegisterSqlApi(httplib::Server& server, querier::Querier* querier, const QueryAccess* access = nullptr);

}  // namespace signaldb::router
