// Parquet's RLE / bit-packing hybrid encoding, which carries repetition and
// definition levels and dictionary indices (parquet-format Encodings.md):
//
//   encoded   := run*
//   run       := rle-run | bit-packed-run
//   rle-run   := varint(count << 1) value     value: ceil(bit_width / 8)
//                                              bytes, little endian
//   bit-packed-run := varint(groups << 1 | 1) groups * bit_width bytes
//                                              (8 values per group, packed
//                                              from the least significant
//                                              bit of the first byte)
//
// Runs of 8 or more equal values become RLE runs; everything else is bit
// packed. Only the last bit-packed run may be padded (with zeros) to a
// whole group; readers know the real count from the page header.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace signaldb::parquet {

// Bits needed to store values up to `max_value` (0 for 0).
int BitWidth(uint64_t max_value);

// Appends the hybrid encoding of `values[0, n)` (each below 2^bit_width;
// bit_width 1..32) to `out`, without a length prefix.
void EncodeRleHybrid(const uint8_t* values, size_t n, int bit_width, std::string* out);
void EncodeRleHybrid(const uint32_t* values, size_t n, int bit_width, std::string* out);

// Appends levels as a data page (v1) stores them: a 4-byte little-endian
// byte length, then the hybrid encoding.
void EncodeLevels(const uint8_t* levels, size_t n, int bit_width, std::string* out);

}  // namespace signaldb::parquet
