#include "otlp/wire.h"

#include <simdjson.h>

namespace signaldb::otlp::wire {

bool Reader::Skip(WireType type, uint32_t field, int depth) {
  uint64_t v64;
  uint32_t v32;
  std::string_view bytes;
  switch (type) {
    case kVarint: return Varint(&v64);
    case kFixed64: return Fixed64(&v64);
    case kFixed32: return Fixed32(&v32);
    case kLen: return Bytes(&bytes);
    case kStartGroup: {
      if (depth > 64) return false;
      while (!done()) {
        uint32_t f;
        WireType t;
        if (!Tag(&f, &t)) return false;
        if (t == kEndGroup) return f == field;
        if (!Skip(t, f, depth + 1)) return false;
      }
      return false;
    }
    default: return false;  // an end-group without its start
  }
}

bool ValidUtf8(std::string_view s) {
  // Plain ASCII is the common case; check it fast before the full validator.
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ULL) return simdjson::validate_utf8(s.data(), s.size());
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) & 0x80) return simdjson::validate_utf8(s.data(), s.size());
  }
  return true;
}

}  // namespace signaldb::otlp::wire
