#include "otlp/decode_util.h"

#include "otlp/otlp_json.h"
#include "otlp/trace_decoder.h"
#include "schema/tables.h"

namespace signaldb::otlp {

void ContextColumns::SetResource(const opentelemetry::proto::resource::v1::Resource& r,
                                 const std::string& schema_url) {
  service_name = ServiceName(r);
  resource_attributes.clear();
  AppendKeyValuesJson(resource_attributes, r.attributes());
  resource_dropped = r.dropped_attributes_count();
  resource_schema_url = schema_url;
}

void ContextColumns::SetScope(const opentelemetry::proto::common::v1::InstrumentationScope& s,
                              const std::string& schema_url) {
  scope_name = s.name();
  scope_version = s.version();
  scope_attributes.clear();
  AppendKeyValuesJson(scope_attributes, s.attributes());
  scope_dropped = s.dropped_attributes_count();
  scope_schema_url = schema_url;
}

void ContextColumns::Append(columnar::Batch& batch) const {
  const auto& schema = batch.schema();
  auto col = [&](const char* name) -> columnar::ColumnData& { return batch.column(schema.IndexOf(name)); };
  col("service_name").AppendString(service_name);
  col("resource_attributes").AppendString(resource_attributes);
  col("resource_dropped_attributes_count").AppendInt(resource_dropped);
  AppendOptionalString(col("resource_schema_url"), resource_schema_url);
  AppendOptionalString(col("scope_name"), scope_name);
  AppendOptionalString(col("scope_version"), scope_version);
  col("scope_attributes").AppendString(scope_attributes);
  col("scope_dropped_attributes_count").AppendInt(scope_dropped);
  AppendOptionalString(col("scope_schema_url"), scope_schema_url);
}

void SpanAttributes::Clear() {
  entries.clear();
  other_keys.clear();
  other.clear();
  other.push_back('[');
  repeated = 0;
  limit_dropped = 0;
  key_bits = 0;
  seen.clear();
}

bool SpanAttributes::Add(std::string_view key) {
  constexpr size_t kLinear = 16;
  const size_t n = entries.size() + other_keys.size();
  if (n < kLinear) {
    // Length, last and middle byte: keys of one span rarely share all three.
    const size_t h = key.empty() ? 0
                                 : key.size() * 7 + static_cast<unsigned char>(key.back()) * 31 +
                                       static_cast<unsigned char>(key[key.size() / 2]);
    const uint64_t bit = uint64_t{1} << (h & 63);
    const bool maybe_seen = (key_bits & bit) != 0;
    key_bits |= bit;
    if (!maybe_seen) return true;
    for (const auto& e : entries) {
      if (e.key == key) return ++repeated, false;
    }
    for (std::string_view k : other_keys) {
      if (k == key) return ++repeated, false;
    }
    return true;
  }
  if (seen.empty()) {
    for (const auto& e : entries) seen.insert(e.key);
    for (std::string_view k : other_keys) seen.insert(k);
  }
  if (!seen.insert(key).second) return ++repeated, false;
  return true;
}

void SpanAttributes::BeginOther(std::string_view key) {
  if (!other_keys.empty()) other += ',';
  other_keys.push_back(key);
  other += "{\"key\":";
  AppendJsonString(other, key);
}

void SpanAttributes::Append(columnar::Batch& batch) {
  using namespace schema;  // NOLINT: column indexes
  columnar::ColumnData* maps[] = {&batch.column(kSpanAttributesString), &batch.column(kSpanAttributesInt),
                                  &batch.column(kSpanAttributesDouble), &batch.column(kSpanAttributesBool)};
  for (const auto& e : entries) {
    columnar::ColumnData& m = *maps[e.kind];
    m.MapKeys().AppendString(e.key);
    switch (e.kind) {
      case kString: m.MapValues().AppendString(e.str); break;
      case kDouble: m.MapValues().AppendDouble(e.d); break;
      default: m.MapValues().AppendInt(e.i); break;
    }
  }
  for (auto* m : maps) m->EndMap();
  other += ']';
  batch.column(kSpanAttributesOther).AppendString(other);
}

}  // namespace signaldb::otlp
