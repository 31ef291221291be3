// Parquet file metadata as this writer produces it: the subset of the
// format's Thrift definitions (parquet-format, src/main/thrift/parquet.thrift)
// that a flat-or-map table needs, and its serialization with the Thrift
// compact protocol. Field numbers and enum values are facts of the format;
// docs/parquet-writer.md lists the ones used and the file layout.
//
// Thread-safety: plain values and stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace signaldb::parquet {

// Physical types.
enum class Type : int32_t { kBoolean = 0, kInt32 = 1, kInt64 = 2, kDouble = 5, kByteArray = 6 };
// Converted types (what DuckDB writes, and older readers understand).
enum class ConvertedType : int32_t {
  kUtf8 = 0,
  kMap = 1,
  kDate = 6,
  kTimestampMicros = 10,
  kInt32 = 17,
  kInt64 = 18,
};
enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };
enum class Encoding : int32_t { kPlain = 0, kRle = 3, kRleDictionary = 8 };
enum class Codec : int32_t { kUncompressed = 0, kZstd = 6 };
enum class PageType : int32_t { kDataPage = 0, kDictionaryPage = 2 };

struct SchemaElement {
  std::optional<Type> type;  // leaves only
  std::optional<Repetition> repetition;
  std::string name;
  std::optional<int32_t> num_children;  // groups only
  std::optional<ConvertedType> converted_type;
  std::optional<int32_t> field_id;
  // The only logical type annotation written: TIMESTAMP(isAdjustedToUTC =
  // true, unit = MICROS), as DuckDB writes for TIMESTAMPTZ.
  bool timestamp_utc_micros = false;
};

// Bounds are PLAIN-encoded values (byte arrays without their length).
struct Statistics {
  std::optional<std::string> min_value;
  std::optional<std::string> max_value;
  bool min_exact = true;
  bool max_exact = true;
  std::optional<int64_t> null_count;
  // Also write the bounds into the deprecated min/max fields (signed
  // comparison: correct for integers, doubles and booleans only).
  bool legacy_bounds = false;
};

struct ColumnMetaData {
  Type type = Type::kInt64;
  std::vector<Encoding> encodings;
  std::vector<std::string> path_in_schema;
  Codec codec = Codec::kZstd;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;  // pages with their headers
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
  Statistics statistics;
};

struct ColumnChunk {
  int64_t file_offset = 0;  // where the chunk's first page starts
  ColumnMetaData meta_data;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t total_byte_size = 0;  // uncompressed
  int64_t num_rows = 0;
  int64_t file_offset = 0;
  int64_t total_compressed_size = 0;
  int16_t ordinal = 0;
};

struct FileMetaData {
  int32_t version = 1;
  std::vector<SchemaElement> schema;  // depth first; [0] is the root
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::string created_by;
  int32_t num_leaves = 0;  // one TYPE_ORDER column order is written per leaf
};

struct DataPageHeader {
  int32_t num_values = 0;  // level entries, nulls included
  Encoding encoding = Encoding::kPlain;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
};

struct PageHeader {
  PageType type = PageType::kDataPage;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  DataPageHeader data;              // kDataPage
  DictionaryPageHeader dictionary;  // kDictionaryPage
};

// Append the compact-protocol encoding to `out`.
void Serialize(const FileMetaData& meta, std::string* out);
void Serialize(const PageHeader& header, std::string* out);

}  // namespace signaldb::parquet
