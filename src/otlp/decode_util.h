// Pieces shared by the OTLP decoders: time columns, resource and scope
// columns, id checks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "columnar/batch.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"

namespace signaldb::otlp {

inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

inline constexpr int64_t kMicrosPerDay = 86400LL * 1000 * 1000;
inline constexpr int64_t kMicrosPerHour = 3600LL * 1000 * 1000;

inline bool AllZero(const std::string& id) {
  for (char c : id) {
    if (c != 0) return false;
  }
  return true;
}

inline void AppendOptionalString(columnar::ColumnData& col, const std::string& v) {
  if (v.empty()) col.AppendNull();
  else col.AppendString(v);
}

// The partition columns derived from a nanosecond time: microsecond
// timestamp, UTC day and UTC hour of day.
struct TimeParts {
  int64_t micros;
  int64_t day;
  int64_t hour;
};
inline TimeParts SplitTime(uint64_t unix_nano) {
  int64_t micros = FloorDiv(static_cast<int64_t>(unix_nano), 1000);
  int64_t day = FloorDiv(micros, kMicrosPerDay);
  return {micros, day, FloorDiv(micros, kMicrosPerHour) - day * 24};
}

// Resource and scope columns, encoded once per resource / scope and copied
// into every row under them.
struct ContextColumns {
  std::string service_name;
  std::string resource_attributes;
  int64_t resource_dropped = 0;
  std::string resource_schema_url;
  std::string scope_name;
  std::string scope_version;
  std::string scope_attributes;
  int64_t scope_dropped = 0;
  std::string scope_schema_url;

  void SetResource(const opentelemetry::proto::resource::v1::Resource& r, const std::string& schema_url);
  void SetScope(const opentelemetry::proto::common::v1::InstrumentationScope& s, const std::string& schema_url);
  // Appends the context columns (found by name in the batch's schema).
  void Append(columnar::Batch& batch) const;
};

// One span's attributes as the traces table stores them: string, int, double
// and bool values in the typed map columns, every other kind (bytes, arrays,
// key-value lists, no value) as an OTLP JSON list in span_attributes_other.
// Keys are unique, as OTLP requires: a repeated key keeps its first value and
// the repeats count as dropped attributes. Views point into the request.
struct SpanAttributes {
  enum Kind : uint8_t { kString, kInt, kDouble, kBool };
  struct Entry {
    std::string_view key;
    Kind kind;
    std::string_view str;
    int64_t i = 0;  // int, or bool as 0/1
    double d = 0;
  };
  std::vector<Entry> entries;
  std::vector<std::string_view> other_keys;
  std::string other = "[";  // OTLP JSON list, closed by Append
  uint32_t repeated = 0;
  uint32_t limit_dropped = 0;  // beyond the attribute count limit
  // One bit per key seen, chosen by a cheap hash: a key whose bit is clear
  // cannot be a repeat, so most keys skip the comparisons.
  uint64_t key_bits = 0;
  // Keys seen, once a span has more than a few (a linear scan is faster
  // below that, and a quadratic one is a denial of service above it).
  std::unordered_set<std::string_view> seen;

  void Clear();
  // False (and counted) when the key was already seen.
  bool Add(std::string_view key);
  // Starts the JSON of a non-primitive attribute in `other`: `{"key":...,`.
  void BeginOther(std::string_view key);
  // The span's dropped_attributes_count plus the repeats and those over the
  // count limit, at most what the uint32 field can hold.
  int64_t DroppedCount(uint64_t sent) const {
    return static_cast<int64_t>(std::min<uint64_t>(sent + repeated + limit_dropped, UINT32_MAX));
  }
  // Appends the five traces columns of the row.
  void Append(columnar::Batch& batch);
};

}  // namespace signaldb::otlp
