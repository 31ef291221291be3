// Appending integers to byte strings: little-endian fixed width (the WAL,
// trace-id filters, protobuf fixed32/fixed64) and base-128 varints
// (protobuf, Thrift's compact protocol, Parquet's RLE runs), with zigzag for
// signed varints.
//
// Thread-safety: pure functions.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>

namespace signaldb {

// `v` in sizeof(T) bytes, least significant first.
template <std::unsigned_integral T>
inline void AppendFixed(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// `v` in 7-bit groups, least significant first, the high bit marking "more".
inline void AppendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Maps signed to unsigned so small magnitudes stay small: 0, -1, 1, -2 ... → 0, 1, 2, 3 ...
inline uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

}  // namespace signaldb
