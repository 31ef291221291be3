// DecodeTracesProto: OTLP trace requests from protobuf wire bytes straight
// into `traces` rows, with no message objects. It produces exactly what
// DecodeTraces (the message-based reference decoder) produces for the same
// request; otlp_test checks the two against each other.
#include <optional>
#include <vector>

#include "common/hex.h"
#include "common/strings.h"
#include "otlp/decode_util.h"
#include "otlp/otlp_json.h"
#include "otlp/trace_decoder.h"
#include "otlp/wire_decode.h"
#include "schema/tables.h"

namespace signaldb::otlp {
namespace {

using namespace wire;    // NOLINT: the shared wire helpers
using namespace schema;  // NOLINT: column indexes
using Context = WireContext;

void EventJson(std::string_view bytes, std::string& out, int depth, Limiter* lim) {
  uint64_t time = 0, dropped = 0;
  std::string_view name;
  std::vector<std::string_view> attrs;
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    switch (f) {
      case 1: if (t != kFixed64) return false; time = Fixed64(r); return true;
      case 2: if (t != kLen) return false; name = Str(r); return true;
      case 3: if (t != kLen) return false; attrs.push_back(Bytes(r)); return true;
      case 4: if (t != kVarint) return false; dropped = static_cast<uint32_t>(Varint(r)); return true;
      default: return false;
    }
  });
  if (lim != nullptr) lim->where = "span event";
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
    dropped = AddDropped(dropped, KeyValuesJson(attrs, out, depth + 1, lim));
  }
  if (dropped != 0) {
    AppendJsonKey(out, "droppedAttributesCount", first);
    out += StrCat(dropped);
  }
  out += '}';
}

void LinkJson(std::string_view bytes, std::string& out, int depth, Limiter* lim) {
  std::string_view trace_id, span_id, state;
  std::vector<std::string_view> attrs;
  uint64_t dropped = 0;
  uint32_t flags = 0;
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    switch (f) {
      case 1: if (t != kLen) return false; trace_id = Bytes(r); return true;
      case 2: if (t != kLen) return false; span_id = Bytes(r); return true;
      case 3: if (t != kLen) return false; state = Str(r); return true;
      case 4: if (t != kLen) return false; attrs.push_back(Bytes(r)); return true;
      case 5: if (t != kVarint) return false; dropped = static_cast<uint32_t>(Varint(r)); return true;
      case 6: if (t != kFixed32) return false; flags = Fixed32(r); return true;
      default: return false;
    }
  });
  if (lim != nullptr) lim->where = "span link";
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
    dropped = AddDropped(dropped, KeyValuesJson(attrs, out, depth + 1, lim));
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

// Reused across spans of one request, so decoding a span allocates nothing
// once the buffers have grown.
struct Scratch {
  std::vector<std::string_view> attrs, events, links;
  SpanAttributes split;
};

void DecodeSpan(std::string_view bytes, const Context& ctx, columnar::Batch* batch, DecodeResult* result,
                Scratch& scratch, Limiter* lim) {
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
      case 1: if (t != kLen) return false; trace_id = Bytes(r); return true;
      case 2: if (t != kLen) return false; span_id = Bytes(r); return true;
      case 3: if (t != kLen) return false; state = Str(r); return true;
      case 4: if (t != kLen) return false; parent = Bytes(r); return true;
      case 5: if (t != kLen) return false; name = Str(r); return true;
      case 6: if (t != kVarint) return false; kind = static_cast<int32_t>(Varint(r)); return true;
      case 7: if (t != kFixed64) return false; start = Fixed64(r); return true;
      case 8: if (t != kFixed64) return false; end = Fixed64(r); return true;
      case 9: if (t != kLen) return false; attrs.push_back(Bytes(r)); return true;
      case 10: if (t != kVarint) return false; dropped_attrs = static_cast<uint32_t>(Varint(r)); return true;
      case 11: if (t != kLen) return false; events.push_back(Bytes(r)); return true;
      case 12: if (t != kVarint) return false; dropped_events = static_cast<uint32_t>(Varint(r)); return true;
      case 13: if (t != kLen) return false; links.push_back(Bytes(r)); return true;
      case 14: if (t != kVarint) return false; dropped_links = static_cast<uint32_t>(Varint(r)); return true;
      case 15:
        if (t != kLen) return false;
        Fields(Bytes(r), [&](Reader& sr, uint32_t sf, WireType st) {
          if (sf == 2 && st == kLen) { status_msg = Str(sr); return true; }
          if (sf == 3 && st == kVarint) { status_code = static_cast<int32_t>(Varint(sr)); return true; }
          return false;
        });
        return true;
      case 16: if (t != kFixed32) return false; flags = Fixed32(r); return true;
      default: return false;
    }
  });
  // Attributes, events and links are decoded before the ids are judged, so
  // malformed bytes fail the whole request as a full protobuf parse would;
  // the JSON columns are written in place, and a rejected span's bytes are
  // cut off again below.
  if (lim != nullptr) {
    lim->found = {};
    lim->where = "span";
  }
  SplitAttributes(attrs, &scratch.split, 5, lim);
  auto& c_events = batch->column(kEvents);
  auto& c_links = batch->column(kLinks);
  const size_t mark_events = c_events.bytes.size(), mark_links = c_links.bytes.size();
  std::string& ev = c_events.BeginString();
  ev += '[';
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) ev += ',';
    EventJson(events[i], ev, 5, lim);
  }
  ev += ']';
  std::string& ln = c_links.BeginString();
  ln += '[';
  for (size_t i = 0; i < links.size(); ++i) {
    if (i) ln += ',';
    LinkJson(links[i], ln, 5, lim);
  }
  ln += ']';

  auto reject = [&](std::string why) {
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
  if (std::string why; LimitRejects(lim, ctx, "span", result, &why)) return reject(std::move(why));
  scratch.split.Append(*batch);
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
  batch->column(kDroppedAttributesCount).AppendInt(scratch.split.DroppedCount(dropped_attrs));
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

}  // namespace

absl::StatusOr<DecodeResult> DecodeTracesProto(std::string_view bytes, columnar::Batch* batch,
                                               const AttributeLimits* limits) {
  DecodeResult result;
  std::optional<Limiter> limiter;
  if (limits != nullptr && limits->active()) limiter.emplace(*limits);
  Limiter* lim = limiter ? &*limiter : nullptr;
  columnar::Batch out(&batch->schema());
  // Rough reservation: a span takes a few hundred bytes on the wire.
  out.Reserve(bytes.size() / 256 + 1);
  Scratch scratch;
  try {
    ForEachItem(bytes, lim,
                [&](const Context& ctx, std::string_view span) { DecodeSpan(span, ctx, &out, &result, scratch, lim); });
  } catch (const Malformed&) {
    return absl::InvalidArgumentError("request is not a valid ExportTraceServiceRequest protobuf");
  }
  NoteTruncation(lim, "spans", &result);
  if (batch->num_rows() == 0) *batch = std::move(out);
  else return absl::InternalError("DecodeTracesProto expects an empty batch");
  return result;
}

}  // namespace signaldb::otlp
