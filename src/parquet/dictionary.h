// Dictionary ids for one string leaf over every row of a file's batches,
// computed once per file and in the batches' own row order (sequential
// memory, and decoders write repeated values such as a resource's
// attributes on consecutive rows, so most values are found equal to the
// previous one without hashing). Each column chunk then maps these file
// ids to its own dense dictionary (Parquet dictionaries are per chunk).
// Internal to parquet/writer.
//
// Thread-safety: immutable once built.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "columnar/batch.h"

namespace signaldb::parquet {

class FileDictionary {
 public:
  // Ids for the string values of `columns[b]` (one string column per batch:
  // a top-level column or a map's keys or values). Null when the values
  // repeat too little for a dictionary to pay.
  static std::unique_ptr<FileDictionary> Build(
      const std::vector<const columnar::ColumnData*>& columns);

  // The id of value `i` (a row, or a map entry) of batch `b`, kNull for a
  // null value.
  static constexpr uint32_t kNull = UINT32_MAX;
  uint32_t id(size_t b, size_t i) const { return ids_[b][i]; }
  // Batch b's ids, indexed like its values.
  const uint32_t* ids(size_t b) const { return ids_[b].data(); }
  std::string_view value(uint32_t id) const { return values_[id]; }
  size_t size() const { return values_.size(); }

 private:
  FileDictionary() = default;
  std::vector<std::vector<uint32_t>> ids_;
  std::vector<std::string_view> values_;
};

}  // namespace signaldb::parquet
