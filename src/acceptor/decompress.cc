#include "acceptor/decompress.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "common/strings.h"

namespace signaldb::acceptor {
namespace {

absl::Status TooLarge(uint64_t max_bytes) {
  return absl::OutOfRangeError(StrCat("decompressed request exceeds the limit of ", max_bytes, " bytes"));
}

// window_bits: 15+32 detects gzip or zlib; 15 is zlib; -15 is raw deflate.
absl::StatusOr<std::string> Inflate(std::string_view input, uint64_t max_bytes, int window_bits) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return absl::InternalError("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError(StrCat("corrupt compressed body: ", zs.msg ? zs.msg : "inflate failed"));
    }
    size_t produced = sizeof(buf) - zs.avail_out;
    if (out.size() + produced > max_bytes) {
      inflateEnd(&zs);
      return TooLarge(max_bytes);
    }
    out.append(buf, produced);
    if (rc != Z_STREAM_END && zs.avail_in == 0 && produced == 0) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("corrupt compressed body: truncated stream");
    }
  }
  inflateEnd(&zs);
  return out;
}

absl::StatusOr<std::string> Unzstd(std::string_view input, uint64_t max_bytes) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (ds == nullptr) return absl::InternalError("ZSTD_createDStream failed");
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  std::string out;
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  size_t last = 1;
  while (in.pos < in.size) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ds, &ob, &in);
    if (ZSTD_isError(last)) {
      std::string msg = ZSTD_getErrorName(last);
      ZSTD_freeDStream(ds);
      return absl::InvalidArgumentError(StrCat("corrupt zstd body: ", msg));
    }
    if (out.size() + ob.pos > max_bytes) {
      ZSTD_freeDStream(ds);
      return TooLarge(max_bytes);
    }
    out.append(buf.data(), ob.pos);
    if (ob.pos == 0 && last != 0 && in.pos == in.size) break;
  }
  // Drain what is still buffered inside the decoder.
  while (last != 0) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ds, &ob, &in);
    if (ZSTD_isError(last) || ob.pos == 0) break;
    if (out.size() + ob.pos > max_bytes) {
      ZSTD_freeDStream(ds);
      return TooLarge(max_bytes);
    }
    out.append(buf.data(), ob.pos);
  }
  ZSTD_freeDStream(ds);
  if (last != 0) return absl::InvalidArgumentError("corrupt zstd body: truncated frame");
  return out;
}

}  // namespace

absl::StatusOr<std::string> SnappyUncompress(std::string_view input, uint64_t max_bytes) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(input.data(), input.size(), &len)) {
    return absl::InvalidArgumentError("body is not valid snappy (block format)");
  }
  if (len > max_bytes) return TooLarge(max_bytes);
  std::string out;
  if (!snappy::Uncompress(input.data(), input.size(), &out)) {
    return absl::InvalidArgumentError("body is not valid snappy (block format)");
  }
  return out;
}

absl::StatusOr<std::string> Decompress(std::string_view encoding, std::string_view input, uint64_t max_bytes) {
  std::string enc = ToLower(Trim(encoding));
  if (enc.empty() || enc == "identity") {
    if (input.size() > max_bytes) return TooLarge(max_bytes);
    return std::string(input);
  }
  if (enc == "gzip" || enc == "x-gzip") return Inflate(input, max_bytes, 15 + 16);
  if (enc == "deflate") {
    // HTTP's "deflate" is zlib-wrapped, but raw deflate is common in the wild.
    auto zlib = Inflate(input, max_bytes, 15);
    if (zlib.ok() || zlib.status().code() == absl::StatusCode::kOutOfRange) return zlib;
    return Inflate(input, max_bytes, -15);
  }
  if (enc == "zstd") return Unzstd(input, max_bytes);
  if (enc == "snappy") return SnappyUncompress(input, max_bytes);
  return absl::UnimplementedError(
      StrCat("unsupported Content-Encoding: ", encoding, " (supported: gzip, deflate, zstd, snappy, identity)"));
}

}  // namespace signaldb::acceptor
