// DecodeMetricsProto: OTLP metrics requests from protobuf wire bytes straight
// into the five metrics tables, with no message objects; it agrees with
// DecodeMetrics, the message-based reference decoder (otlp_signals_test
// checks both).
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include "common/hex.h"
#include "common/strings.h"
#include "otlp/decode_util.h"
#include "otlp/metrics_decoder.h"
#include "otlp/otlp_json.h"
#include "otlp/wire_decode.h"

namespace signaldb::otlp {
namespace {

using namespace wire;  // NOLINT: the shared wire helpers
using columnar::Batch;

double AsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

int32_t ZigZag32(uint64_t v) {
  auto n = static_cast<uint32_t>(v);
  return static_cast<int32_t>((n >> 1) ^ (~(n & 1) + 1));
}

// A repeated fixed64 (or double) field, packed or not.
void Fixed64s(Reader& r, WireType t, std::vector<uint64_t>& out) {
  if (t == kFixed64) {
    out.push_back(Fixed64(r));
    return;
  }
  Reader packed(Bytes(r));
  while (!packed.done()) out.push_back(Fixed64(packed));
}

// A repeated varint field, packed or not.
void Varints(Reader& r, WireType t, std::vector<uint64_t>& out) {
  if (t == kVarint) {
    out.push_back(Varint(r));
    return;
  }
  Reader packed(Bytes(r));
  while (!packed.done()) out.push_back(Varint(packed));
}

struct Exemplar {
  uint64_t time = 0;
  int which = 0;  // 3 as_double, 6 as_int
  uint64_t value = 0;
  std::string_view trace_id, span_id;
  std::vector<std::string_view> attrs;
};

Exemplar ParseExemplar(std::string_view bytes) {
  Exemplar e;
  Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
    switch (f) {
      case 2: if (t != kFixed64) return false; e.time = Fixed64(r); return true;
      case 3: if (t != kFixed64) return false; e.value = Fixed64(r); e.which = 3; return true;
      case 6: if (t != kFixed64) return false; e.value = Fixed64(r); e.which = 6; return true;
      case 4: if (t != kLen) return false; e.span_id = Bytes(r); return true;
      case 5: if (t != kLen) return false; e.trace_id = Bytes(r); return true;
      case 7: if (t != kLen) return false; e.attrs.push_back(Bytes(r)); return true;
      default: return false;
    }
  });
  return e;
}

bool ValidExemplars(const std::vector<Exemplar>& exemplars) {
  for (const auto& e : exemplars) {
    if (!e.trace_id.empty() && e.trace_id.size() != 16) return false;
    if (!e.span_id.empty() && e.span_id.size() != 8) return false;
  }
  return true;
}

void ExemplarsJson(const std::vector<Exemplar>& exemplars, std::string& out, Limiter* lim) {
  if (lim != nullptr) lim->where = "exemplar";
  out += '[';
  for (size_t i = 0; i < exemplars.size(); ++i) {
    const Exemplar& e = exemplars[i];
    if (i) out += ',';
    out += StrCat("{\"timeUnixNano\":\"", e.time, "\"");
    if (e.which == 3) {
      out += ",\"asDouble\":";
      AppendJsonDouble(out, AsDouble(e.value));
    } else if (e.which == 6) {
      out += StrCat(",\"asInt\":\"", static_cast<int64_t>(e.value), "\"");
    }
    if (!e.trace_id.empty()) out += ",\"traceId\":\"" + HexEncode(e.trace_id) + "\"";
    if (!e.span_id.empty()) out += ",\"spanId\":\"" + HexEncode(e.span_id) + "\"";
    if (!e.attrs.empty()) {
      out += ",\"filteredAttributes\":";
      KeyValuesJson(e.attrs, out, 8, lim);
    }
    out += '}';
  }
  out += ']';
}

// The fields every data point kind shares.
struct Point {
  uint64_t time = 0, start = 0;
  uint64_t flags = 0;
  std::vector<std::string_view> attrs;
  std::vector<Exemplar> exemplars;
};

struct MetricInfo {
  std::string_view name, description, unit;
  std::string metadata;
};

struct Table {
  explicit Table(Batch& b) : batch(b) {}
  Batch& batch;
  columnar::ColumnData& col(const char* name) { return batch.column(batch.schema().IndexOf(name)); }

  // `attrs`: the point's attributes as JSON.
  void Common(const MetricInfo& m, const WireContext& ctx, const Point& p, const std::string& attrs) {
    TimeParts t = SplitTime(p.time);
    col("timestamp").AppendInt(t.micros);
    if (p.start != 0) col("start_timestamp").AppendInt(SplitTime(p.start).micros);
    else col("start_timestamp").AppendNull();
    col("time_unix_nano").AppendInt(static_cast<int64_t>(p.time));
    col("start_time_unix_nano").AppendInt(static_cast<int64_t>(p.start));
    col("metric_name").AppendString(m.name);
    OptionalString(col("metric_description"), m.description);
    OptionalString(col("metric_unit"), m.unit);
    col("flags").AppendInt(static_cast<uint32_t>(p.flags));
    col("attributes").AppendString(attrs);
    col("metric_metadata").AppendString(m.metadata);
    col("service_name").AppendString(ctx.service);
    col("resource_attributes").AppendString(ctx.resource_attrs);
    col("resource_dropped_attributes_count").AppendInt(ctx.resource_dropped);
    OptionalString(col("resource_schema_url"), ctx.resource_schema);
    OptionalString(col("scope_name"), ctx.scope_name);
    OptionalString(col("scope_version"), ctx.scope_version);
    col("scope_attributes").AppendString(ctx.scope_attrs);
    col("scope_dropped_attributes_count").AppendInt(ctx.scope_dropped);
    OptionalString(col("scope_schema_url"), ctx.scope_schema);
    col("date_day").AppendInt(t.day);
    col("hour").AppendInt(t.hour);
  }
  void Exemplars(const std::string& json) { col("exemplars").AppendString(json); }
  void OptionalDouble(const char* name, bool has, uint64_t bits) {
    if (has) col(name).AppendDouble(AsDouble(bits));
    else col(name).AppendNull();
  }
};

// Reads the shared point fields with the kind's field numbers.
struct PointFields {
  uint32_t attributes, start, time, exemplars, flags;
};

bool CommonField(Reader& r, uint32_t f, WireType t, const PointFields& pf, Point& p) {
  if (f == pf.attributes && t == kLen) { p.attrs.push_back(Bytes(r)); return true; }
  if (f == pf.start && t == kFixed64) { p.start = Fixed64(r); return true; }
  if (f == pf.time && t == kFixed64) { p.time = Fixed64(r); return true; }
  if (f == pf.exemplars && t == kLen) { p.exemplars.push_back(ParseExemplar(Bytes(r))); return true; }
  if (f == pf.flags && t == kVarint) { p.flags = Varint(r); return true; }
  return false;
}

struct Decoder {
  std::vector<Table> tables;
  DecodeResult* result;
  Limiter* lim;  // null: no attribute limits
  std::string buf;
  std::string attrs, exemplars;  // JSON of the point being decoded

  // Writes the point's attribute and exemplar JSON under the limits; false
  // (and counted) when the limits reject the point.
  bool Prepare(const WireContext& ctx, const Point& p) {
    if (lim != nullptr) {
      lim->found = {};
      lim->where = "data point";
    }
    attrs.clear();
    KeyValuesJson(p.attrs, attrs, 8, lim);
    exemplars.clear();
    ExemplarsJson(p.exemplars, exemplars, lim);
    std::string why;
    if (!LimitRejects(lim, ctx, "data point", result, &why)) return true;
    Reject(1, std::move(why));
    return false;
  }

  void Reject(uint64_t n, std::string why) {
    if (n == 0) return;
    if (result->rejected == 0) result->first_error = std::move(why);
    result->rejected += n;
  }

  void Number(Table& t, const MetricInfo& m, const WireContext& ctx, std::string_view bytes, bool sum,
              int64_t temporality, bool monotonic) {
    Point p;
    int which = 0;
    uint64_t value = 0;
    Fields(bytes, [&](Reader& r, uint32_t f, WireType wt) {
      if ((f == 4 || f == 6) && wt == kFixed64) {
        value = Fixed64(r);
        which = static_cast<int>(f);
        return true;
      }
      return CommonField(r, f, wt, {7, 2, 3, 5, 8}, p);
    });
    if (!ValidExemplars(p.exemplars)) return Reject(1, "exemplar has a malformed trace or span id");
    if (!Prepare(ctx, p)) return;
    t.Common(m, ctx, p, attrs);
    if (which == 4) {
      t.col("value").AppendDouble(AsDouble(value));
      t.col("value_int").AppendNull();
    } else if (which == 6) {
      t.col("value").AppendDouble(static_cast<double>(static_cast<int64_t>(value)));
      t.col("value_int").AppendInt(static_cast<int64_t>(value));
    }
    if (sum) {
      t.col("aggregation_temporality").AppendInt(temporality);
      t.col("is_monotonic").AppendBool(monotonic);
    }
    t.Exemplars(exemplars);
    t.batch.EndRow();
    ++result->accepted;
  }

  void Histogram(Table& t, const MetricInfo& m, const WireContext& ctx, std::string_view bytes, int64_t temporality) {
    Point p;
    uint64_t count = 0, sum = 0, min = 0, max = 0;
    bool has_sum = false, has_min = false, has_max = false;
    std::vector<uint64_t> buckets, bounds;
    Fields(bytes, [&](Reader& r, uint32_t f, WireType wt) {
      switch (f) {
        case 4: if (wt != kFixed64) return false; count = Fixed64(r); return true;
        case 5: if (wt != kFixed64) return false; sum = Fixed64(r); has_sum = true; return true;
        case 6: if (wt != kFixed64 && wt != kLen) return false; Fixed64s(r, wt, buckets); return true;
        case 7: if (wt != kFixed64 && wt != kLen) return false; Fixed64s(r, wt, bounds); return true;
        case 11: if (wt != kFixed64) return false; min = Fixed64(r); has_min = true; return true;
        case 12: if (wt != kFixed64) return false; max = Fixed64(r); has_max = true; return true;
        default: return CommonField(r, f, wt, {9, 2, 3, 8, 10}, p);
      }
    });
    if (!buckets.empty() && buckets.size() != bounds.size() + 1) {
      return Reject(1, StrCat("histogram '", m.name, "' has ", buckets.size(), " bucket counts for ", bounds.size(),
                              " bounds"));
    }
    if (!ValidExemplars(p.exemplars)) return Reject(1, "exemplar has a malformed trace or span id");
    if (!Prepare(ctx, p)) return;
    t.Common(m, ctx, p, attrs);
    t.col("count").AppendInt(static_cast<int64_t>(count));
    t.OptionalDouble("sum", has_sum, sum);
    t.OptionalDouble("min", has_min, min);
    t.OptionalDouble("max", has_max, max);
    buf = "[";
    for (size_t i = 0; i < buckets.size(); ++i) buf += StrCat(i ? "," : "", buckets[i]);
    buf += ']';
    t.col("bucket_counts").AppendString(buf);
    buf = "[";
    for (size_t i = 0; i < bounds.size(); ++i) {
      if (i) buf += ',';
      AppendJsonDouble(buf, AsDouble(bounds[i]));
    }
    buf += ']';
    t.col("explicit_bounds").AppendString(buf);
    t.col("aggregation_temporality").AppendInt(temporality);
    t.Exemplars(exemplars);
    t.batch.EndRow();
    ++result->accepted;
  }

  static void Buckets(std::string_view bytes, int32_t& offset, std::vector<uint64_t>& counts) {
    Fields(bytes, [&](Reader& r, uint32_t f, WireType wt) {
      if (f == 1 && wt == kVarint) { offset = ZigZag32(Varint(r)); return true; }
      if (f == 2 && (wt == kVarint || wt == kLen)) { Varints(r, wt, counts); return true; }
      return false;
    });
  }

  void Exponential(Table& t, const MetricInfo& m, const WireContext& ctx, std::string_view bytes,
                   int64_t temporality) {
    Point p;
    uint64_t count = 0, sum = 0, min = 0, max = 0, zero_count = 0, zero_threshold = 0;
    bool has_sum = false, has_min = false, has_max = false;
    int32_t scale = 0, pos_offset = 0, neg_offset = 0;
    std::vector<uint64_t> pos, neg;
    Fields(bytes, [&](Reader& r, uint32_t f, WireType wt) {
      switch (f) {
        case 4: if (wt != kFixed64) return false; count = Fixed64(r); return true;
        case 5: if (wt != kFixed64) return false; sum = Fixed64(r); has_sum = true; return true;
        case 6: if (wt != kVarint) return false; scale = ZigZag32(Varint(r)); return true;
        case 7: if (wt != kFixed64) return false; zero_count = Fixed64(r); return true;
        case 8: if (wt != kLen) return false; Buckets(Bytes(r), pos_offset, pos); return true;
        case 9: if (wt != kLen) return false; Buckets(Bytes(r), neg_offset, neg); return true;
        case 12: if (wt != kFixed64) return false; min = Fixed64(r); has_min = true; return true;
        case 13: if (wt != kFixed64) return false; max = Fixed64(r); has_max = true; return true;
        case 14: if (wt != kFixed64) return false; zero_threshold = Fixed64(r); return true;
        default: return CommonField(r, f, wt, {1, 2, 3, 11, 10}, p);
      }
    });
    if (!ValidExemplars(p.exemplars)) return Reject(1, "exemplar has a malformed trace or span id");
    if (!Prepare(ctx, p)) return;
    t.Common(m, ctx, p, attrs);
    t.col("count").AppendInt(static_cast<int64_t>(count));
    t.OptionalDouble("sum", has_sum, sum);
    t.OptionalDouble("min", has_min, min);
    t.OptionalDouble("max", has_max, max);
    t.col("scale").AppendInt(scale);
    t.col("zero_count").AppendInt(static_cast<int64_t>(zero_count));
    t.col("zero_threshold").AppendDouble(AsDouble(zero_threshold));
    t.col("positive_offset").AppendInt(pos_offset);
    auto list = [&](const std::vector<uint64_t>& v) {
      buf = "[";
      for (size_t i = 0; i < v.size(); ++i) buf += StrCat(i ? "," : "", v[i]);
      buf += ']';
      return buf;
    };
    t.col("positive_bucket_counts").AppendString(list(pos));
    t.col("negative_offset").AppendInt(neg_offset);
    t.col("negative_bucket_counts").AppendString(list(neg));
    t.col("aggregation_temporality").AppendInt(temporality);
    t.Exemplars(exemplars);
    t.batch.EndRow();
    ++result->accepted;
  }

  void Summary(Table& t, const MetricInfo& m, const WireContext& ctx, std::string_view bytes) {
    Point p;
    uint64_t count = 0, sum = 0;
    std::vector<std::pair<uint64_t, uint64_t>> quantiles;
    Fields(bytes, [&](Reader& r, uint32_t f, WireType wt) {
      switch (f) {
        case 4: if (wt != kFixed64) return false; count = Fixed64(r); return true;
        case 5: if (wt != kFixed64) return false; sum = Fixed64(r); return true;
        case 6: {
          if (wt != kLen) return false;
          uint64_t q = 0, v = 0;
          Fields(Bytes(r), [&](Reader& qr, uint32_t qf, WireType qt) {
            if (qf == 1 && qt == kFixed64) { q = Fixed64(qr); return true; }
            if (qf == 2 && qt == kFixed64) { v = Fixed64(qr); return true; }
            return false;
          });
          quantiles.emplace_back(q, v);
          return true;
        }
        default: return CommonField(r, f, wt, {7, 2, 3, 0, 8}, p);
      }
    });
    if (!Prepare(ctx, p)) return;
    t.Common(m, ctx, p, attrs);
    t.col("count").AppendInt(static_cast<int64_t>(count));
    t.col("sum").AppendDouble(AsDouble(sum));
    buf = "[";
    for (size_t i = 0; i < quantiles.size(); ++i) {
      if (i) buf += ',';
      buf += "{\"quantile\":";
      AppendJsonDouble(buf, AsDouble(quantiles[i].first));
      buf += ",\"value\":";
      AppendJsonDouble(buf, AsDouble(quantiles[i].second));
      buf += '}';
    }
    buf += ']';
    t.col("quantile_values").AppendString(buf);
    t.col("exemplars").AppendString("[]");
    t.batch.EndRow();
    ++result->accepted;
  }

  void Metric(std::string_view bytes, const WireContext& ctx) {
    MetricInfo m;
    std::vector<std::string_view> metadata;
    uint32_t member = 0;  // the oneof `data`: the last member set wins
    std::vector<std::string_view> payloads;
    Fields(bytes, [&](Reader& r, uint32_t f, WireType t) {
      if (t != kLen) return false;
      switch (f) {
        case 1: m.name = Str(r); return true;
        case 2: m.description = Str(r); return true;
        case 3: m.unit = Str(r); return true;
        case 12: metadata.push_back(Bytes(r)); return true;
        case 5: case 7: case 9: case 10: case 11:
          if (f != member) payloads.clear();
          member = f;
          payloads.push_back(Bytes(r));
          return true;
        default: return false;
      }
    });
    KeyValuesJson(metadata, m.metadata, 6);
    // Each kind's data points (field 1) and its temporality / monotonicity.
    std::vector<std::string_view> points;
    int64_t temporality = 0;
    bool monotonic = false;
    for (std::string_view payload : payloads) {
      Fields(payload, [&](Reader& r, uint32_t f, WireType t) {
        if (f == 1 && t == kLen) { points.push_back(Bytes(r)); return true; }
        if (f == 2 && t == kVarint && member != 5 && member != 11) {
          temporality = static_cast<int32_t>(Varint(r));
          return true;
        }
        if (f == 3 && t == kVarint && member == 7) { monotonic = Varint(r) != 0; return true; }
        return false;
      });
    }
    if (m.name.empty()) return Reject(points.size(), "metric has no name");
    for (std::string_view p : points) {
      switch (member) {
        case 5: Number(tables[kGauge], m, ctx, p, false, 0, false); break;
        case 7: Number(tables[kSum], m, ctx, p, true, temporality, monotonic); break;
        case 9: Histogram(tables[kHistogram], m, ctx, p, temporality); break;
        case 10: Exponential(tables[kExponentialHistogram], m, ctx, p, temporality); break;
        case 11: Summary(tables[kSummary], m, ctx, p); break;
      }
    }
  }
};

}  // namespace

absl::StatusOr<DecodeResult> DecodeMetricsProto(std::string_view bytes, std::vector<Batch>* batches,
                                                const AttributeLimits* limits) {
  DecodeResult result;
  std::optional<Limiter> limiter;
  if (limits != nullptr && limits->active()) limiter.emplace(*limits);
  Limiter* lim = limiter ? &*limiter : nullptr;
  std::vector<Batch> out;
  for (const auto& b : *batches) {
    if (b.num_rows() != 0) return absl::InternalError("DecodeMetricsProto expects empty batches");
    out.emplace_back(&b.schema());
  }
  Decoder d{{}, &result, lim, {}, {}, {}};
  for (auto& b : out) d.tables.emplace_back(b);
  try {
    ForEachItem(bytes, lim, [&](const WireContext& ctx, std::string_view metric) { d.Metric(metric, ctx); });
  } catch (const Malformed&) {
    return absl::InvalidArgumentError("request is not a valid ExportMetricsServiceRequest protobuf");
  }
  NoteTruncation(lim, "data points", &result);
  *batches = std::move(out);
  return result;
}

}  // namespace signaldb::otlp
