// Encodes one column chunk (one leaf column of one row group) into Parquet
// pages: gathers the leaf's levels and values from the batches in row
// order, computes its statistics, dictionary encodes strings that repeat,
// and cuts, encodes and compresses the pages. Internal to parquet/writer.
//
// Thread-safety: a ChunkEncoder is used by one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "columnar/batch.h"
#include "parquet/dictionary.h"
#include "parquet/format.h"
#include "parquet/writer.h"

struct ZSTD_CCtx_s;

namespace signaldb::parquet {

// A leaf of the Parquet schema and where its data is in a batch.
struct Leaf {
  size_t column = 0;  // index in the columnar::Schema
  int child = -1;     // -1: the column itself; 0: a map's keys; 1: its values
  columnar::ColumnType value_type = columnar::ColumnType::kString;
  Type physical = Type::kByteArray;
  uint8_t max_def = 1;
  uint8_t max_rep = 0;
  std::vector<std::string> path;
};

struct EncodedChunk {
  std::string bytes;  // the pages, headers included
  // Offsets are relative to the start of `bytes`.
  ColumnMetaData meta;
};

class ChunkEncoder {
 public:
  explicit ChunkEncoder(const WriteOptions& options);
  ~ChunkEncoder();
  ChunkEncoder(const ChunkEncoder&) = delete;
  ChunkEncoder& operator=(const ChunkEncoder&) = delete;

  // `columns[b]` is the leaf's column (the map column for map leaves) in
  // batch b. `dictionary` (may be null) holds the file's ids of the leaf's
  // strings; with it the chunk is dictionary encoded.
  absl::Status Encode(const Leaf& leaf, const std::vector<const columnar::ColumnData*>& columns,
                      std::span<const columnar::RowRef> rows, const FileDictionary* dictionary,
                      EncodedChunk* out);

 private:
  // Fills the levels and the values (or, with a dictionary, the file ids in
  // indices_).
  void Gather(const Leaf& leaf, const std::vector<const columnar::ColumnData*>& columns,
              std::span<const columnar::RowRef> rows, const FileDictionary* dictionary);
  void GatherIds(const Leaf& leaf, const std::vector<const columnar::ColumnData*>& columns,
                 std::span<const columnar::RowRef> rows, const FileDictionary& dictionary);
  // Turns the file ids in indices_ into the chunk's own dense ids and fills
  // dict_ with the chunk's dictionary (in first-use order).
  void LocalizeDictionary(const FileDictionary& dictionary);
  // Integer chunks with few distinct values (constant columns, enums,
  // hours) are dictionary encoded too: fills int_dict_ and indices_; false
  // when the values are too varied.
  bool BuildIntDictionary();
  size_t DictionarySize() const { return dict_.size() + int_dict_.size(); }
  void ComputeStatistics(const Leaf& leaf, bool dictionary, Statistics* stats) const;
  // Cuts the chunk into pages and appends them to out->bytes.
  absl::Status WritePages(const Leaf& leaf, bool dictionary, EncodedChunk* out);
  void AppendValues(const Leaf& leaf, bool dictionary, size_t begin, size_t end,
                    std::string* page) const;
  // Compresses `body`, appends header + body to `chunk`; counts sizes.
  absl::Status AppendPage(PageHeader header, const std::string& body, EncodedChunk* chunk);

  const WriteOptions options_;
  ZSTD_CCtx_s* zstd_ = nullptr;
  // Scratch, reused across chunks.
  std::vector<uint8_t> def_, rep_;
  std::vector<int64_t> ints_;  // integers, timestamps, dates and booleans
  std::vector<double> doubles_;
  std::vector<std::string_view> strings_;
  std::vector<std::string_view> dict_;
  std::vector<uint32_t> indices_;
  std::vector<int64_t> int_dict_;
  std::vector<int64_t> int_keys_;    // BuildIntDictionary's hash table
  std::vector<uint32_t> int_slots_;  // id + 1; 0: empty
  size_t num_values_ = 0;            // non-null values in the chunk
  std::vector<uint32_t> local_of_;   // file id -> chunk id (kNone outside a chunk)
  std::string page_, compressed_;
};

}  // namespace signaldb::parquet
