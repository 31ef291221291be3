// DecodeLogsProto: OTLP logs requests from protobuf wire bytes straight into
// `logs` rows, with no message objects; it agrees with DecodeLogs, the
// message-based reference decoder (otlp_signals_test checks both).
#include <optional>
#include <vector>

#include "common/hex.h"
#include "common/strings.h"
#include "otlp/decode_util.h"
#include "otlp/logs_decoder.h"
#include "otlp/otlp_json.h"
#include "otlp/wire_decode.h"

namespace signaldb::otlp {
namespace {

using namespace wire;  // NOLINT: the shared wire helpers

struct Columns {
  explicit Columns(columnar::Batch* b) : batch(b) {}
  columnar::Batch* batch;
  columnar::ColumnData& col(const char* name) { return batch->column(batch->schema().IndexOf(name)); }
};

void DecodeRecord(std::string_view bytes, const WireContext& ctx, Columns& c, DecodeResult* result,
                  std::vector<std::string_view>& attrs, Limiter* lim) {
  uint64_t time = 0, observed = 0, dropped = 0;
  int32_t severity = 0;
  uint32_t flags = 0;
  std::string_view severity_text, body, trace_id, span_id, event_name;
  bool has_body = false;
  attrs.clear();
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    switch (f) {
      case 1: if (t != kFixed64) return false; time = Fixed64(r); return true;
      case 2: if (t != kVarint) return false; severity = static_cast<int32_t>(Varint(r)); return true;
      case 3: if (t != kLen) return false; severity_text = Str(r); return true;
      case 5: if (t != kLen) return false; body = Bytes(r); has_body = true; return true;
      case 6: if (t != kLen) return false; attrs.push_back(Bytes(r)); return true;
      case 7: if (t != kVarint) return false; dropped = static_cast<uint32_t>(Varint(r)); return true;
      case 8: if (t != kFixed32) return false; flags = Fixed32(r); return true;
      case 9: if (t != kLen) return false; trace_id = Bytes(r); return true;
      case 10: if (t != kLen) return false; span_id = Bytes(r); return true;
      case 11: if (t != kFixed64) return false; observed = Fixed64(r); return true;
      case 12: if (t != kLen) return false; event_name = Str(r); return true;
      default: return false;
    }
  });
  // The JSON columns are decoded first so malformed bytes fail the request.
  auto& c_body = c.col("body");
  auto& c_attrs = c.col("log_attributes");
  const size_t mark_body = c_body.bytes.size(), mark_attrs = c_attrs.bytes.size();
  if (has_body) AnyValueJson(body, c_body.BeginString(), 5);
  if (lim != nullptr) {
    lim->found = {};
    lim->where = "log record";
  }
  dropped = AddDropped(dropped, KeyValuesJson(attrs, c_attrs.BeginString(), 5, lim));
  auto reject = [&](std::string why) {
    c_body.bytes.resize(mark_body);
    c_attrs.bytes.resize(mark_attrs);
    if (result->rejected++ == 0) result->first_error = std::move(why);
  };
  if (!trace_id.empty() && trace_id.size() != 16) {
    return reject(StrCat("log record has an invalid trace id (", trace_id.size(), " bytes, must be 16)"));
  }
  if (!span_id.empty() && span_id.size() != 8) {
    return reject(StrCat("log record has an invalid span id (", span_id.size(), " bytes, must be 8)"));
  }
  if (std::string why; LimitRejects(lim, ctx, "log record", result, &why)) return reject(std::move(why));
  if (has_body) c_body.EndString();
  else c_body.AppendNull();
  c_attrs.EndString();
  TimeParts tp = SplitTime(time != 0 ? time : observed);
  c.col("timestamp").AppendInt(tp.micros);
  c.col("time_unix_nano").AppendInt(static_cast<int64_t>(time));
  if (observed != 0) c.col("observed_timestamp").AppendInt(SplitTime(observed).micros);
  else c.col("observed_timestamp").AppendNull();
  c.col("observed_time_unix_nano").AppendInt(static_cast<int64_t>(observed));
  if (trace_id.empty() || IsZero(trace_id)) c.col("trace_id").AppendNull();
  else AppendIdHex(c.col("trace_id"), trace_id);
  if (span_id.empty() || IsZero(span_id)) c.col("span_id").AppendNull();
  else AppendIdHex(c.col("span_id"), span_id);
  c.col("trace_flags").AppendInt(flags);
  OptionalString(c.col("severity_text"), severity_text);
  c.col("severity_number").AppendInt(severity);
  OptionalString(c.col("event_name"), event_name);
  c.col("dropped_attributes_count").AppendInt(static_cast<int64_t>(dropped));
  c.col("service_name").AppendString(ctx.service);
  c.col("resource_attributes").AppendString(ctx.resource_attrs);
  c.col("resource_dropped_attributes_count").AppendInt(ctx.resource_dropped);
  OptionalString(c.col("resource_schema_url"), ctx.resource_schema);
  OptionalString(c.col("scope_name"), ctx.scope_name);
  OptionalString(c.col("scope_version"), ctx.scope_version);
  c.col("scope_attributes").AppendString(ctx.scope_attrs);
  c.col("scope_dropped_attributes_count").AppendInt(ctx.scope_dropped);
  OptionalString(c.col("scope_schema_url"), ctx.scope_schema);
  c.col("date_day").AppendInt(tp.day);
  c.col("hour").AppendInt(tp.hour);
  ++result->accepted;
}

}  // namespace

absl::StatusOr<DecodeResult> DecodeLogsProto(std::string_view bytes, columnar::Batch* batch,
                                             const AttributeLimits* limits) {
  DecodeResult result;
  std::optional<Limiter> limiter;
  if (limits != nullptr && limits->active()) limiter.emplace(*limits);
  Limiter* lim = limiter ? &*limiter : nullptr;
  columnar::Batch out(&batch->schema());
  out.Reserve(bytes.size() / 256 + 1);
  Columns cols(&out);
  std::vector<std::string_view> attrs;
  try {
    ForEachItem(bytes, lim, [&](const WireContext& ctx, std::string_view rec) {
      DecodeRecord(rec, ctx, cols, &result, attrs, lim);
    });
  } catch (const Malformed&) {
    return absl::InvalidArgumentError("request is not a valid ExportLogsServiceRequest protobuf");
  }
  NoteTruncation(lim, "log records", &result);
  if (batch->num_rows() != 0) return absl::InternalError("DecodeLogsProto expects an empty batch");
  *batch = std::move(out);
  return result;
}

}  // namespace signaldb::otlp
