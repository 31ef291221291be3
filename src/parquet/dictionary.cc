#include "parquet/dictionary.h"

#include <algorithm>
#include <cstring>

namespace signaldb::parquet {
namespace {

// Give up once more than this share of the values seen so far are
// distinct, judged after kProbe values (unique columns such as span ids
// stop early), or once the distinct values hold kMaxBytes.
constexpr double kMaxDistinctShare = 0.6;
constexpr size_t kProbe = 4096;
constexpr size_t kMaxBytes = 64 << 20;

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Equality, inline for the short strings most values are (a call to
// memcmp costs more than comparing them).
bool Equal(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n > 64) return std::memcmp(p, q, n) == 0;
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (Load64(p + i) != Load64(q + i)) return false;
    }
    return Load64(p + n - 8) == Load64(q + n - 8);
  }
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  const unsigned __int128 m =
      static_cast<unsigned __int128>(a ^ 0x9E3779B97F4A7C15ull) * (b ^ 0xD6E8FEB86659FD93ull);
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}

// A fast 64-bit string hash (multiply-fold over 8-byte words); only this
// table sees it, so it need not be stable or portable.
uint64_t HashString(std::string_view v) {
  const char* p = v.data();
  size_t n = v.size();
  uint64_t h = n * 0xA0761D6478BD642Full;
  while (n > 16) {
    h = Mix(Load64(p) ^ h, Load64(p + 8) ^ 0xE7037ED1A0B428DBull);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = Load64(p);
    b = Load64(p + n - 8);
  } else if (n > 0) {
    // 1..7 bytes: three overlapping byte reads cover them all.
    a = (static_cast<uint64_t>(static_cast<uint8_t>(p[0])) << 16) |
        (static_cast<uint64_t>(static_cast<uint8_t>(p[n / 2])) << 8) |
        static_cast<uint8_t>(p[n - 1]);
    if (n >= 4) {
      uint32_t x, y;
      std::memcpy(&x, p, 4);
      std::memcpy(&y, p + n - 4, 4);
      b = (static_cast<uint64_t>(x) << 32) | y;
    }
  }
  return Mix(a ^ h, b ^ 0x8EBC6AF09C88C6E3ull);
}

// Open addressing over ids; each slot holds id + 1 (0: empty) and the
// top bits of the value's hash, so most mismatches cost no string compare.
class IdTable {
 public:
  IdTable() : slots_(1024, 0) {}
  // The id of `v`, adding it as `next` when absent (*added says which).
  uint32_t FindOrAdd(std::string_view v, uint64_t hash, const std::vector<std::string_view>& values,
                     uint32_t next, bool* added) {
    const uint64_t tag = hash >> 40;  // 24 bits
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const uint64_t s = slots_[i];
      if (s == 0) {
        slots_[i] = (tag << 32) | (next + 1);
        hashes_.push_back(hash);
        *added = true;
        if (++used_ * 2 > slots_.size()) Grow();
        return next;
      }
      if ((s >> 32) == tag) {
        const uint32_t id = static_cast<uint32_t>(s) - 1;
        const std::string_view w = values[id];
        if (Equal(w, v)) {
          *added = false;
          return id;
        }
      }
    }
  }

 private:
  void Grow() {
    std::vector<uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (uint64_t s : old) {
      if (s == 0) continue;
      size_t i = hashes_[static_cast<uint32_t>(s) - 1] & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<uint64_t> slots_;
  std::vector<uint64_t> hashes_;  // by id
  size_t used_ = 0;
};

}  // namespace

std::unique_ptr<FileDictionary> FileDictionary::Build(
    const std::vector<const columnar::ColumnData*>& columns) {
  auto dict = std::unique_ptr<FileDictionary>(new FileDictionary());
  IdTable table;
  size_t seen = 0, bytes = 0;
  dict->ids_.resize(columns.size());
  for (size_t b = 0; b < columns.size(); ++b) {
    const columnar::ColumnData& c = *columns[b];
    const size_t n = c.size();
    std::vector<uint32_t>& out = dict->ids_[b];
    out.assign(n, kNull);
    const uint32_t* offsets = c.offsets.data();
    const char* data = c.bytes.data();
    bool have_prev = false;
    uint32_t prev_id = 0;
    std::string_view prev;
    for (size_t i = 0; i < n; ++i) {
      if (c.valid[i] == 0) continue;
      ++seen;
      const std::string_view v(data + offsets[i], offsets[i + 1] - offsets[i]);
      if (have_prev && Equal(v, prev)) {
        out[i] = prev_id;
        continue;
      }
      bool added;
      const uint32_t id = table.FindOrAdd(v, HashString(v), dict->values_,
                                          static_cast<uint32_t>(dict->values_.size()), &added);
      if (added) {
        dict->values_.push_back(v);
        bytes += v.size();
        if (bytes > kMaxBytes ||
            static_cast<double>(dict->values_.size()) >
                kMaxDistinctShare * static_cast<double>(std::max(seen, kProbe))) {
          return nullptr;
        }
      }
      out[i] = prev_id = id;
      prev = v;
      have_prev = true;
    }
  }
  if (dict->values_.empty()) return nullptr;
  return dict;
}

}  // namespace signaldb::parquet
