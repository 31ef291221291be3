// Request body decompression with a hard cap on the output, so a small
// compressed bomb cannot make the server allocate without bound.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace signaldb::acceptor {

// `encoding` is the Content-Encoding value ("", "identity", "gzip", "deflate",
// "zstd", "snappy"). Errors: Unimplemented for an unknown encoding,
// OutOfRange when the output would exceed `max_bytes`, InvalidArgument for
// corrupt input.
absl::StatusOr<std::string> Decompress(std::string_view encoding, std::string_view input, uint64_t max_bytes);

// Snappy block format (what Prometheus remote_write sends).
absl::StatusOr<std::string> SnappyUncompress(std::string_view input, uint64_t max_bytes);

}  // namespace signaldb::acceptor
