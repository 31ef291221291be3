#include "parquet/column_chunk.h"

#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/status_macros.h"
#include "common/strings.h"
#include "parquet/rle.h"

namespace signaldb::parquet {
namespace {

using columnar::ColumnData;
using columnar::ColumnType;

// String bounds longer than this are not stored exactly: the lower bound is
// cut to a prefix (still <= every value), the upper bound is left out.
constexpr size_t kMaxBoundBytes = 128;

constexpr uint32_t kNone = UINT32_MAX;

template <typename T>
std::string Bytes(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));  // little endian (x86-64, aarch64)
  return s;
}

void AppendPlainString(std::string_view v, std::string* out) {
  const uint32_t len = static_cast<uint32_t>(v.size());
  const size_t at = out->size();
  out->resize(at + 4 + v.size());
  std::memcpy(out->data() + at, &len, 4);
  std::memcpy(out->data() + at + 4, v.data(), v.size());
}

// The longest prefix of `v` of at most `n` bytes that ends on a UTF-8
// character boundary.
std::string_view Utf8Prefix(std::string_view v, size_t n) {
  if (v.size() <= n) return v;
  while (n > 0 && (static_cast<uint8_t>(v[n]) & 0xC0) == 0x80) --n;
  return v.substr(0, n);
}

}  // namespace

ChunkEncoder::ChunkEncoder(const WriteOptions& options)
    : options_(options), zstd_(ZSTD_createCCtx()) {}

ChunkEncoder::~ChunkEncoder() { ZSTD_freeCCtx(zstd_); }

namespace {

// Top-level column: one definition level per row, the non-null values
// appended to `values` by `get(column, batch, row)`. Sized up front: this
// loop runs once per row and column of every flush.
template <typename T, typename Get>
void GatherFlat(const std::vector<const ColumnData*>& columns,
                std::span<const columnar::RowRef> rows, std::vector<uint8_t>* def,
                std::vector<T>* values, Get get) {
  def->resize(rows.size());
  values->resize(rows.size());
  uint8_t* d = def->data();
  T* v = values->data();
  for (const auto& ref : rows) {
    const ColumnData& c = *columns[ref.batch];
    const uint8_t valid = c.valid[ref.row] != 0 ? 1 : 0;
    *d++ = valid;
    *v = get(c, ref.batch, ref.row);
    v += valid;
  }
  values->resize(static_cast<size_t>(v - values->data()));
}

// A map leaf: one entry per key/value pair; a null or empty map is one
// entry without a value (definition level 0 or 1). The first entry of a row
// has repetition level 0, the others 1.
template <typename T, typename Get>
void GatherMap(const std::vector<const ColumnData*>& columns,
               std::span<const columnar::RowRef> rows, int child, uint8_t present,
               std::vector<uint8_t>* def, std::vector<uint8_t>* rep, std::vector<T>* values,
               Get get) {
  size_t entries = 0;
  for (const auto& ref : rows) {
    const ColumnData& m = *columns[ref.batch];
    entries += std::max<uint32_t>(1, m.entry_offsets[ref.row + 1] - m.entry_offsets[ref.row]);
  }
  def->resize(entries);
  rep->resize(entries);
  values->resize(entries);
  uint8_t* d = def->data();
  uint8_t* r = rep->data();
  T* v = values->data();
  for (const auto& ref : rows) {
    const ColumnData& m = *columns[ref.batch];
    const uint32_t begin = m.entry_offsets[ref.row], end = m.entry_offsets[ref.row + 1];
    if (begin == end) {
      *d++ = m.valid[ref.row] != 0 ? 1 : 0;
      *r++ = 0;
      continue;
    }
    const ColumnData& c = m.children[static_cast<size_t>(child)];
    for (uint32_t e = begin; e < end; ++e) {
      *r++ = e == begin ? 0 : 1;
      const bool valid = c.valid[e] != 0;
      *d++ = valid ? present : 2;  // 2: the entry exists, its value is null
      *v = get(c, ref.batch, e);
      v += valid ? 1 : 0;
    }
  }
  values->resize(static_cast<size_t>(v - values->data()));
}

}  // namespace

void ChunkEncoder::GatherIds(const Leaf& leaf, const std::vector<const ColumnData*>& columns,
                             std::span<const columnar::RowRef> rows,
                             const FileDictionary& dictionary) {
  // The ids carry the nulls (kNull), so one load per value tells both.
  constexpr uint32_t kNull = FileDictionary::kNull;
  if (leaf.child < 0) {
    def_.resize(rows.size());
    indices_.resize(rows.size());
    uint8_t* d = def_.data();
    uint32_t* v = indices_.data();
    for (const auto& ref : rows) {
      const uint32_t id = dictionary.ids(ref.batch)[ref.row];
      const uint8_t valid = id != kNull ? 1 : 0;
      *d++ = valid;
      *v = id;
      v += valid;
    }
    indices_.resize(static_cast<size_t>(v - indices_.data()));
    return;
  }
  GatherMap(columns, rows, leaf.child, leaf.max_def, &def_, &rep_, &indices_,
            [&dictionary](const ColumnData&, size_t b, size_t i) { return dictionary.id(b, i); });
}

void ChunkEncoder::Gather(const Leaf& leaf, const std::vector<const ColumnData*>& columns,
                          std::span<const columnar::RowRef> rows,
                          const FileDictionary* dictionary) {
  def_.clear();
  rep_.clear();
  ints_.clear();
  doubles_.clear();
  strings_.clear();
  indices_.clear();
  auto gather = [&](auto* values, auto get) {
    if (leaf.child < 0) {
      GatherFlat(columns, rows, &def_, values, get);
    } else {
      GatherMap(columns, rows, leaf.child, leaf.max_def, &def_, &rep_, values, get);
    }
  };
  if (dictionary != nullptr) {
    GatherIds(leaf, columns, rows, *dictionary);
    return;
  }
  switch (leaf.value_type) {
    case ColumnType::kString:
      gather(&strings_, [](const ColumnData& c, size_t, size_t i) {
        return std::string_view(c.bytes.data() + c.offsets[i], c.offsets[i + 1] - c.offsets[i]);
      });
      return;
    case ColumnType::kDouble:
      gather(&doubles_, [](const ColumnData& c, size_t, size_t i) { return c.doubles[i]; });
      return;
    default:
      gather(&ints_, [](const ColumnData& c, size_t, size_t i) { return c.ints[i]; });
      return;
  }
}

void ChunkEncoder::LocalizeDictionary(const FileDictionary& dictionary) {
  dict_.clear();
  if (local_of_.size() < dictionary.size()) local_of_.resize(dictionary.size(), kNone);
  std::vector<uint32_t> used;  // file ids, in chunk-id order
  for (uint32_t& id : indices_) {
    uint32_t& local = local_of_[id];
    if (local == kNone) {
      local = static_cast<uint32_t>(used.size());
      used.push_back(id);
    }
    id = local;
  }
  dict_.reserve(used.size());
  for (uint32_t id : used) {
    dict_.push_back(dictionary.value(id));
    local_of_[id] = kNone;
  }
}

bool ChunkEncoder::BuildIntDictionary() {
  int_dict_.clear();
  indices_.clear();
  const size_t n = ints_.size();
  if (n == 0) return false;
  // Pays when a value takes a few bits instead of 4 or 8 bytes.
  const size_t limit = std::max<size_t>(16, n / 8);
  size_t slots = 64;
  while (slots < 2 * limit) slots *= 2;
  int_keys_.resize(slots);
  int_slots_.assign(slots, 0);
  indices_.resize(n);
  const size_t mask = slots - 1;
  int64_t prev = 0;
  uint32_t prev_id = UINT32_MAX;
  for (size_t i = 0; i < n; ++i) {
    const int64_t v = ints_[i];
    if (prev_id != UINT32_MAX && v == prev) {
      indices_[i] = prev_id;
      continue;
    }
    size_t h = static_cast<size_t>((static_cast<uint64_t>(v) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    while (int_slots_[h] != 0 && int_keys_[h] != v) h = (h + 1) & mask;
    if (int_slots_[h] == 0) {
      if (int_dict_.size() == limit) {
        indices_.clear();
        int_dict_.clear();
        return false;
      }
      int_keys_[h] = v;
      int_dict_.push_back(v);
      int_slots_[h] = static_cast<uint32_t>(int_dict_.size());
    }
    prev = v;
    prev_id = indices_[i] = int_slots_[h] - 1;
  }
  return true;
}

void ChunkEncoder::ComputeStatistics(const Leaf& leaf, bool dictionary, Statistics* stats) const {
  if (leaf.child < 0) stats->null_count = static_cast<int64_t>(def_.size() - num_values_);
  switch (leaf.value_type) {
    case ColumnType::kString: {
      const auto& values = dictionary ? dict_ : strings_;
      if (values.empty()) return;
      auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      if (lo->size() <= kMaxBoundBytes) {
        stats->min_value = std::string(*lo);
      } else {
        stats->min_value = std::string(Utf8Prefix(*lo, kMaxBoundBytes));
        stats->min_exact = false;
      }
      if (hi->size() <= kMaxBoundBytes) stats->max_value = std::string(*hi);
      return;
    }
    case ColumnType::kDouble: {
      bool any = false;
      double lo = 0, hi = 0;
      for (double d : doubles_) {
        // DuckDB orders NaN above every number, so bounds that leave NaN
        // out would let it prune a row group holding NaN from `d > x`. As
        // DuckDB's own writer does, a chunk with NaN gets no bounds.
        if (std::isnan(d)) return;
        if (!any) {
          lo = hi = d;
          any = true;
        } else {
          lo = std::min(lo, d);
          hi = std::max(hi, d);
        }
      }
      if (!any) return;
      // The format asks for -0.0 as a zero lower bound and +0.0 as a zero upper bound.
      if (lo == 0) lo = -0.0;
      if (hi == 0) hi = 0.0;
      stats->min_value = Bytes(lo);
      stats->max_value = Bytes(hi);
      stats->legacy_bounds = true;
      return;
    }
    default: {
      if (ints_.empty()) return;
      auto [lo, hi] = std::minmax_element(ints_.begin(), ints_.end());
      if (leaf.physical == Type::kInt32) {
        stats->min_value = Bytes(static_cast<int32_t>(*lo));
        stats->max_value = Bytes(static_cast<int32_t>(*hi));
      } else if (leaf.physical == Type::kBoolean) {
        stats->min_value = std::string(1, *lo != 0 ? '\1' : '\0');
        stats->max_value = std::string(1, *hi != 0 ? '\1' : '\0');
      } else {
        stats->min_value = Bytes(*lo);
        stats->max_value = Bytes(*hi);
      }
      stats->legacy_bounds = true;
      return;
    }
  }
}

absl::Status ChunkEncoder::Encode(const Leaf& leaf, const std::vector<const ColumnData*>& columns,
                                  std::span<const columnar::RowRef> rows,
                                  const FileDictionary* dictionary, EncodedChunk* out) {
  out->bytes.clear();
  out->meta = ColumnMetaData{};
  Gather(leaf, columns, rows, dictionary);
  num_values_ = ints_.size() + doubles_.size() + strings_.size() + indices_.size();
  dict_.clear();
  int_dict_.clear();
  if (dictionary != nullptr) LocalizeDictionary(*dictionary);
  bool dict = dictionary != nullptr;
  if (options_.dictionary && (leaf.physical == Type::kInt32 || leaf.physical == Type::kInt64)) {
    dict = BuildIntDictionary();
  }
  // A chunk whose values are all null has nothing to put in a dictionary.
  dict = dict && DictionarySize() > 0;
  ColumnMetaData& m = out->meta;
  m.type = leaf.physical;
  m.path_in_schema = leaf.path;
  m.codec = options_.compression_level > 0 ? Codec::kZstd : Codec::kUncompressed;
  m.num_values = static_cast<int64_t>(def_.size());
  m.encodings =
      dict ? std::vector<Encoding>{Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary}
           : std::vector<Encoding>{Encoding::kPlain, Encoding::kRle};
  ComputeStatistics(leaf, dict, &m.statistics);
  return WritePages(leaf, dict, out);
}

absl::Status ChunkEncoder::AppendPage(PageHeader header, const std::string& body,
                                      EncodedChunk* chunk) {
  const std::string* data = &body;
  if (options_.compression_level > 0) {
    compressed_.resize(ZSTD_compressBound(body.size()));
    const size_t n = ZSTD_compressCCtx(zstd_, compressed_.data(), compressed_.size(), body.data(),
                                       body.size(), options_.compression_level);
    if (ZSTD_isError(n)) return absl::InternalError(StrCat("zstd: ", ZSTD_getErrorName(n)));
    compressed_.resize(n);
    data = &compressed_;
  }
  if (body.size() > INT32_MAX || data->size() > INT32_MAX)
    return absl::InvalidArgumentError("Parquet page over 2 GiB");
  header.uncompressed_page_size = static_cast<int32_t>(body.size());
  header.compressed_page_size = static_cast<int32_t>(data->size());
  const size_t before = chunk->bytes.size();
  Serialize(header, &chunk->bytes);
  const int64_t header_size = static_cast<int64_t>(chunk->bytes.size() - before);
  chunk->bytes.append(*data);
  chunk->meta.total_uncompressed_size += header_size + static_cast<int64_t>(body.size());
  chunk->meta.total_compressed_size += header_size + static_cast<int64_t>(data->size());
  return absl::OkStatus();
}

void ChunkEncoder::AppendValues(const Leaf& leaf, bool dictionary, size_t begin, size_t end,
                                std::string* page) const {
  if (dictionary) {
    const int width = std::max(1, BitWidth(DictionarySize() - 1));
    page->push_back(static_cast<char>(width));
    EncodeRleHybrid(indices_.data() + begin, end - begin, width, page);
    return;
  }
  switch (leaf.physical) {
    case Type::kByteArray: {
      size_t bytes = 0;
      for (size_t i = begin; i < end; ++i) bytes += 4 + strings_[i].size();
      size_t at = page->size();
      page->resize(at + bytes);
      char* out = page->data() + at;
      for (size_t i = begin; i < end; ++i) {
        const uint32_t len = static_cast<uint32_t>(strings_[i].size());
        std::memcpy(out, &len, 4);  // little endian (x86-64, aarch64)
        std::memcpy(out + 4, strings_[i].data(), len);
        out += 4 + len;
      }
      return;
    }
    case Type::kDouble:
      page->append(reinterpret_cast<const char*>(doubles_.data() + begin),
                   (end - begin) * sizeof(double));
      return;
    case Type::kInt64:
      page->append(reinterpret_cast<const char*>(ints_.data() + begin),
                   (end - begin) * sizeof(int64_t));
      return;
    case Type::kInt32: {
      const size_t at = page->size();
      page->resize(at + (end - begin) * 4);
      char* out = page->data() + at;
      for (size_t i = begin; i < end; ++i, out += 4) {
        const int32_t v = static_cast<int32_t>(ints_[i]);
        std::memcpy(out, &v, 4);
      }
      return;
    }
    case Type::kBoolean: {
      // PLAIN booleans: one bit each, least significant bit first.
      const size_t at = page->size();
      page->append((end - begin + 7) / 8, '\0');
      for (size_t i = begin; i < end; ++i) {
        if (ints_[i] != 0)
          (*page)[at + (i - begin) / 8] |= static_cast<char>(1 << ((i - begin) % 8));
      }
      return;
    }
  }
}

absl::Status ChunkEncoder::WritePages(const Leaf& leaf, bool dictionary, EncodedChunk* out) {
  if (dictionary) {
    page_.clear();
    for (std::string_view v : dict_) AppendPlainString(v, &page_);
    for (int64_t v : int_dict_) {
      if (leaf.physical == Type::kInt32) {
        const int32_t x = static_cast<int32_t>(v);
        page_.append(reinterpret_cast<const char*>(&x), 4);
      } else {
        page_.append(reinterpret_cast<const char*>(&v), 8);
      }
    }
    PageHeader h;
    h.type = PageType::kDictionaryPage;
    h.dictionary.num_values = static_cast<int32_t>(DictionarySize());
    out->meta.dictionary_page_offset = 0;
    RETURN_IF_ERROR(AppendPage(h, page_, out));
  }
  out->meta.data_page_offset = static_cast<int64_t>(out->bytes.size());
  const size_t n = def_.size();
  // Bytes a value adds to a page (for cutting pages): plain strings their
  // length, others a fixed estimate.
  const bool plain_strings = !dictionary && leaf.physical == Type::kByteArray;
  const size_t fixed_bytes = dictionary                          ? 2
                             : leaf.physical == Type::kInt32     ? 4
                             : leaf.physical == Type::kBoolean   ? 1
                             : leaf.physical == Type::kByteArray ? 4
                                                                 : 8;
  size_t entry = 0, value = 0;
  do {
    const size_t first_entry = entry, first_value = value;
    size_t bytes = 0;
    while (entry < n) {
      if (def_[entry] == leaf.max_def) {
        bytes += fixed_bytes + (plain_strings ? strings_[value].size() : 0);
        ++value;
      }
      ++entry;
      const bool row_boundary = leaf.max_rep == 0 || entry == n || rep_[entry] == 0;
      if (row_boundary &&
          (bytes >= options_.page_bytes || entry - first_entry >= options_.page_values))
        break;
    }
    page_.clear();
    if (leaf.max_rep > 0)
      EncodeLevels(rep_.data() + first_entry, entry - first_entry, BitWidth(leaf.max_rep), &page_);
    EncodeLevels(def_.data() + first_entry, entry - first_entry, BitWidth(leaf.max_def), &page_);
    AppendValues(leaf, dictionary, first_value, value, &page_);
    PageHeader h;
    h.type = PageType::kDataPage;
    h.data.num_values = static_cast<int32_t>(entry - first_entry);
    h.data.encoding = dictionary ? Encoding::kRleDictionary : Encoding::kPlain;
    RETURN_IF_ERROR(AppendPage(h, page_, out));
  } while (entry < n);
  return absl::OkStatus();
}

}  // namespace signaldb::parquet
