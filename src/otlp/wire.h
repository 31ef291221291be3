// A minimal protobuf wire-format reader, for decoding OTLP requests straight
// into columnar batches without building message objects. It checks what
// libprotobuf checks: varint and length bounds, field number 0, UTF-8 in
// strings (proto3), and nesting depth.
//
// Thread-safety: a WireReader is a cursor over caller-owned bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace signaldb::otlp::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

class Reader {
 public:
  explicit Reader(std::string_view data)
      : p_(reinterpret_cast<const uint8_t*>(data.data())), end_(p_ + data.size()) {}

  bool done() const { return p_ >= end_; }

  // Reads the next tag; false at a malformed tag (check done() first).
  bool Tag(uint32_t* field, WireType* type) {
    uint64_t t;
    if (!Varint(&t) || t > UINT32_MAX) return false;
    *field = static_cast<uint32_t>(t >> 3);
    *type = static_cast<WireType>(t & 7);
    return *field != 0 && *type <= kFixed32;
  }

  bool Varint(uint64_t* v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ >= end_) return false;
      uint8_t b = *p_++;
      out |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = out;
        return true;
      }
    }
    return false;  // more than ten bytes
  }

  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }

  bool Fixed32(uint32_t* v) {
    if (end_ - p_ < 4) return false;
    std::memcpy(v, p_, 4);
    p_ += 4;
    return true;
  }

  bool Bytes(std::string_view* v) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *v = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }

  // Skips a field of `type` whose tag was just read (groups included).
  bool Skip(WireType type, uint32_t field, int depth = 0);

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// True when `s` is valid UTF-8 (what proto3 requires of string fields).
bool ValidUtf8(std::string_view s);

}  // namespace signaldb::otlp::wire
