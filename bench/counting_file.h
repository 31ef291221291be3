// A WritableFile that counts the bytes appended and keeps none of them: the
// benchmarks encode Parquet into it to time the encoder without I/O.
#pragma once
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "common/fs.h"

namespace signaldb::bench {

class CountingFile final : public WritableFile {
 public:
  absl::Status Append(std::string_view data) override {
    size_ += data.size();
    return absl::OkStatus();
  }
  absl::Status Sync() override { return absl::OkStatus(); }
  absl::Status Close() override { return absl::OkStatus(); }
  uint64_t Size() const override { return size_; }

 private:
  uint64_t size_ = 0;
};

}  // namespace signaldb::bench
