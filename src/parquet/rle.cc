#include "parquet/rle.h"

#include <cstring>

#include "common/bytes.h"

namespace signaldb::parquet {
namespace {

// Bit-packs values[0, n) as ceil(n / 8) groups, zero padded.
template <typename T>
void WritePacked(const T* values, size_t n, int bit_width, std::string* out) {
  const size_t groups = (n + 7) / 8;
  AppendVarint(*out, (groups << 1) | 1);
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < groups * 8; ++i) {
    const uint64_t v = i < n ? static_cast<uint64_t>(values[i]) : 0;
    acc |= v << bits;
    bits += bit_width;
    while (bits >= 8) {
      out->push_back(static_cast<char>(acc & 0xFF));
      acc >>= 8;
      bits -= 8;
    }
  }
  // 8 values always fill whole bytes, so nothing is left over.
}

void WriteRun(uint64_t value, size_t count, int bit_width, std::string* out) {
  AppendVarint(*out, static_cast<uint64_t>(count) << 1);
  for (int b = 0; b < (bit_width + 7) / 8; ++b)
    out->push_back(static_cast<char>((value >> (8 * b)) & 0xFF));
}

template <typename T>
void Encode(const T* v, size_t n, int bit_width, std::string* out) {
  size_t literal_start = 0;  // first value not yet written
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && v[j] == v[i]) ++j;
    // Pending literals [literal_start, i) must be a whole number of groups
    // before a run can follow them: top them up from the run.
    const size_t fill = (8 - (i - literal_start) % 8) % 8;
    if (j - i >= fill + 8) {
      const size_t literal_end = i + fill;
      if (literal_end > literal_start)
        WritePacked(v + literal_start, literal_end - literal_start, bit_width, out);
      WriteRun(static_cast<uint64_t>(v[i]), j - literal_end, bit_width, out);
      literal_start = j;
    }
    i = j;
  }
  if (literal_start < n) WritePacked(v + literal_start, n - literal_start, bit_width, out);
}

}  // namespace

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

void EncodeRleHybrid(const uint8_t* values, size_t n, int bit_width, std::string* out) {
  Encode(values, n, bit_width, out);
}

void EncodeRleHybrid(const uint32_t* values, size_t n, int bit_width, std::string* out) {
  Encode(values, n, bit_width, out);
}

void EncodeLevels(const uint8_t* levels, size_t n, int bit_width, std::string* out) {
  const size_t at = out->size();
  out->append(4, '\0');
  Encode(levels, n, bit_width, out);
  const uint32_t len = static_cast<uint32_t>(out->size() - at - 4);
  std::memcpy(out->data() + at, &len, 4);  // little endian (x86-64, aarch64)
}

}  // namespace signaldb::parquet
