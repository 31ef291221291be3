// The trace-id index of one traces data file: a Bloom filter of the trace
// ids the file holds, kept in a small sidecar file beside it
// ("<name>.tidx" next to "<name>.parquet"; format in docs/trace-index.md).
// A trace lookup asks each file's filter and opens only the files that may
// hold the trace: a filter never says "no" for an id the file has, and says
// "maybe" for an id it lacks about 0.05% of the time (16 bits per trace id),
// so even with thousands of files a lookup rarely opens a needless one.
//
// Thread-safety: a built TraceIndex is immutable and may be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb::writer {

class TraceIndex {
 public:
  // A filter over `keys` (trace ids as stored, e.g. 32 lowercase hex
  // characters). Duplicates are fine.
  static TraceIndex Build(const std::vector<std::string_view>& keys);
  // Parses a sidecar's bytes; DataLoss when they are not a valid index.
  static absl::StatusOr<TraceIndex> Parse(std::string_view bytes);

  bool MayContain(std::string_view key) const;
  std::string Serialize() const;

  uint64_t num_keys() const { return num_keys_; }
  uint64_t num_bits() const { return bits_.size() * 64; }
  size_t ByteSize() const { return bits_.size() * 8; }

 private:
  TraceIndex() = default;
  uint32_t num_hashes_ = 0;
  uint64_t num_keys_ = 0;
  std::vector<uint64_t> bits_;
};

// "<dir>/<name>.parquet" -> "<dir>/<name>.tidx".
std::string TraceIndexPath(const std::string& data_file_path);

}  // namespace signaldb::writer
