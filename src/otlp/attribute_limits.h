// Attribute limits as the wire decoders apply them while they decode (the
// per-tenant max_attributes_per_record / max_attribute_value_length /
// attribute_limit_action of the config, handed down by the acceptor).
//
// What a limit covers:
//  - The count limit applies to each attribute list on its own: a span's, each
//    of its events' and links', a log record's, a data point's, each of its
//    exemplars' filtered attributes, a resource's and a scope's. Entries of a
//    kvlist value are not attributes and are not counted. Span attributes are
//    counted after repeated keys are dropped; other lists as sent.
//  - The length limit applies to every string value (UTF-8, cut at a
//    character boundary), every bytes value (cut at the byte), and every key,
//    at any depth: strings inside array and kvlist values are stored as text
//    too, so they are cut one by one.
//  - Metric metadata, log bodies, span names and the like are not attributes
//    and are not limited here (the request size limit bounds them).
//
// Truncating keeps the first N attributes of a list, in the order sent, and
// cuts long strings; dropped attributes are added to the list's
// dropped_attributes_count where OTLP has one (spans, events, links, log
// records, resources, scopes). Rejecting drops the whole record (span, log
// record, data point) when any of its lists, or its resource's or scope's,
// is over a limit.
//
// Thread-safety: plain values and stateless functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace signaldb::otlp {

struct AttributeLimits {
  uint64_t max_attributes = 0;    // per attribute list; 0: no limit
  uint64_t max_value_length = 0;  // bytes of a string or bytes value, or of a key; 0: no limit
  bool reject = false;            // over a limit: reject the record instead of truncating it
  bool active() const { return max_attributes != 0 || max_value_length != 0; }
  friend bool operator==(const AttributeLimits&, const AttributeLimits&) = default;
};

// The first bytes of `s` (valid UTF-8), at most `max` of them, ending on a
// character boundary.
inline std::string_view CutUtf8(std::string_view s, uint64_t max) {
  if (s.size() <= max) return s;
  size_t n = static_cast<size_t>(max);
  // Back off from continuation bytes (10xxxxxx) to the start of a character.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace signaldb::otlp
