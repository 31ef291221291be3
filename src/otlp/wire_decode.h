// Shared pieces of the protobuf-wire decoders (traces, logs, metrics): field
// iteration that throws on malformed input, AnyValue / KeyValue lists straight
// to our OTLP JSON, resource / scope context, and the attribute limits as
// the lists are written (attribute_limits.h). Internal to otlp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/batch.h"
#include "otlp/attribute_limits.h"
#include "otlp/decode_util.h"
#include "otlp/trace_decoder.h"
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

// What the attribute limits found in the lists of one record (or of a
// resource or scope).
struct LimitFindings {
  enum : uint8_t { kCount = 1, kLength = 2 };
  uint8_t hit = 0;              // the limits exceeded (kCount | kLength)
  // The first finding, for messages: the list ("span event", ...), and its
  // attribute count (kCount) or the key and the length of the first key or
  // value that was too long (kLength).
  const char* where = nullptr;
  uint8_t first = 0;
  uint64_t size = 0;
  std::string_view key;
  bool key_too_long = false;
  bool any() const { return hit != 0; }
};

// The attribute limits in force while one request is decoded: the decoders
// call Keep / Cut as they write each attribute list, and the limiter notes
// in `found` what they exceeded. Decoders pass a null Limiter* when there are
// no limits, and then pay nothing.
struct Limiter {
  explicit Limiter(const AttributeLimits& l) : limits(l) {}
  AttributeLimits limits;
  const char* where = "";      // the list being written
  std::string_view key;        // the top-level attribute being written
  LimitFindings found;         // of the current record; decoders reset it
  uint8_t truncated_by = 0;    // kCount | kLength, over the truncated records

  // How many of a list's `n` attributes to keep.
  size_t Keep(size_t n) {
    if (limits.max_attributes == 0 || n <= limits.max_attributes) return n;
    Note(LimitFindings::kCount, n, false);
    return static_cast<size_t>(limits.max_attributes);
  }
  // `s` cut to the length limit; `utf8` for strings and keys, else bytes.
  std::string_view Cut(std::string_view s, bool utf8, bool is_key = false) {
    if (limits.max_value_length == 0 || s.size() <= limits.max_value_length) return s;
    Note(LimitFindings::kLength, s.size(), is_key);
    return utf8 ? CutUtf8(s, limits.max_value_length) : s.substr(0, limits.max_value_length);
  }
  void Note(uint8_t which, uint64_t size, bool is_key) {
    found.hit |= which;
    if (found.where != nullptr) return;
    found.where = where;
    found.first = which;
    found.size = size;
    found.key = key;
    found.key_too_long = is_key;
  }
};

// Why a record is over the limits, from its findings.
std::string DescribeFindings(const LimitFindings& f, const AttributeLimits& limits);

// Our OTLP JSON (otlp_json.h) of an AnyValue / a KeyValue list, from wire
// bytes. With a limiter, a list keeps the attributes Keep() allows (the rest
// are still validated) and every key and string or bytes value goes through
// Cut(); KeyValuesJson returns how many attributes it dropped.
void AnyValueJson(std::string_view bytes, std::string& out, int depth, Limiter* lim = nullptr);
uint64_t KeyValuesJson(const std::vector<std::string_view>& kvs, std::string& out, int depth,
                       Limiter* lim = nullptr);
// A span's attributes split by value kind (decode_util.h), from the wire
// bytes of its KeyValue messages; limited as KeyValuesJson (the count after
// repeated keys are dropped; cut keys are compared for repeats as cut).
void SplitAttributes(const std::vector<std::string_view>& kvs, SpanAttributes* out, int depth,
                     Limiter* lim = nullptr);
// service.name among resource attributes: the first string-valued one (among
// the attributes `lim` keeps, as it cuts them).
std::string ServiceNameOf(const std::vector<std::string_view>& kvs, const Limiter* lim = nullptr);
bool IsZero(std::string_view id);
void OptionalString(columnar::ColumnData& col, std::string_view v);
void AppendIdHex(columnar::ColumnData& col, std::string_view id);

// Resource and scope columns, decoded once and copied into each row.
struct WireContext {
  explicit WireContext(Limiter* l) : lim(l) {}
  Limiter* lim;  // null: no attribute limits
  std::string service;
  std::string resource_attrs;
  int64_t resource_dropped = 0;
  std::string_view resource_schema;
  std::string_view scope_name, scope_version, scope_schema;
  std::string scope_attrs;
  int64_t scope_dropped = 0;
  // What the limits found in the resource's and the scope's attributes.
  LimitFindings resource_found, scope_found;
  // From every occurrence of the resource / scope message (proto merges them).
  void SetResource(const std::vector<std::string_view>& resources, std::string_view schema_url);
  void SetScope(const std::vector<std::string_view>& scopes, std::string_view schema_url);
};

// Judges a decoded record (`noun`: "span", ...) by the findings of its lists
// (lim->found) and of its resource and scope: true when it must be rejected
// (reject mode), with `why` set while `result` has no rejection yet. In
// truncate mode a record over a limit is counted as truncated. False without
// a limiter.
bool LimitRejects(Limiter* lim, const WireContext& ctx, const char* noun, DecodeResult* result, std::string* why);
// Once a request is decoded: the note on truncated records (`plural`:
// "spans", ...) in result->truncation.
void NoteTruncation(const Limiter* lim, const char* plural, DecodeResult* result);

// A dropped-attributes count with `more` added, at most what the uint32
// fields of OTLP hold.
inline uint64_t AddDropped(uint64_t sent, uint64_t more) { return std::min<uint64_t>(sent + more, UINT32_MAX); }

// Walks an OTLP Export*ServiceRequest: every request has resource entries
// (field 1) holding a resource (1), scope entries (2) and a schema URL (3);
// every scope entry holds a scope (1), items (2) and a schema URL (3). Calls
// fn(context, item bytes) for each item (span, log record or metric) with
// the context of its resource and scope. Fields may come in any order.
// `lim` (null: no limits) limits the resource and scope attributes.
template <typename Fn>
void ForEachItem(std::string_view request, Limiter* lim, Fn&& fn) {
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
    WireContext ctx(lim);
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
