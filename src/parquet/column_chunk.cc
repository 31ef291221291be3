#include "parquet/column_chunk.h"

#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_map.h"
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

// A dictionary pays when the values repeat: give up once more than this
// share of the values seen are distinct, or the dictionary grows past
// kMaxDictionaryBytes.
constexpr double kMaxDistinctShare = 0.6;
constexpr size_t kDictionaryProbe = 2048;  // values seen before the share is judged
constexpr size_t kMaxDictionaryBytes = 8 << 20;

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

ChunkEncoder::ChunkEncoder(const WriteOptions& options) : options_(options), zstd_(ZSTD_createCCtx()) {}

ChunkEncoder::~ChunkEncoder() { ZSTD_freeCCtx(zstd_); }

void ChunkEncoder::Gather(const Leaf& leaf, const std::vector<const ColumnData*>& columns,
                          std::span<const columnar::RowRef> rows) {
  def_.clear();
  rep_.clear();
  ints_.clear();
  doubles_.clear();
  strings_.clear();
  auto push_value = [&](const ColumnData& c, size_t i) {
    switch (leaf.value_type) {
      case ColumnType::kString: strings_.push_back(c.StringAt(i)); break;
      case ColumnType::kDouble: doubles_.push_back(c.doubles[i]); break;
      default: ints_.push_back(c.ints[i]); break;
    }
  };
  if (leaf.child < 0) {
    def_.reserve(rows.size());
    for (const auto& ref : rows) {
      const ColumnData& c = *columns[ref.batch];
      const bool valid = c.valid[ref.row] != 0;
      def_.push_back(valid ? 1 : 0);
      if (valid) push_value(c, ref.row);
    }
    return;
  }
  // A map leaf: one entry per key/value pair; a null or empty map is one
  // entry without a value (definition level 0 or 1). The first entry of a
  // row has repetition level 0, the others 1.
  const uint8_t present = leaf.max_def;
  for (const auto& ref : rows) {
    const ColumnData& m = *columns[ref.batch];
    if (m.valid[ref.row] == 0) {
      def_.push_back(0);
      rep_.push_back(0);
      continue;
    }
    const uint32_t begin = m.entry_offsets[ref.row], end = m.entry_offsets[ref.row + 1];
    if (begin == end) {
      def_.push_back(1);
      rep_.push_back(0);
      continue;
    }
    const ColumnData& c = m.children[static_cast<size_t>(leaf.child)];
    for (uint32_t e = begin; e < end; ++e) {
      rep_.push_back(e == begin ? 0 : 1);
      if (c.valid[e] != 0) {
        def_.push_back(present);
        push_value(c, e);
      } else {
        def_.push_back(2);  // the entry exists, its value is null
      }
    }
  }
}

bool ChunkEncoder::BuildDictionary() {
  dict_.clear();
  indices_.clear();
  const size_t n = strings_.size();
  if (n == 0) return false;
  indices_.reserve(n);
  absl::flat_hash_map<std::string_view, uint32_t> ids;
  size_t bytes = 0;
  uint32_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view v = strings_[i];
    // Sorted and batched rows often repeat the previous value.
    if (i > 0 && v == strings_[i - 1]) {
      indices_.push_back(last);
      continue;
    }
    auto [it, added] = ids.try_emplace(v, static_cast<uint32_t>(dict_.size()));
    if (added) {
      dict_.push_back(v);
      bytes += 4 + v.size();
      if (bytes > kMaxDictionaryBytes) return false;
      if (dict_.size() > kMaxDistinctShare * static_cast<double>(std::max(i + 1, std::min(n, kDictionaryProbe)))) {
        return false;
      }
    }
    last = it->second;
    indices_.push_back(last);
  }
  return true;
}

void ChunkEncoder::ComputeStatistics(const Leaf& leaf, bool dictionary, Statistics* stats) const {
  if (leaf.child < 0) stats->null_count = static_cast<int64_t>(def_.size() - (ints_.size() + doubles_.size() + strings_.size()));
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
                                  std::span<const columnar::RowRef> rows, EncodedChunk* out) {
  out->bytes.clear();
  out->meta = ColumnMetaData{};
  Gather(leaf, columns, rows);
  const bool dictionary =
      options_.dictionary && leaf.value_type == ColumnType::kString && BuildDictionary();
  ColumnMetaData& m = out->meta;
  m.type = leaf.physical;
  m.path_in_schema = leaf.path;
  m.codec = options_.compression_level > 0 ? Codec::kZstd : Codec::kUncompressed;
  m.num_values = static_cast<int64_t>(def_.size());
  m.encodings = dictionary ? std::vector<Encoding>{Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary}
                           : std::vector<Encoding>{Encoding::kPlain, Encoding::kRle};
  ComputeStatistics(leaf, dictionary, &m.statistics);
  return WritePages(leaf, dictionary, out);
}

absl::Status ChunkEncoder::AppendPage(PageHeader header, const std::string& body, EncodedChunk* chunk) {
  const std::string* data = &body;
  if (options_.compression_level > 0) {
    compressed_.resize(ZSTD_compressBound(body.size()));
    const size_t n = ZSTD_compressCCtx(zstd_, compressed_.data(), compressed_.size(), body.data(), body.size(),
                                       options_.compression_level);
    if (ZSTD_isError(n)) return absl::InternalError(StrCat("zstd: ", ZSTD_getErrorName(n)));
    compressed_.resize(n);
    data = &compressed_;
  }
  if (body.size() > INT32_MAX || data->size() > INT32_MAX) return absl::InvalidArgumentError("Parquet page over 2 GiB");
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

void ChunkEncoder::AppendValues(const Leaf& leaf, bool dictionary, size_t begin, size_t end, std::string* page) const {
  if (dictionary) {
    const int width = std::max(1, BitWidth(dict_.size() - 1));
    page->push_back(static_cast<char>(width));
    EncodeRleHybrid(indices_.data() + begin, end - begin, width, page);
    return;
  }
  switch (leaf.physical) {
    case Type::kByteArray:
      for (size_t i = begin; i < end; ++i) AppendPlainString(strings_[i], page);
      return;
    case Type::kDouble:
      page->append(reinterpret_cast<const char*>(doubles_.data() + begin), (end - begin) * sizeof(double));
      return;
    case Type::kInt64:
      page->append(reinterpret_cast<const char*>(ints_.data() + begin), (end - begin) * sizeof(int64_t));
      return;
    case Type::kInt32:
      for (size_t i = begin; i < end; ++i) {
        const int32_t v = static_cast<int32_t>(ints_[i]);
        page->append(reinterpret_cast<const char*>(&v), 4);
      }
      return;
    case Type::kBoolean: {
      // PLAIN booleans: one bit each, least significant bit first.
      const size_t at = page->size();
      page->append((end - begin + 7) / 8, '\0');
      for (size_t i = begin; i < end; ++i) {
        if (ints_[i] != 0) (*page)[at + (i - begin) / 8] |= static_cast<char>(1 << ((i - begin) % 8));
      }
      return;
    }
  }
}

absl::Status ChunkEncoder::WritePages(const Leaf& leaf, bool dictionary, EncodedChunk* out) {
  if (dictionary) {
    page_.clear();
    for (std::string_view v : dict_) AppendPlainString(v, &page_);
    PageHeader h;
    h.type = PageType::kDictionaryPage;
    h.dictionary.num_values = static_cast<int32_t>(dict_.size());
    out->meta.dictionary_page_offset = 0;
    RETURN_IF_ERROR(AppendPage(h, page_, out));
  }
  out->meta.data_page_offset = static_cast<int64_t>(out->bytes.size());
  const size_t n = def_.size();
  // Bytes a value adds to a page (for cutting pages).
  auto value_bytes = [&](size_t v) -> size_t {
    if (dictionary) return 2;
    switch (leaf.physical) {
      case Type::kByteArray: return 4 + strings_[v].size();
      case Type::kInt32: return 4;
      case Type::kBoolean: return 1;
      default: return 8;
    }
  };
  size_t entry = 0, value = 0;
  do {
    const size_t first_entry = entry, first_value = value;
    size_t bytes = 0;
    while (entry < n) {
      if (def_[entry] == leaf.max_def) bytes += value_bytes(value++);
      ++entry;
      const bool row_boundary = leaf.max_rep == 0 || entry == n || rep_[entry] == 0;
      if (row_boundary && (bytes >= options_.page_bytes || entry - first_entry >= options_.page_values)) break;
    }
    page_.clear();
    if (leaf.max_rep > 0) EncodeLevels(rep_.data() + first_entry, entry - first_entry, BitWidth(leaf.max_rep), &page_);
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
