#include "output.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <utility>

namespace signaldb::cli {
namespace {

// Code points in UTF-8 text (continuation bytes do not count), which is the
// width a terminal gives most text; wide CJK glyphs are not accounted for.
size_t DisplayWidth(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return text;
}

// "%.2f" without trailing zeros: 12.50 -> 12.5, 3.00 -> 3.
std::string Decimal(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", value);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

void Flatten(const std::string& prefix, const nlohmann::ordered_json& value,
             std::vector<std::pair<std::string, std::string>>* out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, item] : value.items()) {
      Flatten(prefix.empty() ? key : prefix + "." + key, item, out);
    }
    return;
  }
  if (value.is_object()) {
    out->emplace_back(prefix, "-");
    return;
  }
  if (value.is_array()) {
    bool scalars =
        std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_primitive(); });
    if (scalars) {
      std::string joined;
      for (const auto& v : value) {
        if (!joined.empty()) joined += ", ";
        joined += CellText(v);
      }
      out->emplace_back(prefix, joined.empty() ? "-" : joined);
      return;
    }
  }
  out->emplace_back(prefix, CellText(value));
}

}  // namespace

std::string RenderTable(const Table& table) {
  const size_t columns = table.header.size();
  std::vector<size_t> widths(columns, 0);
  auto cell = [&](const std::vector<std::string>& row, size_t i) -> std::string {
    return i < row.size() ? OneLine(row[i]) : std::string();
  };
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < columns; ++i)
      widths[i] = std::max(widths[i], DisplayWidth(cell(row, i)));
  };
  measure(table.header);
  for (const auto& row : table.rows) measure(row);

  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      std::string text = cell(row, i);
      line += text;
      if (i + 1 < columns) line.append(widths[i] - DisplayWidth(text) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  emit(table.header);
  for (const auto& row : table.rows) emit(row);
  return out;
}

std::string RenderObject(const nlohmann::ordered_json& object) {
  std::vector<std::pair<std::string, std::string>> fields;
  Flatten("", object, &fields);
  Table table;
  table.header = {"FIELD", "VALUE"};
  for (auto& [name, value] : fields) table.rows.push_back({std::move(name), std::move(value)});
  // The header row of a two-column listing is noise; drop it.
  std::string text = RenderTable(table);
  return text.substr(text.find('\n') + 1);
}

std::string CellText(const nlohmann::ordered_json& value, const std::string& null_text) {
  if (value.is_null()) return null_text;
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string FormatDuration(int64_t nanos) {
  if (nanos < 0) {
    // -INT64_MIN overflows; such a duration is garbage anyway.
    std::string out = "-";
    if (nanos != INT64_MIN) out += FormatDuration(-nanos);
    return out;
  }
  if (nanos < 1000) return std::to_string(nanos) + "ns";
  if (nanos < 1000000) return Decimal(nanos / 1e3) + "us";
  if (nanos < 1000000000) return Decimal(nanos / 1e6) + "ms";
  if (nanos < 60 * int64_t{1000000000}) return Decimal(nanos / 1e9) + "s";
  int64_t seconds = nanos / 1000000000;
  if (seconds < 3600)
    return std::to_string(seconds / 60) + "m" + std::to_string(seconds % 60) + "s";
  return std::to_string(seconds / 3600) + "h" + std::to_string(seconds % 3600 / 60) + "m";
}

std::string FormatUnixNanos(int64_t nanos) {
  // Floor division so times before 1970 still land on the right second.
  int64_t seconds = nanos / 1000000000;
  int64_t rest = nanos % 1000000000;
  if (rest < 0) {
    rest += 1000000000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(nanos);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(rest / 1000000));
  return buf;
}

}  // namespace signaldb::cli
