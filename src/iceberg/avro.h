// Avro binary encoding and object container files (Avro 1.11 spec, "Binary
// Encoding" and "Object Container Files"), enough to write Iceberg manifests:
// the schema JSON goes into the header verbatim, so Iceberg's field-id,
// element-id and logicalType annotations survive.
//
// Thread-safety: an AvroEncoder / AvroFileWriter is used by one thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace signaldb::iceberg {

// Appends Avro binary values to a buffer.
class AvroEncoder {
 public:
  void Long(int64_t v);  // zig-zag varint
  void Int(int32_t v) { Long(v); }
  void Bool(bool v) { out_.push_back(v ? 1 : 0); }
  void Double(double v);
  void Bytes(std::string_view v);
  void String(std::string_view v) { Bytes(v); }
  // A union: the branch index, then (by the caller) the branch's value.
  void Union(int64_t branch) { Long(branch); }
  // Arrays and maps: one block of `n` items (written by the caller after this
  // call), then End(). An empty array is just End().
  void BlockStart(int64_t n) {
    if (n > 0) Long(n);
  }
  void BlockEnd() { Long(0); }

  std::string& buffer() { return out_; }
  void clear() { out_.clear(); }

 private:
  std::string out_;
};

enum class AvroCodec { kNull, kDeflate };

// Collects encoded records and produces one object container file.
class AvroFileWriter {
 public:
  // `schema_json` is written verbatim as avro.schema; `metadata` adds keys.
  AvroFileWriter(std::string schema_json, std::map<std::string, std::string> metadata, AvroCodec codec);
  // The encoder for the next record; call EndRecord() after writing it.
  AvroEncoder& record() { return block_; }
  void EndRecord() { ++count_; }
  // The whole file: header, one data block (if any record), sync markers.
  absl::StatusOr<std::string> Finish();

 private:
  std::string schema_;
  std::map<std::string, std::string> metadata_;
  AvroCodec codec_;
  AvroEncoder block_;
  int64_t count_ = 0;
};

}  // namespace signaldb::iceberg
