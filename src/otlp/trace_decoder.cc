#include "otlp/trace_decoder.h"


#include "common/hex.h"
#include "common/strings.h"
#include "otlp/decode_util.h"
#include "otlp/otlp_json.h"
#include "schema/tables.h"

namespace signaldb::otlp {
namespace {

namespace tpb = opentelemetry::proto::trace::v1;
using columnar::Batch;
using namespace schema;  // NOLINT: column indexes

void SplitAttributes(const pb::KeyValues& kvs, SpanAttributes* out) {
  out->Clear();
  for (const auto& kv : kvs) {
    if (!out->Add(kv.key())) continue;
    const pb::AnyValue& v = kv.value();
    switch (kv.has_value() ? v.value_case() : pb::AnyValue::VALUE_NOT_SET) {
      case pb::AnyValue::kStringValue:
        out->entries.push_back({kv.key(), SpanAttributes::kString, v.string_value()});
        break;
      case pb::AnyValue::kIntValue:
        out->entries.push_back({kv.key(), SpanAttributes::kInt, {}, v.int_value()});
        break;
      case pb::AnyValue::kDoubleValue:
        out->entries.push_back({kv.key(), SpanAttributes::kDouble, {}, 0, v.double_value()});
        break;
      case pb::AnyValue::kBoolValue:
        out->entries.push_back({kv.key(), SpanAttributes::kBool, {}, v.bool_value() ? 1 : 0});
        break;
      default:
        out->BeginOther(kv.key());
        if (kv.has_value()) {
          out->other += ",\"value\":";
          AppendAnyValueJson(out->other, v);
        }
        out->other += '}';
    }
  }
}

}  // namespace

std::string ServiceName(const opentelemetry::proto::resource::v1::Resource& resource) {
  for (const auto& kv : resource.attributes()) {
    if (kv.key() == "service.name" && kv.value().value_case() == pb::AnyValue::kStringValue) {
      return kv.value().string_value();
    }
  }
  return "unknown_service";
}

DecodeResult DecodeTraces(const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
                          Batch* batch) {
  DecodeResult result;
  size_t spans = 0;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) spans += static_cast<size_t>(ss.spans_size());
  }
  batch->Reserve(spans);
  std::string buf;
  SpanAttributes attrs;
  auto reject = [&](std::string why) {
    if (result.rejected++ == 0) result.first_error = std::move(why);
  };
  for (const auto& rs : request.resource_spans()) {
    const std::string service = ServiceName(rs.resource());
    std::string resource_attrs;
    AppendKeyValuesJson(resource_attrs, rs.resource().attributes());
    for (const auto& ss : rs.scope_spans()) {
      std::string scope_attrs;
      AppendKeyValuesJson(scope_attrs, ss.scope().attributes());
      for (const auto& span : ss.spans()) {
        if (span.trace_id().size() != 16 || AllZero(span.trace_id())) {
          reject(StrCat("span has an invalid trace id (", span.trace_id().size(), " bytes, must be 16 and not all zero)"));
          continue;
        }
        if (span.span_id().size() != 8 || AllZero(span.span_id())) {
          reject(StrCat("span has an invalid span id (", span.span_id().size(), " bytes, must be 8 and not all zero)"));
          continue;
        }
        if (!span.parent_span_id().empty() && span.parent_span_id().size() != 8) {
          reject(StrCat("span has an invalid parent span id (", span.parent_span_id().size(), " bytes, must be 8)"));
          continue;
        }
        const bool root = span.parent_span_id().empty() || AllZero(span.parent_span_id());
        const auto start = static_cast<int64_t>(span.start_time_unix_nano());
        const auto end = static_cast<int64_t>(span.end_time_unix_nano());
        batch->column(kTraceId).AppendString(HexEncode(span.trace_id()));
        batch->column(kSpanId).AppendString(HexEncode(span.span_id()));
        if (span.parent_span_id().empty()) batch->column(kParentSpanId).AppendNull();
        else batch->column(kParentSpanId).AppendString(HexEncode(span.parent_span_id()));
        batch->column(kSpanName).AppendString(span.name());
        batch->column(kServiceName).AppendString(service);
        batch->column(kStartTimeUnixNano).AppendInt(start);
        batch->column(kEndTimeUnixNano).AppendInt(end);
        batch->column(kDurationNanos)
            .AppendInt(span.end_time_unix_nano() > span.start_time_unix_nano()
                           ? static_cast<int64_t>(span.end_time_unix_nano() - span.start_time_unix_nano())
                           : 0);
        batch->column(kSpanKind).AppendString(SpanKindName(span.kind()));
        batch->column(kSpanKindNumber).AppendInt(span.kind());
        batch->column(kStatusCode).AppendString(StatusCodeName(span.status().code()));
        batch->column(kStatusCodeNumber).AppendInt(span.status().code());
        AppendOptionalString(batch->column(kStatusMessage), span.status().message());
        batch->column(kIsRoot).AppendBool(root);
        AppendOptionalString(batch->column(kTraceState), span.trace_state());
        batch->column(kFlags).AppendInt(span.flags());
        SplitAttributes(span.attributes(), &attrs);
        attrs.Append(*batch);
        batch->column(kDroppedAttributesCount).AppendInt(attrs.DroppedCount(span.dropped_attributes_count()));
        buf.clear();
        AppendEventsJson(buf, span.events());
        batch->column(kEvents).AppendString(buf);
        batch->column(kDroppedEventsCount).AppendInt(span.dropped_events_count());
        buf.clear();
        AppendLinksJson(buf, span.links());
        batch->column(kLinks).AppendString(buf);
        batch->column(kDroppedLinksCount).AppendInt(span.dropped_links_count());
        batch->column(kResourceAttributes).AppendString(resource_attrs);
        batch->column(kResourceDroppedAttributesCount).AppendInt(rs.resource().dropped_attributes_count());
        AppendOptionalString(batch->column(kResourceSchemaUrl), rs.schema_url());
        AppendOptionalString(batch->column(kScopeName), ss.scope().name());
        AppendOptionalString(batch->column(kScopeVersion), ss.scope().version());
        batch->column(kScopeAttributes).AppendString(scope_attrs);
        batch->column(kScopeDroppedAttributesCount).AppendInt(ss.scope().dropped_attributes_count());
        AppendOptionalString(batch->column(kScopeSchemaUrl), ss.schema_url());
        const int64_t micros = FloorDiv(start, 1000);
        batch->column(kTimestamp).AppendInt(micros);
        batch->column(kDateDay).AppendInt(FloorDiv(micros, kMicrosPerDay));
        batch->column(kHour).AppendInt(FloorDiv(micros, kMicrosPerHour) - FloorDiv(micros, kMicrosPerDay) * 24);
        ++result.accepted;
      }
    }
  }
  return result;
}

}  // namespace signaldb::otlp
