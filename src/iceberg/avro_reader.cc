#include "iceberg/avro_reader.h"

#include <zlib.h>

#include <cstring>

#include "common/strings.h"

namespace signaldb::iceberg {
namespace {

using Json = nlohmann::json;

struct Bad {};  // malformed input; caught in ReadAvroFile

class Decoder {
 public:
  explicit Decoder(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}
  bool done() const { return p_ >= end_; }
  int64_t Long() {
    uint64_t n = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ >= end_) throw Bad{};
      auto b = static_cast<uint8_t>(*p_++);
      n |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return static_cast<int64_t>((n >> 1) ^ (~(n & 1) + 1));
    }
    throw Bad{};
  }
  std::string_view Raw(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) throw Bad{};
    std::string_view v(p_, n);
    p_ += n;
    return v;
  }
  std::string_view Bytes() {
    int64_t n = Long();
    if (n < 0) throw Bad{};
    return Raw(static_cast<size_t>(n));
  }

 private:
  const char* p_;
  const char* end_;
};

class DatumReader {
 public:
  explicit DatumReader(std::map<std::string, Json>& named) : named_(named) {}

  Json Read(const Json& type, Decoder& d, int depth = 0) {
    if (depth > 64) throw Bad{};
    if (type.is_string()) {
      const std::string& t = type.get_ref<const std::string&>();
      if (t == "null") return nullptr;
      if (t == "boolean") return d.Raw(1)[0] != 0;
      if (t == "int" || t == "long") return d.Long();
      if (t == "float") {
        float f;
        std::memcpy(&f, d.Raw(4).data(), 4);
        return f;
      }
      if (t == "double") {
        double v;
        std::memcpy(&v, d.Raw(8).data(), 8);
        return v;
      }
      if (t == "bytes" || t == "string") return std::string(d.Bytes());
      auto it = named_.find(t);
      if (it == named_.end()) throw Bad{};
      return Read(it->second, d, depth + 1);
    }
    if (type.is_array()) {  // union
      int64_t branch = d.Long();
      if (branch < 0 || static_cast<size_t>(branch) >= type.size()) throw Bad{};
      return Read(type[static_cast<size_t>(branch)], d, depth + 1);
    }
    if (!type.is_object()) throw Bad{};
    const std::string t = type.value("type", "");
    if (type.contains("name")) named_[type["name"].get<std::string>()] = type;
    if (t == "record") {
      Json out = Json::object();
      for (const auto& f : type.at("fields")) out[f.at("name").get<std::string>()] = Read(f.at("type"), d, depth + 1);
      return out;
    }
    if (t == "array" || t == "map") {
      Json out = t == "array" ? Json::array() : Json::object();
      while (true) {
        int64_t n = d.Long();
        if (n == 0) break;
        if (n < 0) {
          n = -n;
          d.Long();  // block size in bytes
        }
        for (int64_t i = 0; i < n; ++i) {
          if (t == "array") {
            out.push_back(Read(type.at("items"), d, depth + 1));
          } else {
            std::string key(d.Bytes());
            out[key] = Read(type.at("values"), d, depth + 1);
          }
        }
      }
      return out;
    }
    if (t == "enum") {
      int64_t i = d.Long();
      const auto& symbols = type.at("symbols");
      if (i < 0 || static_cast<size_t>(i) >= symbols.size()) throw Bad{};
      return symbols[static_cast<size_t>(i)];
    }
    if (t == "fixed") return std::string(d.Raw(type.at("size").get<size_t>()));
    return Read(Json(t), d, depth + 1);  // {"type":"long","logicalType":...} and the like
  }

 private:
  std::map<std::string, Json>& named_;
};

std::string Inflate(std::string_view in) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) throw Bad{};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[65536];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw Bad{};
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > (1u << 30)) {
      inflateEnd(&zs);
      throw Bad{};
    }
  } while (rc != Z_STREAM_END && (zs.avail_in > 0 || zs.avail_out == 0));
  inflateEnd(&zs);
  return out;
}

}  // namespace

absl::StatusOr<AvroFile> ReadAvroFile(std::string_view bytes) {
  AvroFile file;
  try {
    Decoder d(bytes);
    if (d.Raw(4) != std::string_view("Obj\x01", 4)) return absl::DataLossError("not an Avro object container file");
    std::map<std::string, Json> named;
    DatumReader meta_reader(named);
    Json meta = meta_reader.Read(Json{{"type", "map"}, {"values", "bytes"}}, d);
    for (auto it = meta.begin(); it != meta.end(); ++it) file.metadata[it.key()] = it->get<std::string>();
    std::string sync(d.Raw(16));
    file.schema = Json::parse(file.metadata["avro.schema"], nullptr, false);
    if (file.schema.is_discarded()) return absl::DataLossError("Avro schema is not JSON");
    std::string codec = file.metadata.count("avro.codec") ? file.metadata["avro.codec"] : "null";
    if (codec != "null" && codec != "deflate") return absl::DataLossError(StrCat("unsupported Avro codec ", codec));
    DatumReader reader(named);
    while (!d.done()) {
      int64_t count = d.Long();
      std::string_view block = d.Bytes();
      std::string inflated;
      if (codec == "deflate") {
        inflated = Inflate(block);
        block = inflated;
      }
      Decoder bd(block);
      for (int64_t i = 0; i < count; ++i) file.records.push_back(reader.Read(file.schema, bd));
      if (d.Raw(16) != sync) return absl::DataLossError("Avro sync marker mismatch");
    }
  } catch (const Bad&) {
    return absl::DataLossError("malformed Avro file");
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(StrCat("malformed Avro schema: ", e.what()));
  }
  return file;
}

}  // namespace signaldb::iceberg
