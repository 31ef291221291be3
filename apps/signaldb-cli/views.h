// The tables signaldb-cli prints for each server answer: admin lists, SQL
// results, TraceQL search hits and a trace's spans. Each takes the parsed
// JSON body as the server sent it and never throws: a missing or mistyped
// field shows as "-" rather than failing the command.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "output.h"

namespace signaldb::cli {

// {"tenants": [Tenant]}: id, slug, name, default dataset, source, limits, created.
Table TenantsTable(const nlohmann::ordered_json& body);
// {"api_keys": [...]}: id, name, tenant, created, revoked, source.
Table ApiKeysTable(const nlohmann::ordered_json& body);
// {"datasets": [Dataset]}: id, slug, name, default, storage, source, created.
Table DatasetsTable(const nlohmann::ordered_json& body);

// POST /api/v1/sql: the columns by name, one row per result row; SQL NULL
// prints as NULL, 64-bit integers (JSON strings) as digits.
Table SqlTable(const nlohmann::ordered_json& body);

// Tempo search: trace id, root service, root name, start, duration.
Table SearchTable(const nlohmann::ordered_json& body);

// Tempo trace by id (v1 {"batches": ...}, OTLP {"resourceSpans": ...} or
// v2 {"trace": {...}}): one row per span in tree order (children under
// their parent, siblings by start time, names indented by depth): service,
// name, span id, parent, start, duration, status.
Table TraceTable(const nlohmann::ordered_json& body);

// A trace or span id as Tempo's JSON holds it (base64 of the raw bytes) or
// as hex, returned as lowercase hex; nullopt when it is neither.
std::optional<std::string> IdToHex(const std::string& id);

// A JSON integer, or a decimal string holding one (proto3 JSON's 64-bit form).
std::optional<int64_t> JsonInt(const nlohmann::ordered_json& value);

}  // namespace signaldb::cli
