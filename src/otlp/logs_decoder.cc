#include "otlp/logs_decoder.h"


#include "common/hex.h"
#include "common/strings.h"
#include "otlp/decode_util.h"
#include "otlp/otlp_json.h"

namespace signaldb::otlp {

DecodeResult DecodeLogs(const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& request,
                        columnar::Batch* batch) {
  DecodeResult result;
  const auto& schema = batch->schema();
  auto col = [&](const char* name) -> columnar::ColumnData& { return batch->column(schema.IndexOf(name)); };
  auto& c_timestamp = col("timestamp");
  auto& c_time = col("time_unix_nano");
  auto& c_observed_ts = col("observed_timestamp");
  auto& c_observed = col("observed_time_unix_nano");
  auto& c_trace = col("trace_id");
  auto& c_span = col("span_id");
  auto& c_flags = col("trace_flags");
  auto& c_sev_text = col("severity_text");
  auto& c_sev_num = col("severity_number");
  auto& c_body = col("body");
  auto& c_event = col("event_name");
  auto& c_attrs = col("log_attributes");
  auto& c_dropped = col("dropped_attributes_count");
  auto& c_day = col("date_day");
  auto& c_hour = col("hour");
  ContextColumns ctx;
  std::string buf;
  for (const auto& rl : request.resource_logs()) {
    ctx.SetResource(rl.resource(), rl.schema_url());
    for (const auto& sl : rl.scope_logs()) {
      ctx.SetScope(sl.scope(), sl.schema_url());
      for (const auto& rec : sl.log_records()) {
        if (!rec.trace_id().empty() && rec.trace_id().size() != 16) {
          if (result.rejected++ == 0) result.first_error = StrCat("log record has an invalid trace id (", rec.trace_id().size(), " bytes, must be 16)");
          continue;
        }
        if (!rec.span_id().empty() && rec.span_id().size() != 8) {
          if (result.rejected++ == 0) result.first_error = StrCat("log record has an invalid span id (", rec.span_id().size(), " bytes, must be 8)");
          continue;
        }
        // The event time, or when it was observed if the source gave none.
        uint64_t when = rec.time_unix_nano() != 0 ? rec.time_unix_nano() : rec.observed_time_unix_nano();
        TimeParts t = SplitTime(when);
        c_timestamp.AppendInt(t.micros);
        c_time.AppendInt(static_cast<int64_t>(rec.time_unix_nano()));
        if (rec.observed_time_unix_nano() != 0) c_observed_ts.AppendInt(SplitTime(rec.observed_time_unix_nano()).micros);
        else c_observed_ts.AppendNull();
        c_observed.AppendInt(static_cast<int64_t>(rec.observed_time_unix_nano()));
        if (rec.trace_id().empty() || AllZero(rec.trace_id())) c_trace.AppendNull();
        else c_trace.AppendString(HexEncode(rec.trace_id()));
        if (rec.span_id().empty() || AllZero(rec.span_id())) c_span.AppendNull();
        else c_span.AppendString(HexEncode(rec.span_id()));
        c_flags.AppendInt(rec.flags());
        AppendOptionalString(c_sev_text, rec.severity_text());
        c_sev_num.AppendInt(rec.severity_number());
        if (rec.has_body()) {
          buf.clear();
          AppendAnyValueJson(buf, rec.body());
          c_body.AppendString(buf);
        } else {
          c_body.AppendNull();
        }
        AppendOptionalString(c_event, rec.event_name());
        buf.clear();
        AppendKeyValuesJson(buf, rec.attributes());
        c_attrs.AppendString(buf);
        c_dropped.AppendInt(rec.dropped_attributes_count());
        ctx.Append(*batch);
        c_day.AppendInt(t.day);
        c_hour.AppendInt(t.hour);
        ++result.accepted;
      }
    }
  }
  return result;
}

}  // namespace signaldb::otlp
