// Parsing of the argument values that carry more than a string: limit
// assignments and times (declared in commands.h).
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <optional>

#include "commands.h"

namespace signaldb::cli {
namespace {

bool AllDigits(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!std::isdigit(c)) return false;
  }
  return true;
}

// "1h30m", "7d", "90s": the total in seconds, or nullopt.
std::optional<int64_t> SpanSeconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j == text.size() || j - i > 9) return std::nullopt;
    int64_t n = std::stoll(text.substr(i, j - i));
    int64_t unit = 0;
    switch (text[j]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        return std::nullopt;
    }
    total += n * unit;
    i = j + 1;
  }
  return total;
}

// RFC 3339 date-time ("2026-11-22T10:00:00[.fff](Z|±hh:mm)") or a bare date.
std::optional<int64_t> Rfc3339Seconds(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &year, &month, &day, &used) != 3 || used != 10)
    return std::nullopt;
  size_t pos = 10;
  int64_t offset = 0;
  if (pos < text.size()) {
    char sep = text[pos];
    if (sep != 'T' && sep != 't' && sep != ' ') return std::nullopt;
    used = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d:%2d%n", &hour, &minute, &second, &used) != 3 ||
        used != 8) {
      return std::nullopt;
    }
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      size_t digits = pos;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
      if (pos == digits) return std::nullopt;  // fractions are dropped: the API takes whole seconds
    }
    std::string zone = text.substr(pos);
    if (zone == "Z" || zone == "z") {
      offset = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
               AllDigits(zone.substr(1, 2)) && AllDigits(zone.substr(4, 2))) {
      offset = (std::stoi(zone.substr(1, 2)) * 3600 + std::stoi(zone.substr(4, 2)) * 60) *
               (zone[0] == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

}  // namespace

absl::StatusOr<nlohmann::ordered_json> ParseLimitAssignments(
    const std::vector<std::string>& assignments, bool allow_removal) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const std::string& a : assignments) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError("--limit wants FIELD=VALUE, got \"" + a + "\"");
    }
    std::string field = a.substr(0, eq);
    std::string value = a.substr(eq + 1);
    if (value.empty()) {
      if (!allow_removal) return absl::InvalidArgumentError("--limit " + field + "= has no value");
      out[field] = nullptr;
      continue;
    }
    int64_t number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec == std::errc() && end == value.data() + value.size()) {
      out[field] = number;
    } else {
      out[field] = value;
    }
  }
  return out;
}

absl::StatusOr<int64_t> ParseTimeArg(const std::string& text, int64_t now_unix_seconds) {
  if (text == "now") return now_unix_seconds;
  if (AllDigits(text) && text.size() <= 12) return std::stoll(text);
  if (auto span = SpanSeconds(text)) return now_unix_seconds - *span;
  if (auto t = Rfc3339Seconds(text)) return *t;
  return absl::InvalidArgumentError(
      "cannot read time \"" + text +
      "\": give Unix seconds, RFC 3339 (2026-11-22T10:00:00Z), now, or a span "
      "before now (15m, 1h30m, 7d)");
}

}  // namespace signaldb::cli
