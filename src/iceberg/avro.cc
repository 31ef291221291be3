#include "iceberg/avro.h"

#include <zlib.h>

#include <cstring>
#include <random>

namespace signaldb::iceberg {

void AvroEncoder::Long(int64_t v) {
  uint64_t n = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (n >= 0x80) {
    out_.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out_.push_back(static_cast<char>(n));
}

void AvroEncoder::Double(double v) {
  char b[8];
  std::memcpy(b, &v, 8);  // little-endian on the platforms we build for
  out_.append(b, 8);
}

void AvroEncoder::Bytes(std::string_view v) {
  Long(static_cast<int64_t>(v.size()));
  out_.append(v);
}

AvroFileWriter::AvroFileWriter(std::string schema_json, std::map<std::string, std::string> metadata,
                               AvroCodec codec)
    : schema_(std::move(schema_json)), metadata_(std::move(metadata)), codec_(codec) {}

namespace {

// Raw RFC 1951 deflate (no zlib header), as Avro's "deflate" codec wants.
absl::StatusOr<std::string> RawDeflate(const std::string& in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, in.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("deflate failed");
  return out;
}

}  // namespace

absl::StatusOr<std::string> AvroFileWriter::Finish() {
  std::string sync(16, '\0');
  std::random_device rd;
  for (auto& c : sync) c = static_cast<char>(rd());
  AvroEncoder header;
  header.buffer() = std::string("Obj\x01", 4);
  std::map<std::string, std::string> meta = metadata_;
  meta["avro.schema"] = schema_;
  meta["avro.codec"] = codec_ == AvroCodec::kDeflate ? "deflate" : "null";
  header.BlockStart(static_cast<int64_t>(meta.size()));
  for (const auto& [k, v] : meta) {
    header.String(k);
    header.Bytes(v);
  }
  header.BlockEnd();
  std::string out = std::move(header.buffer());
  out += sync;
  if (count_ > 0) {
    std::string data = block_.buffer();
    if (codec_ == AvroCodec::kDeflate) {
      auto d = RawDeflate(data);
      if (!d.ok()) return d.status();
      data = std::move(*d);
    }
    AvroEncoder block;
    block.Long(count_);
    block.Long(static_cast<int64_t>(data.size()));
    out += block.buffer();
    out += data;
    out += sync;
  }
  return out;
}

}  // namespace signaldb::iceberg
