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
namespace {

// An AnyValue as libprotobuf reads it from one or more serialized pieces
// (a message field that occurs several times is the merge of its
// occurrences): the last member of the oneof set wins, and a message member
// (array, kvlist) set again while it is the current member merges with it,
// its pieces' repeated values appending.
struct AnyValueParts {
  uint32_t which = 0;
  uint64_t scalar = 0;      // bool (2), int (3), double bits (4)
  std::string_view bytes;   // string (1), bytes (7)
  std::string_view first;   // array (5) / kvlist (6): the first piece
  std::vector<std::string_view> more;  // and any further ones (rare)

  void Read(std::string_view piece, int depth);
  template <typename Fn>
  void ForEachPiece(Fn&& fn) const {
    fn(first);
    for (std::string_view p : more) fn(p);
  }
};

uint64_t KeyValueList(const std::vector<std::string_view>& kvs, std::string& out, int depth, Limiter* lim, bool top);

// Parses a superseded array or kvlist as libprotobuf would have, so bytes
// that fail its parse fail ours.
void ValidateNested(const AnyValueParts& v, int depth) {
  if (v.which != 5 && v.which != 6) return;
  std::string ignored;
  v.ForEachPiece([&](std::string_view piece) {
    std::vector<std::string_view> items;
    Fields(piece, [&](Reader& r, uint32_t f, WireType t) {
      if (f != 1 || t != kLen) return false;
      items.push_back(Bytes(r));
      return true;
    });
    if (v.which == 6) {
      KeyValuesJson(items, ignored, depth + 2);
    } else {
      for (std::string_view item : items) AnyValueJson(item, ignored, depth + 2);
    }
  });
}

void AnyValueParts::Read(std::string_view piece, int depth) {
  if (depth > kMaxDepth) Fail();
  Fields(piece, [&](Reader& r, uint32_t f, WireType t) {
    auto set = [&](uint32_t member) {
      if (which != member) {
        ValidateNested(*this, depth);
        more.clear();
      }
      which = member;
    };
    switch (f) {
      case 1: if (t != kLen) return false; bytes = Str(r); set(1); return true;
      case 2: case 3: if (t != kVarint) return false; scalar = Varint(r); set(f); return true;
      case 4: if (t != kFixed64) return false; scalar = Fixed64(r); set(4); return true;
      case 7: if (t != kLen) return false; bytes = Bytes(r); set(7); return true;
      case 5: case 6: {
        if (t != kLen) return false;
        std::string_view payload = Bytes(r);
        if (which == f) {
          more.push_back(payload);
        } else {
          set(f);
          first = payload;
        }
        return true;
      }
      default: return false;
    }
  });
}

void AppendAnyValueJson(const AnyValueParts& v, std::string& out, int depth, Limiter* lim) {
  switch (v.which) {
    case 1:
      out += "{\"stringValue\":";
      AppendJsonString(out, lim != nullptr ? lim->Cut(v.bytes, true) : v.bytes);
      out += '}';
      break;
    case 2: out += v.scalar != 0 ? "{\"boolValue\":true}" : "{\"boolValue\":false}"; break;
    case 3: out += StrCat("{\"intValue\":\"", static_cast<int64_t>(v.scalar), "\"}"); break;
    case 4: {
      double d;
      std::memcpy(&d, &v.scalar, 8);
      out += "{\"doubleValue\":";
      AppendJsonDouble(out, d);
      out += '}';
      break;
    }
    case 5: {
      out += "{\"arrayValue\":{\"values\":[";
      bool first = true;
      v.ForEachPiece([&](std::string_view piece) {
        Fields(piece, [&](Reader& r, uint32_t f, WireType t) {
          if (f != 1 || t != kLen) return false;
          if (!first) out += ',';
          first = false;
          AnyValueJson(Bytes(r), out, depth + 2, lim);
          return true;
        });
      });
      out += "]}}";
      break;
    }
    case 6: {
      std::vector<std::string_view> kvs;
      v.ForEachPiece([&](std::string_view piece) {
        Fields(piece, [&](Reader& r, uint32_t f, WireType t) {
          if (f != 1 || t != kLen) return false;
          kvs.push_back(Bytes(r));
          return true;
        });
      });
      out += "{\"kvlistValue\":{\"values\":";
      KeyValueList(kvs, out, depth + 2, lim, /*top=*/false);
      out += "}}";
      break;
    }
    case 7:
      out += "{\"bytesValue\":\"";
      out += Base64Encode(lim != nullptr ? lim->Cut(v.bytes, false) : v.bytes);
      out += "\"}";
      break;
    default: out += "{}";
  }
}

// A KeyValue message: its key (the last one sent) and its value, merged
// from every occurrence; false when it has none.
bool ReadKeyValue(std::string_view kv, std::string_view* key, AnyValueParts* value, int depth) {
  bool has_value = false;
  Fields(kv, [&](Reader& r, uint32_t f, WireType t) {
    if (t != kLen) return false;
    if (f == 1) {
      *key = Str(r);
    } else if (f == 2) {
      value->Read(Bytes(r), depth);
      has_value = true;
    } else {
      return false;
    }
    return true;
  });
  return has_value;
}

// A KeyValue list as JSON; `top` for an attribute list (counted, and its
// keys named in findings), not for the entries of a kvlist value.
uint64_t KeyValueList(const std::vector<std::string_view>& kvs, std::string& out, int depth, Limiter* lim,
                      bool top) {
  if (depth > kMaxDepth) Fail();
  const size_t keep = lim != nullptr && top ? lim->Keep(kvs.size()) : kvs.size();
  out += '[';
  for (size_t i = 0; i < kvs.size(); ++i) {
    std::string_view key;
    AnyValueParts value;
    const bool has_value = ReadKeyValue(kvs[i], &key, &value, depth + 2);
    if (i >= keep) {
      // Dropped by the count limit; its bytes must still be well-formed.
      ValidateNested(value, depth + 2);
      continue;
    }
    if (i != 0) out += ',';
    out += "{\"key\":";
    if (lim != nullptr) {
      if (top) lim->key = key;
      key = lim->Cut(key, true, /*is_key=*/true);
    }
    AppendJsonString(out, key);
    if (has_value) {
      out += ",\"value\":";
      AppendAnyValueJson(value, out, depth + 2, lim);
    }
    out += '}';
  }
  out += ']';
  return kvs.size() - keep;
}

}  // namespace

void AnyValueJson(std::string_view bytes, std::string& out, int depth, Limiter* lim) {
  AnyValueParts v;
  v.Read(bytes, depth);
  AppendAnyValueJson(v, out, depth, lim);
}

uint64_t KeyValuesJson(const std::vector<std::string_view>& kvs, std::string& out, int depth, Limiter* lim) {
  return KeyValueList(kvs, out, depth, lim, /*top=*/true);
}

void SplitAttributes(const std::vector<std::string_view>& kvs, SpanAttributes* out, int depth, Limiter* lim) {
  if (depth > kMaxDepth) Fail();
  out->Clear();
  const uint64_t max = lim != nullptr ? lim->limits.max_attributes : 0;
  for (std::string_view kv : kvs) {
    std::string_view key;
    AnyValueParts v;
    const bool has_value = ReadKeyValue(kv, &key, &v, depth + 2);
    // Repeats are judged on the key as stored, so a cut key that equals
    // an earlier one is a repeat.
    std::string_view stored = key;
    if (lim != nullptr && lim->limits.max_value_length != 0) stored = CutUtf8(key, lim->limits.max_value_length);
    if (lim != nullptr && stored.size() != key.size()) {
      // Noted before the repeat check: a key cut into a repeat was still
      // over the limit (and rejects the record under "reject").
      lim->key = key;
      lim->Note(LimitFindings::kLength, key.size(), /*is_key=*/true);
    }
    if (!out->Add(stored)) {
      // A repeat is dropped, but its bytes must still be well-formed.
      ValidateNested(v, depth + 2);
      continue;
    }
    if (max != 0 && out->entries.size() + out->other_keys.size() >= max) {
      // Over the count limit: dropped, its bytes validated.
      ++out->limit_dropped;
      ValidateNested(v, depth + 2);
      continue;
    }
    if (lim != nullptr) {
      lim->key = key;
      key = stored;
    }
    switch (v.which) {
      case 1:
        out->entries.push_back({key, SpanAttributes::kString, lim != nullptr ? lim->Cut(v.bytes, true) : v.bytes});
        break;
      case 2: out->entries.push_back({key, SpanAttributes::kBool, {}, v.scalar != 0 ? 1 : 0}); break;
      case 3: out->entries.push_back({key, SpanAttributes::kInt, {}, static_cast<int64_t>(v.scalar)}); break;
      case 4: {
        double d;
        std::memcpy(&d, &v.scalar, 8);
        out->entries.push_back({key, SpanAttributes::kDouble, {}, 0, d});
        break;
      }
      default:
        out->BeginOther(key);
        if (has_value) {
          out->other += ",\"value\":";
          AppendAnyValueJson(v, out->other, depth + 2, lim);
        }
        out->other += '}';
    }
  }
  if (out->limit_dropped != 0) {
    lim->Note(LimitFindings::kCount, out->entries.size() + out->other_keys.size() + out->limit_dropped, false);
  }
}

// service.name from a resource's attributes: the first string-valued one.
std::string ServiceNameOf(const std::vector<std::string_view>& kvs, const Limiter* lim) {
  size_t n = kvs.size();
  uint64_t max_length = 0;
  if (lim != nullptr) {
    if (lim->limits.max_attributes != 0) n = std::min<uint64_t>(n, lim->limits.max_attributes);
    max_length = lim->limits.max_value_length;
  }
  for (size_t i = 0; i < n; ++i) {
    std::string_view key;
    AnyValueParts v;
    const bool has_value = ReadKeyValue(kvs[i], &key, &v, 3);
    if (max_length != 0) key = CutUtf8(key, max_length);
    if (key == "service.name" && has_value && v.which == 1) {
      return std::string(max_length != 0 ? CutUtf8(v.bytes, max_length) : v.bytes);
    }
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
  resource_found = {};
  if (lim != nullptr) {
    lim->found = {};
    lim->where = "resource";
  }
  dropped = AddDropped(dropped, KeyValuesJson(attrs, resource_attrs, 3, lim));
  service = ServiceNameOf(attrs, lim);
  if (lim != nullptr) resource_found = lim->found;
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
  scope_found = {};
  if (lim != nullptr) {
    lim->found = {};
    lim->where = "scope";
  }
  dropped = AddDropped(dropped, KeyValuesJson(attrs, scope_attrs, 4, lim));
  if (lim != nullptr) scope_found = lim->found;
  scope_dropped = static_cast<int64_t>(dropped);
  scope_schema = schema_url;
}

std::string DescribeFindings(const LimitFindings& f, const AttributeLimits& limits) {
  if (f.first == LimitFindings::kCount) {
    return StrCat(f.where, " has ", f.size, " attributes, over max_attributes_per_record (", limits.max_attributes,
                  ")");
  }
  // Keys are named, but not at any length.
  constexpr size_t kShownKey = 64;
  std::string key(CutUtf8(f.key, kShownKey));
  if (key.size() < f.key.size()) key += "...";
  return StrCat(f.where, " attribute '", key, "' has a ", f.key_too_long ? "key" : "value", " of ", f.size,
                " bytes, over max_attribute_value_length (", limits.max_value_length, ")");
}

bool LimitRejects(Limiter* lim, const WireContext& ctx, const char* noun, DecodeResult* result, std::string* why) {
  if (lim == nullptr) return false;
  const LimitFindings* f = ctx.resource_found.any() ? &ctx.resource_found
                           : ctx.scope_found.any()  ? &ctx.scope_found
                           : lim->found.any()       ? &lim->found
                                                    : nullptr;
  if (f == nullptr) return false;
  if (!lim->limits.reject) {
    ++result->truncated;
    lim->truncated_by |= ctx.resource_found.hit | ctx.scope_found.hit | lim->found.hit;
    return false;
  }
  ++result->limit_rejected;
  if (result->rejected == 0) {
    *why = DescribeFindings(*f, lim->limits);
    if (f != &lim->found) *why += StrCat("; every ", noun, " under it is rejected");
  }
  return true;
}

void NoteTruncation(const Limiter* lim, const char* plural, DecodeResult* result) {
  if (lim == nullptr || result->truncated == 0) return;
  std::string what;
  if (lim->truncated_by & LimitFindings::kCount) {
    what = StrCat("attributes beyond max_attributes_per_record (", lim->limits.max_attributes, ") dropped");
  }
  if (lim->truncated_by & LimitFindings::kLength) {
    if (!what.empty()) what += ", ";
    what += StrCat("keys and values longer than max_attribute_value_length (", lim->limits.max_value_length,
                   " bytes) cut");
  }
  result->truncation = StrCat(result->truncated, " ", plural, " stored truncated: ", what);
}

}  // namespace signaldb::otlp::wire
