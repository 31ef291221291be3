// The write half of Thrift's compact protocol, as much of it as Parquet's
// metadata needs: structs, i32/i64/bool/binary fields and lists. Parquet
// stores its footer (FileMetaData) and every page header in this encoding.
//
// Encoding (Thrift compact protocol spec):
//   field header  one byte (delta << 4 | type) when the field id is 1..15
//                 above the previous field's id in the same struct; else
//                 the type byte followed by the id as a zigzag varint
//   i16/i32/i64   zigzag varint
//   bool field    no payload: the header's type is 1 (true) or 2 (false)
//   binary        unsigned varint length, then the bytes
//   list          one byte (size << 4 | element type) when size < 15, else
//                 0xF0 | element type followed by the size as a varint
//   struct        its fields, then a 0 byte (stop)
//
// Thread-safety: a CompactWriter is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace signaldb::parquet {

class CompactWriter {
 public:
  // Compact-protocol type codes.
  enum Type : uint8_t {
    kBoolTrue = 1,
    kBoolFalse = 2,
    kByte = 3,
    kI16 = 4,
    kI32 = 5,
    kI64 = 6,
    kDouble = 7,
    kBinary = 8,
    kList = 9,
    kStruct = 12,
  };

  // Appends to `out` (not owned; must outlive the writer).
  explicit CompactWriter(std::string* out) : out_(out) {}

  // The outermost struct: Begin() ... End().
  void Begin() { last_ids_.push_back(0); }
  void End() {
    out_->push_back(0);
    last_ids_.pop_back();
  }

  void I32(int16_t id, int32_t v) {
    Header(id, kI32);
    Varint(ZigZag(v));
  }
  void I16(int16_t id, int16_t v) {
    Header(id, kI16);
    Varint(ZigZag(v));
  }
  void I64(int16_t id, int64_t v) {
    Header(id, kI64);
    Varint(ZigZag(v));
  }
  void Byte(int16_t id, int8_t v) {
    Header(id, kByte);
    out_->push_back(static_cast<char>(v));
  }
  void Bool(int16_t id, bool v) { Header(id, v ? kBoolTrue : kBoolFalse); }
  void Binary(int16_t id, std::string_view v) {
    Header(id, kBinary);
    Bytes(v);
  }
  // A struct-valued field: its fields follow, then EndStruct().
  void BeginStruct(int16_t id) {
    Header(id, kStruct);
    last_ids_.push_back(0);
  }
  void EndStruct() { End(); }

  // A list-valued field of `size` elements of `element` type; the elements
  // follow (ListI32, ListBinary, or BeginListStruct ... EndStruct each).
  void BeginList(int16_t id, Type element, size_t size) {
    Header(id, kList);
    if (size < 15) {
      out_->push_back(static_cast<char>((size << 4) | element));
    } else {
      out_->push_back(static_cast<char>(0xF0 | element));
      Varint(size);
    }
  }
  void ListI32(int32_t v) { Varint(ZigZag(v)); }
  void ListBinary(std::string_view v) { Bytes(v); }
  void BeginListStruct() { last_ids_.push_back(0); }

 private:
  void Varint(uint64_t v) { AppendVarint(*out_, v); }
  void Bytes(std::string_view v) {
    Varint(v.size());
    out_->append(v);
  }
  void Header(int16_t id, Type type) {
    int16_t& last = last_ids_.back();
    const int delta = id - last;
    if (delta > 0 && delta <= 15) {
      out_->push_back(static_cast<char>((delta << 4) | type));
    } else {
      out_->push_back(static_cast<char>(type));
      Varint(ZigZag(id));
    }
    last = id;
  }

  std::string* out_;
  std::vector<int16_t> last_ids_;
};

}  // namespace signaldb::parquet
