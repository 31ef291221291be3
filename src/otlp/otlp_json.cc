#include "otlp/otlp_json.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace signaldb::otlp {
namespace {

using Json = nlohmann::json;

void AppendU64(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void AppendI64(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(StrCat("stored OTLP JSON is malformed: ", what));
}

absl::StatusOr<int64_t> ReadInt64(const Json& j) {
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_string()) {
    int64_t v;
    if (ParseInt(std::string_view(j.get_ref<const std::string&>()), &v)) return v;
  }
  return Corrupt("expected a 64-bit integer");
}

absl::StatusOr<uint64_t> ReadUInt64(const Json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer()) return static_cast<uint64_t>(j.get<int64_t>());
  if (j.is_string()) {
    uint64_t v;
    if (ParseInt(std::string_view(j.get_ref<const std::string&>()), &v)) return v;
  }
  return Corrupt("expected an unsigned 64-bit integer");
}

absl::StatusOr<double> ReadDouble(const Json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return HUGE_VAL;
    if (s == "-Infinity") return -HUGE_VAL;
  }
  return Corrupt("expected a double");
}

absl::Status ReadAnyValue(const Json& j, pb::AnyValue* out);

absl::Status ReadKeyValues(const Json& j, pb::KeyValues* out) {
  if (!j.is_array()) return Corrupt("expected an attribute array");
  for (const auto& item : j) {
    if (!item.is_object()) return Corrupt("expected an attribute object");
    auto* kv = out->Add();
    if (auto it = item.find("key"); it != item.end() && it->is_string()) kv->set_key(it->get<std::string>());
    if (auto it = item.find("value"); it != item.end()) RETURN_IF_ERROR(ReadAnyValue(*it, kv->mutable_value()));
  }
  return absl::OkStatus();
}

absl::Status ReadAnyValue(const Json& j, pb::AnyValue* out) {
  if (!j.is_object()) return Corrupt("expected an AnyValue object");
  if (auto it = j.find("stringValue"); it != j.end()) {
    if (!it->is_string()) return Corrupt("stringValue");
    out->set_string_value(it->get<std::string>());
  } else if (auto it = j.find("boolValue"); it != j.end()) {
    if (!it->is_boolean()) return Corrupt("boolValue");
    out->set_bool_value(it->get<bool>());
  } else if (auto it = j.find("intValue"); it != j.end()) {
    ASSIGN_OR_RETURN(int64_t v, ReadInt64(*it));
    out->set_int_value(v);
  } else if (auto it = j.find("doubleValue"); it != j.end()) {
    ASSIGN_OR_RETURN(double v, ReadDouble(*it));
    out->set_double_value(v);
  } else if (auto it = j.find("bytesValue"); it != j.end()) {
    auto bytes = it->is_string() ? Base64Decode(it->get_ref<const std::string&>()) : std::nullopt;
    if (!bytes) return Corrupt("bytesValue");
    out->set_bytes_value(*bytes);
  } else if (auto it = j.find("arrayValue"); it != j.end()) {
    auto* arr = out->mutable_array_value();
    if (auto v = it->find("values"); v != it->end()) {
      if (!v->is_array()) return Corrupt("arrayValue");
      for (const auto& e : *v) RETURN_IF_ERROR(ReadAnyValue(e, arr->add_values()));
    }
  } else if (auto it = j.find("kvlistValue"); it != j.end()) {
    auto* list = out->mutable_kvlist_value();
    if (auto v = it->find("values"); v != it->end()) RETURN_IF_ERROR(ReadKeyValues(*v, list->mutable_values()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> ParseArray(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return Corrupt("not a JSON array");
  return j;
}

absl::StatusOr<std::string> ReadHexId(const Json& j) {
  if (!j.is_string()) return Corrupt("id");
  auto id = HexDecode(j.get_ref<const std::string&>());
  if (!id) return Corrupt("id is not hex");
  return *id;
}

}  // namespace

void AppendJsonDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, r.ptr);
  }
}

void AppendJsonKey(std::string& out, std::string_view key, bool& first) {
  out += first ? "\"" : ",\"";
  first = false;
  out += key;
  out += "\":";
}

void AppendHexMember(std::string& out, std::string_view key, std::string_view id, bool& first) {
  if (id.empty()) return;
  AppendJsonKey(out, key, first);
  out += '"';
  AppendHex(out, id);
  out += '"';
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  // Copy runs of plain characters at once; only quotes, backslashes and
  // control characters need escapes.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendAnyValueJson(std::string& out, const pb::AnyValue& v) {
  switch (v.value_case()) {
    case pb::AnyValue::kStringValue:
      out += "{\"stringValue\":";
      AppendJsonString(out, v.string_value());
      out += '}';
      break;
    case pb::AnyValue::kBoolValue:
      out += v.bool_value() ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
      break;
    case pb::AnyValue::kIntValue:
      out += "{\"intValue\":\"";
      AppendI64(out, v.int_value());
      out += "\"}";
      break;
    case pb::AnyValue::kDoubleValue:
      out += "{\"doubleValue\":";
      AppendJsonDouble(out, v.double_value());
      out += '}';
      break;
    case pb::AnyValue::kBytesValue:
      out += "{\"bytesValue\":\"";
      out += Base64Encode(v.bytes_value());
      out += "\"}";
      break;
    case pb::AnyValue::kArrayValue: {
      out += "{\"arrayValue\":{\"values\":[";
      bool first = true;
      for (const auto& e : v.array_value().values()) {
        if (!first) out += ',';
        first = false;
        AppendAnyValueJson(out, e);
      }
      out += "]}}";
      break;
    }
    case pb::AnyValue::kKvlistValue:
      out += "{\"kvlistValue\":{\"values\":";
      AppendKeyValuesJson(out, v.kvlist_value().values());
      out += "}}";
      break;
    default:
      out += "{}";
  }
}

void AppendKeyValuesJson(std::string& out, const pb::KeyValues& kvs) {
  out += '[';
  bool first = true;
  for (const auto& kv : kvs) {
    if (!first) out += ',';
    first = false;
    out += "{\"key\":";
    AppendJsonString(out, kv.key());
    if (kv.has_value()) {
      out += ",\"value\":";
      AppendAnyValueJson(out, kv.value());
    }
    out += '}';
  }
  out += ']';
}

void AppendEventsJson(std::string& out, const pb::Events& events) {
  out += '[';
  bool first_event = true;
  for (const auto& e : events) {
    if (!first_event) out += ',';
    first_event = false;
    out += '{';
    bool first = true;
    if (e.time_unix_nano() != 0) {
      AppendJsonKey(out, "timeUnixNano", first);
      out += '"';
      AppendU64(out, e.time_unix_nano());
      out += '"';
    }
    if (!e.name().empty()) {
      AppendJsonKey(out, "name", first);
      AppendJsonString(out, e.name());
    }
    if (e.attributes_size() > 0) {
      AppendJsonKey(out, "attributes", first);
      AppendKeyValuesJson(out, e.attributes());
    }
    if (e.dropped_attributes_count() != 0) {
      AppendJsonKey(out, "droppedAttributesCount", first);
      AppendU64(out, e.dropped_attributes_count());
    }
    out += '}';
  }
  out += ']';
}

void AppendLinksJson(std::string& out, const pb::Links& links) {
  out += '[';
  bool first_link = true;
  for (const auto& l : links) {
    if (!first_link) out += ',';
    first_link = false;
    out += '{';
    bool first = true;
    AppendHexMember(out, "traceId", l.trace_id(), first);
    AppendHexMember(out, "spanId", l.span_id(), first);
    if (!l.trace_state().empty()) {
      AppendJsonKey(out, "traceState", first);
      AppendJsonString(out, l.trace_state());
    }
    if (l.attributes_size() > 0) {
      AppendJsonKey(out, "attributes", first);
      AppendKeyValuesJson(out, l.attributes());
    }
    if (l.dropped_attributes_count() != 0) {
      AppendJsonKey(out, "droppedAttributesCount", first);
      AppendU64(out, l.dropped_attributes_count());
    }
    if (l.flags() != 0) {
      AppendJsonKey(out, "flags", first);
      AppendU64(out, l.flags());
    }
    out += '}';
  }
  out += ']';
}

absl::Status ParseKeyValuesJson(std::string_view json, pb::KeyValues* out) {
  ASSIGN_OR_RETURN(Json j, ParseArray(json));
  return ReadKeyValues(j, out);
}

absl::Status ParseEventsJson(std::string_view json, pb::Events* out) {
  ASSIGN_OR_RETURN(Json j, ParseArray(json));
  for (const auto& item : j) {
    if (!item.is_object()) return Corrupt("event");
    auto* e = out->Add();
    if (auto it = item.find("timeUnixNano"); it != item.end()) {
      ASSIGN_OR_RETURN(uint64_t t, ReadUInt64(*it));
      e->set_time_unix_nano(t);
    }
    if (auto it = item.find("name"); it != item.end() && it->is_string()) e->set_name(it->get<std::string>());
    if (auto it = item.find("attributes"); it != item.end()) RETURN_IF_ERROR(ReadKeyValues(*it, e->mutable_attributes()));
    if (auto it = item.find("droppedAttributesCount"); it != item.end()) {
      ASSIGN_OR_RETURN(uint64_t n, ReadUInt64(*it));
      e->set_dropped_attributes_count(static_cast<uint32_t>(n));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseLinksJson(std::string_view json, pb::Links* out) {
  ASSIGN_OR_RETURN(Json j, ParseArray(json));
  for (const auto& item : j) {
    if (!item.is_object()) return Corrupt("link");
    auto* l = out->Add();
    if (auto it = item.find("traceId"); it != item.end()) {
      ASSIGN_OR_RETURN(std::string id, ReadHexId(*it));
      l->set_trace_id(id);
    }
    if (auto it = item.find("spanId"); it != item.end()) {
      ASSIGN_OR_RETURN(std::string id, ReadHexId(*it));
      l->set_span_id(id);
    }
    if (auto it = item.find("traceState"); it != item.end() && it->is_string()) l->set_trace_state(it->get<std::string>());
    if (auto it = item.find("attributes"); it != item.end()) RETURN_IF_ERROR(ReadKeyValues(*it, l->mutable_attributes()));
    if (auto it = item.find("droppedAttributesCount"); it != item.end()) {
      ASSIGN_OR_RETURN(uint64_t n, ReadUInt64(*it));
      l->set_dropped_attributes_count(static_cast<uint32_t>(n));
    }
    if (auto it = item.find("flags"); it != item.end()) {
      ASSIGN_OR_RETURN(uint64_t n, ReadUInt64(*it));
      l->set_flags(static_cast<uint32_t>(n));
    }
  }
  return absl::OkStatus();
}

}  // namespace signaldb::otlp
