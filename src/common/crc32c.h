// CRC32C (Castagnoli), used to frame WAL records. Masked form as in LevelDB's
// log format, so a CRC stored inside checksummed data does not self-validate.
#pragma once

#include <cstdint>
#include <string_view>

namespace signaldb::crc32c {

// Extends `crc` (the CRC of some prefix) with `data`.
uint32_t Extend(uint32_t crc, std::string_view data);
inline uint32_t Value(std::string_view data) { return Extend(0, data); }

constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace signaldb::crc32c
