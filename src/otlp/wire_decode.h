// Shared pieces of the protobuf-wire decoders (traces, logs): field
// iteration that throws on malformed input, AnyValue / KeyValue lists straight
// to our OTLP JSON, and resource / scope context. Internal to otlp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/batch.h"
#include "otlp/decode_util.h"
#include "otlp/wire.h"

namespace signaldb::otlp::wire {

// Deepest message nesting accepted, as libprotobuf's default recursion limit.
inline constexpr int kMaxDepth = 100;

// Thrown on malformed input inside the decoders; each entry point catches it
// and answers InvalidArgument. It never leaves the otlp component.
struct Malformed {};
[[noreturn]] void Fail();

std::string_view Str(Reader& r);    // a string field: length-checked and UTF-8
std::string_view Bytes(Reader& r);  // a bytes or message field
uint64_t Varint(Reader& r);
uint64_t Fixed64(Reader& r);
uint32_t Fixed32(Reader& r);
void Skip(Reader& r, WireType t, uint32_t f);

// Calls fn(reader, field, wire type) for each field of a message; fields fn
// does not take (returns false) are skipped.
template <typename Fn>
void Fields(std::string_view bytes, Fn&& fn) {
  Reader r(bytes);
  while (!r.done()) {
    uint32_t field;
    WireType type;
    if (!r.Tag(&field, &type)) Fail();
    if (!fn(r, field, type)) Skip(r, type, field);
  }
}

// Our OTLP JSON (otlp_json.h) of an AnyValue / a KeyValue list, from wire bytes.
void AnyValueJson(std::string_view bytes, std::string& out, int depth);
void KeyValuesJson(const std::vector<std::string_view>& kvs, std::string& out, int depth);
// A span's attributes split by value kind (decode_util.h), from the wire
// bytes of its KeyValue messages.
void SplitAttributes(const std::vector<std::string_view>& kvs, SpanAttributes* out, int depth);
// service.name among resource attributes: the first string-valued one.
std::string ServiceNameOf(const std::vector<std::string_view>& kvs);
bool IsZero(std::string_view id);
void OptionalString(columnar::ColumnData& col, std::string_view v);
void AppendIdHex(columnar::ColumnData& col, std::string_view id);

// Resource and scope columns, decoded once and copied into each row.
struct WireContext {
  std::string service;
  std::string resource_attrs;
  int64_t resource_dropped = 0;
  std::string_view resource_schema;
  std::string_view scope_name, scope_version, scope_schema;
  std::string scope_attrs;
  int64_t scope_dropped = 0;
  // From every occurrence of the resource / scope message (proto merges them).
  void SetResource(const std::vector<std::string_view>& resources, std::string_view schema_url);
  void SetScope(const std::vector<std::string_view>& scopes, std::string_view schema_url);
};

// Walks an OTLP Export*ServiceRequest: every request has resource entries
// (field 1) holding a resource (1), scope entries (2) and a schema URL (3);
// every scope entry holds a scope (1), items (2) and a schema URL (3). Calls
// fn(context, item bytes) for each item (span, log record or metric) with
// the context of its resource and scope. Fields may come in any order.
template <typename Fn>
void ForEachItem(std::string_view request, Fn&& fn) {
  auto split = [](std::string_view msg, std::vector<std::string_view>& first, std::vector<std::string_view>& second,
                  std::string_view& schema_url) {
    Fields(msg, [&](Reader& r, uint32_t f, WireType t) {
      if (t != kLen) return false;
      if (f == 1) first.push_back(Bytes(r));
      else if (f == 2) second.push_back(Bytes(r));
      else if (f == 3) schema_url = Str(r);
      else return false;
      return true;
    });
  };
  Fields(request, [&](Reader& r, uint32_t f, WireType t) {
    if (f != 1 || t != kLen) return false;
    std::vector<std::string_view> resources, scopes;
    std::string_view schema_url;
    split(Bytes(r), resources, scopes, schema_url);
    WireContext ctx;
    ctx.SetResource(resources, schema_url);
    for (std::string_view scope_entry : scopes) {
      std::vector<std::string_view> scope_msgs, items;
      std::string_view scope_schema;
      split(scope_entry, scope_msgs, items, scope_schema);
      ctx.SetScope(scope_msgs, scope_schema);
      for (std::string_view item : items) fn(static_cast<const WireContext&>(ctx), item);
    }
    return true;
  });
}

}  // namespace signaldb::otlp::wire
