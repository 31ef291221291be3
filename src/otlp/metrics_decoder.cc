#include "otlp/metrics_decoder.h"


#include <charconv>
#include <cmath>

#include "common/hex.h"
#include "common/strings.h"
#include "otlp/decode_util.h"
#include "otlp/otlp_json.h"

namespace signaldb::otlp {
namespace {

namespace mpb = opentelemetry::proto::metrics::v1;
using columnar::Batch;

template <typename T>
void AppendIntegers(std::string& out, const T& values) {
  out += '[';
  bool first = true;
  for (auto v : values) {
    if (!first) out += ',';
    first = false;
    out += std::to_string(v);
  }
  out += ']';
}

void AppendDoubles(std::string& out, const google::protobuf::RepeatedField<double>& values) {
  out += '[';
  for (int i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    AppendJsonDouble(out, values[i]);
  }
  out += ']';
}

bool ValidExemplars(const google::protobuf::RepeatedPtrField<mpb::Exemplar>& exemplars) {
  for (const auto& e : exemplars) {
    if (!e.trace_id().empty() && e.trace_id().size() != 16) return false;
    if (!e.span_id().empty() && e.span_id().size() != 8) return false;
  }
  return true;
}

// [{"timeUnixNano":"…","asDouble":1.5|"asInt":"3","traceId":"hex","spanId":"hex","filteredAttributes":[…]}]
void AppendExemplars(std::string& out, const google::protobuf::RepeatedPtrField<mpb::Exemplar>& exemplars) {
  out += '[';
  bool first_e = true;
  for (const auto& e : exemplars) {
    if (!first_e) out += ',';
    first_e = false;
    out += "{\"timeUnixNano\":\"" + std::to_string(e.time_unix_nano()) + "\"";
    if (e.value_case() == mpb::Exemplar::kAsDouble) {
      out += ",\"asDouble\":";
      AppendJsonDouble(out, e.as_double());
    } else if (e.value_case() == mpb::Exemplar::kAsInt) {
      out += ",\"asInt\":\"" + std::to_string(e.as_int()) + "\"";
    }
    if (!e.trace_id().empty()) out += ",\"traceId\":\"" + HexEncode(e.trace_id()) + "\"";
    if (!e.span_id().empty()) out += ",\"spanId\":\"" + HexEncode(e.span_id()) + "\"";
    if (e.filtered_attributes_size() > 0) {
      out += ",\"filteredAttributes\":";
      AppendKeyValuesJson(out, e.filtered_attributes());
    }
    out += '}';
  }
  out += ']';
}

// Writes the columns every metrics table shares, for one data point.
class PointWriter {
 public:
  PointWriter(Batch& batch) : batch_(batch), schema_(batch.schema()) {}
  columnar::ColumnData& col(const char* name) { return batch_.column(schema_.IndexOf(name)); }

  template <typename Point>
  void Common(const mpb::Metric& metric, const std::string& metadata, const ContextColumns& ctx,
              const Point& p) {
    TimeParts t = SplitTime(p.time_unix_nano());
    col("timestamp").AppendInt(t.micros);
    if (p.start_time_unix_nano() != 0) col("start_timestamp").AppendInt(SplitTime(p.start_time_unix_nano()).micros);
    else col("start_timestamp").AppendNull();
    col("time_unix_nano").AppendInt(static_cast<int64_t>(p.time_unix_nano()));
    col("start_time_unix_nano").AppendInt(static_cast<int64_t>(p.start_time_unix_nano()));
    col("metric_name").AppendString(metric.name());
    AppendOptionalString(col("metric_description"), metric.description());
    AppendOptionalString(col("metric_unit"), metric.unit());
    col("flags").AppendInt(p.flags());
    buf_.clear();
    AppendKeyValuesJson(buf_, p.attributes());
    col("attributes").AppendString(buf_);
    col("metric_metadata").AppendString(metadata);
    ctx.Append(batch_);
    col("date_day").AppendInt(t.day);
    col("hour").AppendInt(t.hour);
  }

  template <typename Point>
  void Exemplars(const Point& p) {
    buf_.clear();
    AppendExemplars(buf_, p.exemplars());
    col("exemplars").AppendString(buf_);
  }

  void Json(const char* name, const std::string& text) { col(name).AppendString(text); }
  void End() { batch_.EndRow(); }

 private:
  Batch& batch_;
  const columnar::Schema& schema_;
  std::string buf_;
};

void NumberValue(PointWriter& w, const mpb::NumberDataPoint& p) {
  if (p.value_case() == mpb::NumberDataPoint::kAsDouble) {
    w.col("value").AppendDouble(p.as_double());
    w.col("value_int").AppendNull();
  } else if (p.value_case() == mpb::NumberDataPoint::kAsInt) {
    w.col("value").AppendDouble(static_cast<double>(p.as_int()));
    w.col("value_int").AppendInt(p.as_int());
  }
}

void OptionalDouble(PointWriter& w, const char* name, bool has, double v) {
  if (has) w.col(name).AppendDouble(v);
  else w.col(name).AppendNull();
}

}  // namespace

DecodeResult DecodeMetrics(const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& request,
                           std::vector<Batch>* batches) {
  DecodeResult result;
  auto reject = [&](uint64_t n, std::string why) {
    if (n == 0) return;
    if (result.rejected == 0) result.first_error = std::move(why);
    result.rejected += n;
  };
  PointWriter gauge((*batches)[kGauge]), sum((*batches)[kSum]), hist((*batches)[kHistogram]),
      exp((*batches)[kExponentialHistogram]), summary((*batches)[kSummary]);
  ContextColumns ctx;
  std::string metadata, buf;
  for (const auto& rm : request.resource_metrics()) {
    ctx.SetResource(rm.resource(), rm.schema_url());
    for (const auto& sm : rm.scope_metrics()) {
      ctx.SetScope(sm.scope(), sm.schema_url());
      for (const auto& m : sm.metrics()) {
        metadata.clear();
        AppendKeyValuesJson(metadata, m.metadata());
        if (m.name().empty()) {
          uint64_t n = m.gauge().data_points_size() + m.sum().data_points_size() + m.histogram().data_points_size() +
                       m.exponential_histogram().data_points_size() + m.summary().data_points_size();
          reject(n, "metric has no name");
          continue;
        }
        switch (m.data_case()) {
          case mpb::Metric::kGauge:
            for (const auto& p : m.gauge().data_points()) {
              if (!ValidExemplars(p.exemplars())) { reject(1, "exemplar has a malformed trace or span id"); continue; }
              gauge.Common(m, metadata, ctx, p);
              NumberValue(gauge, p);
              gauge.Exemplars(p);
              gauge.End();
              ++result.accepted;
            }
            break;
          case mpb::Metric::kSum:
            for (const auto& p : m.sum().data_points()) {
              if (!ValidExemplars(p.exemplars())) { reject(1, "exemplar has a malformed trace or span id"); continue; }
              sum.Common(m, metadata, ctx, p);
              NumberValue(sum, p);
              sum.col("aggregation_temporality").AppendInt(m.sum().aggregation_temporality());
              sum.col("is_monotonic").AppendBool(m.sum().is_monotonic());
              sum.Exemplars(p);
              sum.End();
              ++result.accepted;
            }
            break;
          case mpb::Metric::kHistogram:
            for (const auto& p : m.histogram().data_points()) {
              if (p.bucket_counts_size() != 0 && p.bucket_counts_size() != p.explicit_bounds_size() + 1) {
                reject(1, StrCat("histogram '", m.name(), "' has ", p.bucket_counts_size(), " bucket counts for ",
                                 p.explicit_bounds_size(), " bounds"));
                continue;
              }
              if (!ValidExemplars(p.exemplars())) { reject(1, "exemplar has a malformed trace or span id"); continue; }
              hist.Common(m, metadata, ctx, p);
              hist.col("count").AppendInt(static_cast<int64_t>(p.count()));
              OptionalDouble(hist, "sum", p.has_sum(), p.sum());
              OptionalDouble(hist, "min", p.has_min(), p.min());
              OptionalDouble(hist, "max", p.has_max(), p.max());
              buf.clear();
              AppendIntegers(buf, p.bucket_counts());
              hist.Json("bucket_counts", buf);
              buf.clear();
              AppendDoubles(buf, p.explicit_bounds());
              hist.Json("explicit_bounds", buf);
              hist.col("aggregation_temporality").AppendInt(m.histogram().aggregation_temporality());
              hist.Exemplars(p);
              hist.End();
              ++result.accepted;
            }
            break;
          case mpb::Metric::kExponentialHistogram:
            for (const auto& p : m.exponential_histogram().data_points()) {
              if (!ValidExemplars(p.exemplars())) { reject(1, "exemplar has a malformed trace or span id"); continue; }
              exp.Common(m, metadata, ctx, p);
              exp.col("count").AppendInt(static_cast<int64_t>(p.count()));
              OptionalDouble(exp, "sum", p.has_sum(), p.sum());
              OptionalDouble(exp, "min", p.has_min(), p.min());
              OptionalDouble(exp, "max", p.has_max(), p.max());
              exp.col("scale").AppendInt(p.scale());
              exp.col("zero_count").AppendInt(static_cast<int64_t>(p.zero_count()));
              exp.col("zero_threshold").AppendDouble(p.zero_threshold());
              exp.col("positive_offset").AppendInt(p.positive().offset());
              buf.clear();
              AppendIntegers(buf, p.positive().bucket_counts());
              exp.Json("positive_bucket_counts", buf);
              exp.col("negative_offset").AppendInt(p.negative().offset());
              buf.clear();
              AppendIntegers(buf, p.negative().bucket_counts());
              exp.Json("negative_bucket_counts", buf);
              exp.col("aggregation_temporality").AppendInt(m.exponential_histogram().aggregation_temporality());
              exp.Exemplars(p);
              exp.End();
              ++result.accepted;
            }
            break;
          case mpb::Metric::kSummary:
            for (const auto& p : m.summary().data_points()) {
              summary.Common(m, metadata, ctx, p);
              summary.col("count").AppendInt(static_cast<int64_t>(p.count()));
              summary.col("sum").AppendDouble(p.sum());
              buf = "[";
              for (int i = 0; i < p.quantile_values_size(); ++i) {
                if (i) buf += ',';
                buf += "{\"quantile\":";
                AppendJsonDouble(buf, p.quantile_values(i).quantile());
                buf += ",\"value\":";
                AppendJsonDouble(buf, p.quantile_values(i).value());
                buf += '}';
              }
              buf += ']';
              summary.Json("quantile_values", buf);
              summary.col("exemplars").AppendString("[]");
              summary.End();
              ++result.accepted;
            }
            break;
          default:
            break;  // a metric without data carries no data points
        }
      }
    }
  }
  return result;
}

}  // namespace signaldb::otlp
