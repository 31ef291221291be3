// Plain-text rendering for signaldb-cli: aligned tables, a vertical
// field/value view of one JSON object, and the human forms of times and
// durations. Pure functions, no I/O, so the CLI's look is unit-tested.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace signaldb::cli {

// Rows of text under a header row. Every row should have header.size()
// cells; a short row is padded with empty cells, a long one is cut.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Columns left-aligned, two spaces apart, widths in code points, no trailing
// blanks; control characters in cells become spaces so a row stays one line.
// A table with no rows still prints its header (scripts see the shape).
std::string RenderTable(const Table& table);

// One object as "field  value" lines. Nested objects are flattened to dotted
// names (limits.max_query_range); arrays of scalars are comma-joined; null is
// "-" and an empty object prints its name with "-".
std::string RenderObject(const nlohmann::ordered_json& object);

// A scalar JSON value as a cell: strings bare, null as `null_text`, numbers
// and booleans as JSON writes them, arrays and objects as compact JSON.
std::string CellText(const nlohmann::ordered_json& value, const std::string& null_text = "-");

// A duration in nanoseconds as the shortest readable form: 850ns, 12.5us,
// 3.25ms, 1.5s, 2m5s, 1h2m.
std::string FormatDuration(int64_t nanos);

// Unix nanoseconds as RFC 3339 UTC with milliseconds: 2026-11-22T10:00:00.123Z.
std::string FormatUnixNanos(int64_t nanos);

}  // namespace signaldb::cli
