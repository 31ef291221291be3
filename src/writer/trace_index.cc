#include "writer/trace_index.h"

#include <algorithm>
#include <cstring>

#include "common/bytes.h"
#include "common/crc32c.h"
#include "common/strings.h"

namespace signaldb::writer {
namespace {

constexpr std::string_view kMagic = "SDBTIDX1";
constexpr uint32_t kNumHashes = 11;  // with 16 bits per key: about 0.05% false positives
constexpr uint64_t kBitsPerKey = 16;
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 8;

uint64_t Mix(uint64_t x) {
  // A 64-bit finalizer (as in splitmix64): every input bit affects every output bit.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Two independent 64-bit hashes of the key's bytes, for double hashing.
std::pair<uint64_t, uint64_t> Hash(std::string_view key) {
  uint64_t a = 0x243f6a8885a308d3ULL ^ key.size(), b = 0x13198a2e03707344ULL;
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, key.data() + i, 8);
    a = Mix(a ^ w);
    b = Mix(b + w + 0x9e3779b97f4a7c15ULL);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, key.data() + i, key.size() - i);
  a = Mix(a ^ tail ^ 0xa4093822299f31d0ULL);
  b = Mix(b + tail + 0x082efa98ec4e6c89ULL);
  return {a, b | 1};
}

template <typename T>
T Get(std::string_view bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof(T));
  return v;
}

}  // namespace

TraceIndex TraceIndex::Build(const std::vector<std::string_view>& keys) {
  std::vector<std::pair<uint64_t, uint64_t>> hashes;
  hashes.reserve(keys.size());
  for (auto k : keys) hashes.push_back(Hash(k));
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  TraceIndex index;
  index.num_hashes_ = kNumHashes;
  index.num_keys_ = hashes.size();
  const uint64_t words = std::max<uint64_t>(1, (hashes.size() * kBitsPerKey + 63) / 64);
  index.bits_.assign(words, 0);
  const uint64_t m = words * 64;
  for (auto [h1, h2] : hashes) {
    for (uint32_t i = 0; i < kNumHashes; ++i) {
      uint64_t bit = (h1 + i * h2) % m;
      index.bits_[bit / 64] |= 1ULL << (bit % 64);
    }
  }
  return index;
}

bool TraceIndex::MayContain(std::string_view key) const {
  if (bits_.empty()) return true;
  auto [h1, h2] = Hash(key);
  const uint64_t m = bits_.size() * 64;
  for (uint32_t i = 0; i < num_hashes_; ++i) {
    uint64_t bit = (h1 + i * h2) % m;
    if (!(bits_[bit / 64] & (1ULL << (bit % 64)))) return false;
  }
  return true;
}

std::string TraceIndex::Serialize() const {
  std::string out(kMagic);
  AppendFixed<uint32_t>(out, num_hashes_);
  AppendFixed<uint32_t>(out, 0);
  AppendFixed<uint64_t>(out, bits_.size() * 64);
  AppendFixed<uint64_t>(out, num_keys_);
  out.append(reinterpret_cast<const char*>(bits_.data()), bits_.size() * 8);
  AppendFixed<uint32_t>(out, crc32c::Value(out));
  return out;
}

absl::StatusOr<TraceIndex> TraceIndex::Parse(std::string_view bytes) {
  if (bytes.size() < kHeaderSize + 4 || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("not a trace index (bad magic or too short)");
  }
  const uint32_t hashes = Get<uint32_t>(bytes, 8);
  const uint64_t bits = Get<uint64_t>(bytes, 16);
  const uint64_t keys = Get<uint64_t>(bytes, 24);
  if (hashes == 0 || hashes > 32 || bits == 0 || bits % 64 != 0 || bytes.size() != kHeaderSize + bits / 8 + 4) {
    return absl::DataLossError("trace index header is inconsistent with its size");
  }
  if (crc32c::Value(bytes.substr(0, bytes.size() - 4)) != Get<uint32_t>(bytes, bytes.size() - 4)) {
    return absl::DataLossError("trace index checksum mismatch");
  }
  TraceIndex index;
  index.num_hashes_ = hashes;
  index.num_keys_ = keys;
  index.bits_.resize(bits / 64);
  std::memcpy(index.bits_.data(), bytes.data() + kHeaderSize, bits / 8);
  return index;
}

std::string TraceIndexPath(const std::string& data_file_path) {
  std::string base = EndsWith(data_file_path, ".parquet")
                         ? data_file_path.substr(0, data_file_path.size() - std::string_view(".parquet").size())
                         : data_file_path;
  return base + ".tidx";
}

}  // namespace signaldb::writer
