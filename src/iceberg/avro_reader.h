// Reads Avro object container files (null or deflate codec) into JSON
// values, driven by the writer's schema in the header, so manifests from any
// Iceberg writer (ours, Java, pyiceberg) can be read. Bytes and fixed values
// become JSON strings holding the raw bytes.
//
// Thread-safety: stateless functions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb::iceberg {

struct AvroFile {
  std::map<std::string, std::string> metadata;  // includes avro.schema and avro.codec
  nlohmann::json schema;
  std::vector<nlohmann::json> records;
};

// DataLoss for anything malformed (bad magic, truncation, unknown codec).
absl::StatusOr<AvroFile> ReadAvroFile(std::string_view bytes);

}  // namespace signaldb::iceberg
