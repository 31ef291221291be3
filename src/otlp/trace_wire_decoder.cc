// DecodeTracesProto: OTLP trace requests from protobuf wire bytes straight
// into `traces` rows, with no message objects. It produces exactly what
// DecodeTraces (the message-based reference decoder) produces for the same
// request; otlp_test checks the two against each other.
#include <charconv>
#include <cmath>
#include <vector>

#include "common/hex.h"
#include "common/strings.h"
#include "otlp/decode_util.h"
#include "otlp/otlp_json.h"
#include "otlp/trace_decoder.h"
#include "otlp/wire.h"
#include "schema/tables.h"

namespace signaldb::otlp {
namespace {

using wire::Reader;
using wire::WireType;
using namespace schema;  // NOLINT: column indexes

// Deepest message nesting accepted, as libprotobuf's default recursion limit.
constexpr int kMaxDepth = 100;

struct Malformed {};  // thrown only inside this file, caught at the entry point

[[noreturn]] void Fail() { throw Malformed{}; }

std::string_view Str(Reader& r) {
  std::string_view v;
  if (!r.Bytes(&v) || !wire::ValidUtf8(v)) Fail();
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
// Iterates the fields of one message.
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

void KeyValuesJson(const std::vector<std::string_view>& kvs, std::string& out, int depth);

void AnyValueJson(std::string_view bytes, std::string& out, int depth) {
  if (depth > kMaxDepth) Fail();
  // A oneof: the last member on the wire wins.
  uint32_t which = 0;
  std::string_view payload;
  uint64_t scalar = 0;
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    switch (f) {
      case 1: if (t != wire::kLen) return false; payload = Str(r); which = 1; return true;
      case 2: if (t != wire::kVarint) return false; scalar = Varint(r); which = 2; return true;
      case 3: if (t != wire::kVarint) return false; scalar = Varint(r); which = 3; return true;
      case 4: if (t != wire::kFixed64) return false; scalar = Fixed64(r); which = 4; return true;
      case 5: case 6: case 7:
        if (t != wire::kLen) return false;
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
        if (f != 1 || t != wire::kLen) return false;
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
        if (f != 1 || t != wire::kLen) return false;
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

void KeyValuesJson(const std::vector<std::string_view>& kvs, std::string& out, int depth) {
  if (depth > kMaxDepth) Fail();
  out += '[';
  bool first = true;
  for (std::string_view kv : kvs) {
    std::string_view key;
    std::string_view value;
    bool has_value = false;
    Fields(kv, [&](Reader& r, uint32_t f, WireType t) {
      if (t != wire::kLen) return false;
      if (f == 1) key = Str(r);
      else if (f == 2) { value = Bytes(r); has_value = true; }
      else return false;
      return true;
    });
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

// service.name from a resource's attributes: the first string-valued one.
std::string ServiceNameOf(const std::vector<std::string_view>& kvs) {
  for (std::string_view kv : kvs) {
    std::string_view key, value;
    bool has_value = false;
    Fields(kv, [&](Reader& r, uint32_t f, WireType t) {
      if (t != wire::kLen) return false;
      if (f == 1) key = Str(r);
      else if (f == 2) { value = Bytes(r); has_value = true; }
      else return false;
      return true;
    });
    if (key != "service.name" || !has_value) continue;
    uint32_t which = 0;
    std::string_view s;
    Fields(value, [&](Reader& r, uint32_t f, WireType t) {
      if (f == 1 && t == wire::kLen) { s = Str(r); which = 1; return true; }
      if (f >= 2 && f <= 8) which = f;
      return false;
    });
    if (which == 1) return std::string(s);
  }
  return "unknown_service";
}

void EventJson(std::string_view bytes, std::string& out, int depth) {
  uint64_t time = 0, dropped = 0;
  std::string_view name;
  std::vector<std::string_view> attrs;
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    switch (f) {
      case 1: if (t != wire::kFixed64) return false; time = Fixed64(r); return true;
      case 2: if (t != wire::kLen) return false; name = Str(r); return true;
      case 3: if (t != wire::kLen) return false; attrs.push_back(Bytes(r)); return true;
      case 4: if (t != wire::kVarint) return false; dropped = static_cast<uint32_t>(Varint(r)); return true;
      default: return false;
    }
  });
  out += '{';
  bool first = true;
  if (time != 0) {
    AppendJsonKey(out, "timeUnixNano", first);
    out += StrCat("\"", time, "\"");
  }
  if (!name.empty()) {
    AppendJsonKey(out, "name", first);
    AppendJsonString(out, name);
  }
  if (!attrs.empty()) {
    AppendJsonKey(out, "attributes", first);
    KeyValuesJson(attrs, out, depth + 1);
  }
  if (dropped != 0) {
    AppendJsonKey(out, "droppedAttributesCount", first);
    out += StrCat(dropped);
  }
  out += '}';
}

void LinkJson(std::string_view bytes, std::string& out, int depth) {
  std::string_view trace_id, span_id, state;
  std::vector<std::string_view> attrs;
  uint64_t dropped = 0;
  uint32_t flags = 0;
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    switch (f) {
      case 1: if (t != wire::kLen) return false; trace_id = Bytes(r); return true;
      case 2: if (t != wire::kLen) return false; span_id = Bytes(r); return true;
      case 3: if (t != wire::kLen) return false; state = Str(r); return true;
      case 4: if (t != wire::kLen) return false; attrs.push_back(Bytes(r)); return true;
      case 5: if (t != wire::kVarint) return false; dropped = static_cast<uint32_t>(Varint(r)); return true;
      case 6: if (t != wire::kFixed32) return false; flags = Fixed32(r); return true;
      default: return false;
    }
  });
  out += '{';
  bool first = true;
  AppendHexMember(out, "traceId", trace_id, first);
  AppendHexMember(out, "spanId", span_id, first);
  if (!state.empty()) {
    AppendJsonKey(out, "traceState", first);
    AppendJsonString(out, state);
  }
  if (!attrs.empty()) {
    AppendJsonKey(out, "attributes", first);
    KeyValuesJson(attrs, out, depth + 1);
  }
  if (dropped != 0) {
    AppendJsonKey(out, "droppedAttributesCount", first);
    out += StrCat(dropped);
  }
  if (flags != 0) {
    AppendJsonKey(out, "flags", first);
    out += StrCat(flags);
  }
  out += '}';
}

bool IsZero(std::string_view id) {
  for (char c : id) {
    if (c != 0) return false;
  }
  return true;
}

struct Context {
  std::string service;
  std::string resource_attrs;
  int64_t resource_dropped = 0;
  std::string_view resource_schema;
  std::string_view scope_name, scope_version, scope_schema;
  std::string scope_attrs;
  int64_t scope_dropped = 0;
};

void OptionalString(columnar::ColumnData& col, std::string_view v) {
  if (v.empty()) col.AppendNull();
  else col.AppendString(v);
}

// Reused across spans of one request, so decoding a span allocates nothing
// once the buffers have grown.
struct Scratch {
  std::vector<std::string_view> attrs, events, links;
};

void AppendIdHex(columnar::ColumnData& col, std::string_view id) {
  AppendHex(col.BeginString(), id);
  col.EndString();
}

void DecodeSpan(std::string_view bytes, const Context& ctx, columnar::Batch* batch, DecodeResult* result,
                Scratch& scratch) {
  std::string_view trace_id, span_id, parent, state, name, status_msg;
  int32_t kind = 0, status_code = 0;
  uint64_t start = 0, end = 0, dropped_attrs = 0, dropped_events = 0, dropped_links = 0;
  uint32_t flags = 0;
  auto& attrs = scratch.attrs;
  auto& events = scratch.events;
  auto& links = scratch.links;
  attrs.clear();
  events.clear();
  links.clear();
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    switch (f) {
      case 1: if (t != wire::kLen) return false; trace_id = Bytes(r); return true;
      case 2: if (t != wire::kLen) return false; span_id = Bytes(r); return true;
      case 3: if (t != wire::kLen) return false; state = Str(r); return true;
      case 4: if (t != wire::kLen) return false; parent = Bytes(r); return true;
      case 5: if (t != wire::kLen) return false; name = Str(r); return true;
      case 6: if (t != wire::kVarint) return false; kind = static_cast<int32_t>(Varint(r)); return true;
      case 7: if (t != wire::kFixed64) return false; start = Fixed64(r); return true;
      case 8: if (t != wire::kFixed64) return false; end = Fixed64(r); return true;
      case 9: if (t != wire::kLen) return false; attrs.push_back(Bytes(r)); return true;
      case 10: if (t != wire::kVarint) return false; dropped_attrs = static_cast<uint32_t>(Varint(r)); return true;
      case 11: if (t != wire::kLen) return false; events.push_back(Bytes(r)); return true;
      case 12: if (t != wire::kVarint) return false; dropped_events = static_cast<uint32_t>(Varint(r)); return true;
      case 13: if (t != wire::kLen) return false; links.push_back(Bytes(r)); return true;
      case 14: if (t != wire::kVarint) return false; dropped_links = static_cast<uint32_t>(Varint(r)); return true;
      case 15:
        if (t != wire::kLen) return false;
        Fields(Bytes(r), [&](Reader& sr, uint32_t sf, WireType st) {
          if (sf == 2 && st == wire::kLen) { status_msg = Str(sr); return true; }
          if (sf == 3 && st == wire::kVarint) { status_code = static_cast<int32_t>(Varint(sr)); return true; }
          return false;
        });
        return true;
      case 16: if (t != wire::kFixed32) return false; flags = Fixed32(r); return true;
      default: return false;
    }
  });
  // The JSON columns are written in place. They are decoded before the ids
  // are judged, so malformed bytes fail the whole request as a full protobuf
  // parse would; a rejected span's bytes are cut off again below.
  auto& c_attrs = batch->column(kSpanAttributes);
  auto& c_events = batch->column(kEvents);
  auto& c_links = batch->column(kLinks);
  const size_t mark_attrs = c_attrs.bytes.size(), mark_events = c_events.bytes.size(),
               mark_links = c_links.bytes.size();
  KeyValuesJson(attrs, c_attrs.BeginString(), 5);
  std::string& ev = c_events.BeginString();
  ev += '[';
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) ev += ',';
    EventJson(events[i], ev, 5);
  }
  ev += ']';
  std::string& ln = c_links.BeginString();
  ln += '[';
  for (size_t i = 0; i < links.size(); ++i) {
    if (i) ln += ',';
    LinkJson(links[i], ln, 5);
  }
  ln += ']';

  auto reject = [&](std::string why) {
    c_attrs.bytes.resize(mark_attrs);
    c_events.bytes.resize(mark_events);
    c_links.bytes.resize(mark_links);
    if (result->rejected++ == 0) result->first_error = std::move(why);
  };
  if (trace_id.size() != 16 || IsZero(trace_id)) {
    return reject(StrCat("span has an invalid trace id (", trace_id.size(), " bytes, must be 16 and not all zero)"));
  }
  if (span_id.size() != 8 || IsZero(span_id)) {
    return reject(StrCat("span has an invalid span id (", span_id.size(), " bytes, must be 8 and not all zero)"));
  }
  if (!parent.empty() && parent.size() != 8) {
    return reject(StrCat("span has an invalid parent span id (", parent.size(), " bytes, must be 8)"));
  }
  c_attrs.EndString();
  c_events.EndString();
  c_links.EndString();
  const bool root = parent.empty() || IsZero(parent);
  AppendIdHex(batch->column(kTraceId), trace_id);
  AppendIdHex(batch->column(kSpanId), span_id);
  if (parent.empty()) batch->column(kParentSpanId).AppendNull();
  else AppendIdHex(batch->column(kParentSpanId), parent);
  batch->column(kSpanName).AppendString(name);
  batch->column(kServiceName).AppendString(ctx.service);
  batch->column(kStartTimeUnixNano).AppendInt(static_cast<int64_t>(start));
  batch->column(kEndTimeUnixNano).AppendInt(static_cast<int64_t>(end));
  batch->column(kDurationNanos).AppendInt(end > start ? static_cast<int64_t>(end - start) : 0);
  batch->column(kSpanKind).AppendString(SpanKindName(kind));
  batch->column(kSpanKindNumber).AppendInt(kind);
  batch->column(kStatusCode).AppendString(StatusCodeName(status_code));
  batch->column(kStatusCodeNumber).AppendInt(status_code);
  OptionalString(batch->column(kStatusMessage), status_msg);
  batch->column(kIsRoot).AppendBool(root);
  OptionalString(batch->column(kTraceState), state);
  batch->column(kFlags).AppendInt(flags);
  batch->column(kDroppedAttributesCount).AppendInt(static_cast<int64_t>(dropped_attrs));
  batch->column(kDroppedEventsCount).AppendInt(static_cast<int64_t>(dropped_events));
  batch->column(kDroppedLinksCount).AppendInt(static_cast<int64_t>(dropped_links));
  batch->column(kResourceAttributes).AppendString(ctx.resource_attrs);
  batch->column(kResourceDroppedAttributesCount).AppendInt(ctx.resource_dropped);
  OptionalString(batch->column(kResourceSchemaUrl), ctx.resource_schema);
  OptionalString(batch->column(kScopeName), ctx.scope_name);
  OptionalString(batch->column(kScopeVersion), ctx.scope_version);
  batch->column(kScopeAttributes).AppendString(ctx.scope_attrs);
  batch->column(kScopeDroppedAttributesCount).AppendInt(ctx.scope_dropped);
  OptionalString(batch->column(kScopeSchemaUrl), ctx.scope_schema);
  TimeParts tp = SplitTime(start);
  batch->column(kTimestamp).AppendInt(tp.micros);
  batch->column(kDateDay).AppendInt(tp.day);
  batch->column(kHour).AppendInt(tp.hour);
  ++result->accepted;
}

void DecodeResourceSpans(std::string_view bytes, columnar::Batch* batch, DecodeResult* result, Scratch& scratch) {
  // Fields may come in any order: find the resource and schema first.
  std::vector<std::string_view> resources, scopes;
  Context ctx;
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    if (t != wire::kLen) return false;
    if (f == 1) resources.push_back(Bytes(r));
    else if (f == 2) scopes.push_back(Bytes(r));
    else if (f == 3) ctx.resource_schema = Str(r);
    else return false;
    return true;
  });
  std::vector<std::string_view> attrs;
  uint64_t dropped = 0;
  for (std::string_view res : resources) {
    Fields(res, [&](Reader& r, uint32_t f, WireType t) {
      if (f == 1 && t == wire::kLen) { attrs.push_back(Bytes(r)); return true; }
      if (f == 2 && t == wire::kVarint) { dropped = static_cast<uint32_t>(Varint(r)); return true; }
      return false;
    });
  }
  KeyValuesJson(attrs, ctx.resource_attrs, 3);
  ctx.service = ServiceNameOf(attrs);
  ctx.resource_dropped = static_cast<int64_t>(dropped);
  for (std::string_view scope_spans : scopes) {
    std::vector<std::string_view> scope_msgs, spans;
    ctx.scope_schema = {};
    Fields(scope_spans, [&](Reader& r, uint32_t f, WireType t) {
      if (t != wire::kLen) return false;
      if (f == 1) scope_msgs.push_back(Bytes(r));
      else if (f == 2) spans.push_back(Bytes(r));
      else if (f == 3) ctx.scope_schema = Str(r);
      else return false;
      return true;
    });
    ctx.scope_name = {};
    ctx.scope_version = {};
    std::vector<std::string_view> scope_attrs;
    uint64_t scope_dropped = 0;
    for (std::string_view scope : scope_msgs) {
      Fields(scope, [&](Reader& r, uint32_t f, WireType t) {
        if (f == 1 && t == wire::kLen) { ctx.scope_name = Str(r); return true; }
        if (f == 2 && t == wire::kLen) { ctx.scope_version = Str(r); return true; }
        if (f == 3 && t == wire::kLen) { scope_attrs.push_back(Bytes(r)); return true; }
        if (f == 4 && t == wire::kVarint) { scope_dropped = static_cast<uint32_t>(Varint(r)); return true; }
        return false;
      });
    }
    ctx.scope_attrs.clear();
    KeyValuesJson(scope_attrs, ctx.scope_attrs, 4);
    ctx.scope_dropped = static_cast<int64_t>(scope_dropped);
    for (std::string_view span : spans) DecodeSpan(span, ctx, batch, result, scratch);
  }
}

}  // namespace

absl::StatusOr<DecodeResult> DecodeTracesProto(std::string_view bytes, columnar::Batch* batch) {
  DecodeResult result;
  columnar::Batch out(&batch->schema());
  // Rough reservation: a span takes a few hundred bytes on the wire.
  out.Reserve(bytes.size() / 256 + 1);
  Scratch scratch;
  try {
    Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
      if (f != 1 || t != wire::kLen) return false;
      DecodeResourceSpans(Bytes(r), &out, &result, scratch);
      return true;
    });
  } catch (const Malformed&) {
    return absl::InvalidArgumentError("request is not a valid ExportTraceServiceRequest protobuf");
  }
  if (batch->num_rows() == 0) *batch = std::move(out);
  else return absl::InternalError("DecodeTracesProto expects an empty batch");
  return result;
}

}  // namespace signaldb::otlp
