// Shared pieces of the wire decoders (see wire_decode.h).
#include "otlp/wire_decode.h"

#include <cstring>

#include "common/hex.h"
#include "common/strings.h"
#include "otlp/otlp_json.h"

namespace signaldb::otlp::wire {

[[noreturn]] void Fail() { throw Malformed{}; }

std::string_view Str(Reader& r) {
  std::string_view v;
  if (!r.Bytes(&v) || !ValidUtf8(v)) Fail();
  return v;
}
std::string_view Bytes(Reader& r) {
  std::string_view v;
  if (!r.Bytes(&v)) Fail();
  return v;
}
uint64_t Varint(Reader& r) {
  uint64_t v;
  if (!r.Varint(&v)) Fail();
  return v;
}
uint64_t Fixed64(Reader& r) {
  uint64_t v;
  if (!r.Fixed64(&v)) Fail();
  return v;
}
uint32_t Fixed32(Reader& r) {
  uint32_t v;
  if (!r.Fixed32(&v)) Fail();
  return v;
}
void Skip(Reader& r, WireType t, uint32_t f) {
  if (!r.Skip(t, f)) Fail();
}
void AnyValueJson(std::string_view bytes, std::string& out, int depth) {
  if (depth > kMaxDepth) Fail();
  // A oneof: the last member on the wire wins.
  uint32_t which = 0;
  std::string_view payload;
  uint64_t scalar = 0;
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    switch (f) {
      case 1: if (t != kLen) return false; payload = Str(r); which = 1; return true;
      case 2: if (t != kVarint) return false; scalar = Varint(r); which = 2; return true;
      case 3: if (t != kVarint) return false; scalar = Varint(r); which = 3; return true;
      case 4: if (t != kFixed64) return false; scalar = Fixed64(r); which = 4; return true;
      case 5: case 6: case 7:
        if (t != kLen) return false;
        payload = Bytes(r);
        which = f;
        return true;
      default: return false;
    }
  });
  switch (which) {
    case 1:
      out += "{\"stringValue\":";
      AppendJsonString(out, payload);
      out += '}';
      break;
    case 2: out += scalar != 0 ? "{\"boolValue\":true}" : "{\"boolValue\":false}"; break;
    case 3: out += StrCat("{\"intValue\":\"", static_cast<int64_t>(scalar), "\"}"); break;
    case 4: {
      double d;
      std::memcpy(&d, &scalar, 8);
      out += "{\"doubleValue\":";
      AppendJsonDouble(out, d);
      out += '}';
      break;
    }
    case 5: {
      out += "{\"arrayValue\":{\"values\":[";
      bool first = true;
      Fields(payload, [&](Reader& r, uint32_t f, WireType t) {
        if (f != 1 || t != kLen) return false;
        if (!first) out += ',';
        first = false;
        AnyValueJson(Bytes(r), out, depth + 2);
        return true;
      });
      out += "]}}";
      break;
    }
    case 6: {
      std::vector<std::string_view> kvs;
      Fields(payload, [&](Reader& r, uint32_t f, WireType t) {
        if (f != 1 || t != kLen) return false;
        kvs.push_back(Bytes(r));
        return true;
      });
      out += "{\"kvlistValue\":{\"values\":";
      KeyValuesJson(kvs, out, depth + 2);
      out += "}}";
      break;
    }
    case 7:
      out += "{\"bytesValue\":\"";
      out += Base64Encode(payload);
      out += "\"}";
      break;
    default: out += "{}";
  }
}

// A KeyValue message's key and value bytes; false when it has no value.
bool SplitKeyValue(std::string_view kv, std::string_view* key, std::string_view* value) {
  bool has_value = false;
  Fields(kv, [&](Reader& r, uint32_t f, WireType t) {
    if (t != kLen) return false;
    if (f == 1) *key = Str(r);
    else if (f == 2) { *value = Bytes(r); has_value = true; }
    else return false;
    return true;
  });
  return has_value;
}

void KeyValuesJson(const std::vector<std::string_view>& kvs, std::string& out, int depth) {
  if (depth > kMaxDepth) Fail();
  out += '[';
  bool first = true;
  for (std::string_view kv : kvs) {
    std::string_view key, value;
    const bool has_value = SplitKeyValue(kv, &key, &value);
    if (!first) out += ',';
    first = false;
    out += "{\"key\":";
    AppendJsonString(out, key);
    if (has_value) {
      out += ",\"value\":";
      AnyValueJson(value, out, depth + 2);
    }
    out += '}';
  }
  out += ']';
}

void SplitAttributes(const std::vector<std::string_view>& kvs, SpanAttributes* out, int depth) {
  if (depth > kMaxDepth) Fail();
  out->Clear();
  for (std::string_view kv : kvs) {
    std::string_view key, value;
    const bool has_value = SplitKeyValue(kv, &key, &value);
    // The value's oneof, as AnyValueJson reads it: the last member wins.
    uint32_t which = 0;
    std::string_view str;
    uint64_t scalar = 0;
    if (has_value) {
      Fields(value, [&](Reader& r, uint32_t f, WireType t) {
        switch (f) {
          case 1: if (t != kLen) return false; str = Str(r); which = 1; return true;
          case 2: case 3: if (t != kVarint) return false; scalar = Varint(r); which = f; return true;
          case 4: if (t != kFixed64) return false; scalar = Fixed64(r); which = 4; return true;
          case 5: case 6: case 7: if (t != kLen) return false; Bytes(r); which = f; return true;
          default: return false;
        }
      });
    }
    if (!out->Add(key)) {
      // A repeat is dropped, but its bytes must still be well-formed.
      if (which >= 5) {
        std::string ignored;
        AnyValueJson(value, ignored, depth + 2);
      }
      continue;
    }
    switch (which) {
      case 1: out->entries.push_back({key, SpanAttributes::kString, str}); break;
      case 2: out->entries.push_back({key, SpanAttributes::kBool, {}, scalar != 0 ? 1 : 0}); break;
      case 3: out->entries.push_back({key, SpanAttributes::kInt, {}, static_cast<int64_t>(scalar)}); break;
      case 4: {
        double d;
        std::memcpy(&d, &scalar, 8);
        out->entries.push_back({key, SpanAttributes::kDouble, {}, 0, d});
        break;
      }
      default:
        out->BeginOther(key);
        if (has_value) {
          out->other += ",\"value\":";
          AnyValueJson(value, out->other, depth + 2);
        }
        out->other += '}';
    }
  }
}

// service.name from a resource's attributes: the first string-valued one.
std::string ServiceNameOf(const std::vector<std::string_view>& kvs) {
  for (std::string_view kv : kvs) {
    std::string_view key, value;
    const bool has_value = SplitKeyValue(kv, &key, &value);
    if (key != "service.name" || !has_value) continue;
    uint32_t which = 0;
    std::string_view s;
    Fields(value, [&](Reader& r, uint32_t f, WireType t) {
      if (f == 1 && t == kLen) { s = Str(r); which = 1; return true; }
      if (f >= 2 && f <= 8) which = f;
      return false;
    });
    if (which == 1) return std::string(s);
  }
  return "unknown_service";
}

bool IsZero(std::string_view id) {
  for (char c : id) {
    if (c != 0) return false;
  }
  return true;
}


void OptionalString(columnar::ColumnData& col, std::string_view v) {
  if (v.empty()) col.AppendNull();
  else col.AppendString(v);
}

void AppendIdHex(columnar::ColumnData& col, std::string_view id) {
  AppendHex(col.BeginString(), id);
  col.EndString();
}

void WireContext::SetResource(const std::vector<std::string_view>& resources, std::string_view schema_url) {
  std::vector<std::string_view> attrs;
  uint64_t dropped = 0;
  for (std::string_view res : resources) {
    Fields(res, [&](Reader& r, uint32_t f, WireType t) {
      if (f == 1 && t == kLen) { attrs.push_back(Bytes(r)); return true; }
      if (f == 2 && t == kVarint) { dropped = static_cast<uint32_t>(Varint(r)); return true; }
      return false;
    });
  }
  resource_attrs.clear();
  KeyValuesJson(attrs, resource_attrs, 3);
  service = ServiceNameOf(attrs);
  resource_dropped = static_cast<int64_t>(dropped);
  resource_schema = schema_url;
}

void WireContext::SetScope(const std::vector<std::string_view>& scopes, std::string_view schema_url) {
  scope_name = {};
  scope_version = {};
  std::vector<std::string_view> attrs;
  uint64_t dropped = 0;
  for (std::string_view scope : scopes) {
    Fields(scope, [&](Reader& r, uint32_t f, WireType t) {
      if (f == 1 && t == kLen) { scope_name = Str(r); return true; }
      if (f == 2 && t == kLen) { scope_version = Str(r); return true; }
      if (f == 3 && t == kLen) { attrs.push_back(Bytes(r)); return true; }
      if (f == 4 && t == kVarint) { dropped = static_cast<uint32_t>(Varint(r)); return true; }
      return false;
    });
  }
  scope_attrs.clear();
  KeyValuesJson(attrs, scope_attrs, 4);
  scope_dropped = static_cast<int64_t>(dropped);
  scope_schema = schema_url;
}

}  // namespace signaldb::otlp::wire
