#include "views.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "common/hex.h"

namespace signaldb::cli {
namespace {

using Json = nlohmann::ordered_json;

const Json& Field(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string Text(const Json& object, const char* key) { return CellText(Field(object, key)); }

const Json& List(const Json& body, const char* key) {
  static const Json kEmpty = Json::array();
  const Json& list = Field(body, key);
  return list.is_array() ? list : kEmpty;
}

std::string YesNo(const Json& value) {
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  return CellText(value);
}

// {"a": 1, "b": "24h"} -> "a=1,b=24h"; empty or absent -> "-".
std::string KeyValues(const Json& object) {
  if (!object.is_object() || object.empty()) return "-";
  std::string out;
  for (const auto& [key, value] : object.items()) {
    if (!out.empty()) out += ',';
    out += key + "=" + CellText(value);
  }
  return out;
}

// The string value of an OTLP AnyValue as Tempo's JSON writes it.
std::string AnyValueText(const Json& any) {
  for (const char* kind : {"stringValue", "intValue", "doubleValue", "boolValue"}) {
    const Json& v = Field(any, kind);
    if (!v.is_null()) return CellText(v);
  }
  return "";
}

std::string ServiceName(const Json& resource) {
  for (const Json& attr : List(resource, "attributes")) {
    if (Field(attr, "key") == "service.name") return AnyValueText(Field(attr, "value"));
  }
  return "";
}

// OTLP status as a word: "unset", "ok", "error" (plus its message).
std::string StatusText(const Json& status) {
  const Json& code = Field(status, "code");
  std::string word = "unset";
  if (code == "STATUS_CODE_OK" || code == 1) word = "ok";
  if (code == "STATUS_CODE_ERROR" || code == 2) word = "error";
  const Json& message = Field(status, "message");
  if (message.is_string() && !message.get<std::string>().empty())
    word += ": " + message.get<std::string>();
  return word;
}

struct SpanRow {
  std::string service, name, id, parent, status;
  std::optional<int64_t> start, end;
};

std::string Hex(const Json& id) {
  if (!id.is_string() || id.get<std::string>().empty()) return "";
  auto hex = IdToHex(id.get<std::string>());
  return hex ? *hex : id.get<std::string>();
}

}  // namespace

std::optional<int64_t> JsonInt(const Json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (!value.is_string()) return std::nullopt;
  const std::string& s = value.get_ref<const std::string&>();
  int64_t out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return out;
}

std::optional<std::string> IdToHex(const std::string& id) {
  // Hex ids have an even length of 16 or 32 digits; base64 of 8 or 16 bytes
  // is 12 or 24 characters, so the two cannot be confused.
  bool all_hex = !id.empty() && std::all_of(id.begin(), id.end(),
                                            [](unsigned char c) { return std::isxdigit(c); });
  if (all_hex && (id.size() == 16 || id.size() == 32)) {
    std::string out = id;
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }
  // Otherwise base64 (as OTLP JSON encoders write ids) of 8 or 16 bytes.
  std::optional<std::string> bytes = Base64Decode(id);
  if (!bytes || bytes->empty()) return std::nullopt;
  return HexEncode(*bytes);
}

Table TenantsTable(const Json& body) {
  Table t{{"ID", "SLUG", "NAME", "DEFAULT DATASET", "SOURCE", "LIMITS", "CREATED"}, {}};
  for (const Json& x : List(body, "tenants")) {
    t.rows.push_back({Text(x, "id"), Text(x, "slug"), Text(x, "name"), Text(x, "default_dataset"),
                      Text(x, "source"), KeyValues(Field(x, "limits")), Text(x, "created_at")});
  }
  return t;
}

Table ApiKeysTable(const Json& body) {
  Table t{{"ID", "NAME", "TENANT", "CREATED", "REVOKED", "SOURCE"}, {}};
  for (const Json& x : List(body, "api_keys")) {
    t.rows.push_back({Text(x, "id"), Text(x, "name"), Text(x, "tenant_id"), Text(x, "created_at"),
                      Text(x, "revoked_at"), Text(x, "source")});
  }
  return t;
}

Table DatasetsTable(const Json& body) {
  Table t{{"ID", "SLUG", "NAME", "DEFAULT", "STORAGE", "SOURCE", "CREATED"}, {}};
  for (const Json& x : List(body, "datasets")) {
    t.rows.push_back({Text(x, "id"), Text(x, "slug"), Text(x, "name"),
                      YesNo(Field(x, "is_default")), Text(Field(x, "storage"), "dsn"),
                      Text(x, "source"), Text(x, "created_at")});
  }
  return t;
}

Table SqlTable(const Json& body) {
  Table t;
  for (const Json& column : List(body, "columns")) t.header.push_back(Text(column, "name"));
  for (const Json& row : List(body, "rows")) {
    std::vector<std::string> cells;
    if (row.is_array()) {
      for (const Json& v : row) cells.push_back(CellText(v, "NULL"));
    }
    t.rows.push_back(std::move(cells));
  }
  return t;
}

Table SearchTable(const Json& body) {
  Table t{{"TRACE ID", "ROOT SERVICE", "ROOT NAME", "START", "DURATION"}, {}};
  for (const Json& x : List(body, "traces")) {
    auto start = JsonInt(Field(x, "startTimeUnixNano"));
    auto ms = JsonInt(Field(x, "durationMs"));
    // Tempo omits durationMs when it rounds to zero.
    std::string duration = ms && *ms > 0 ? FormatDuration(*ms * 1000000) : "<1ms";
    t.rows.push_back({Text(x, "traceID"), Text(x, "rootServiceName"), Text(x, "rootTraceName"),
                      start ? FormatUnixNanos(*start) : "-", duration});
  }
  return t;
}

Table TraceTable(const Json& body) {
  const Json* top = &body;
  if (Field(body, "trace").is_object()) top = &Field(body, "trace");
  const Json* batches = &List(*top, "batches");
  if (batches->empty()) batches = &List(*top, "resourceSpans");

  std::vector<SpanRow> spans;
  for (const Json& batch : *batches) {
    std::string service = ServiceName(Field(batch, "resource"));
    const Json* scopes = &List(batch, "scopeSpans");
    if (scopes->empty()) scopes = &List(batch, "instrumentationLibrarySpans");
    for (const Json& scope : *scopes) {
      for (const Json& span : List(scope, "spans")) {
        spans.push_back({service, Text(span, "name"), Hex(Field(span, "spanId")),
                         Hex(Field(span, "parentSpanId")), StatusText(Field(span, "status")),
                         JsonInt(Field(span, "startTimeUnixNano")),
                         JsonInt(Field(span, "endTimeUnixNano"))});
      }
    }
  }

  // Children under their parent; spans whose parent is absent are roots.
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (!spans[i].id.empty()) by_id.emplace(spans[i].id, i);
  }
  std::vector<std::vector<size_t>> children(spans.size());
  std::vector<size_t> roots;
  for (size_t i = 0; i < spans.size(); ++i) {
    auto parent = by_id.find(spans[i].parent);
    if (spans[i].parent.empty() || parent == by_id.end() || parent->second == i) {
      roots.push_back(i);
    } else {
      children[parent->second].push_back(i);
    }
  }
  auto earlier = [&](size_t a, size_t b) {
    return std::make_pair(spans[a].start.value_or(INT64_MAX), a) <
           std::make_pair(spans[b].start.value_or(INT64_MAX), b);
  };
  std::sort(roots.begin(), roots.end(), earlier);
  for (auto& c : children) std::sort(c.begin(), c.end(), earlier);

  Table t{{"SERVICE", "NAME", "SPAN ID", "PARENT", "START", "DURATION", "STATUS"}, {}};
  std::vector<bool> seen(spans.size(), false);
  std::function<void(size_t, size_t)> visit = [&](size_t i, size_t depth) {
    if (seen[i]) return;  // a parent cycle in bad data: print each span once
    seen[i] = true;
    const SpanRow& s = spans[i];
    std::string duration = s.start && s.end ? FormatDuration(*s.end - *s.start) : "-";
    t.rows.push_back({s.service.empty() ? "-" : s.service, std::string(2 * depth, ' ') + s.name,
                      s.id.empty() ? "-" : s.id, s.parent.empty() ? "-" : s.parent,
                      s.start ? FormatUnixNanos(*s.start) : "-", duration, s.status});
    for (size_t c : children[i]) visit(c, depth + 1);
  };
  for (size_t r : roots) visit(r, 0);
  // Spans only reachable through a cycle have no root; list them flat.
  for (size_t i = 0; i < spans.size(); ++i) visit(i, 0);
  return t;
}

}  // namespace signaldb::cli
