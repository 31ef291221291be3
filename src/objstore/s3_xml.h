// The XML bodies of the S3 REST API the s3:// store uses: error documents,
// ListObjectsV2 pages and the multipart-upload requests and answers. Parsed
// with pugixml; element names are matched without namespaces.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "objstore/object_store.h"

namespace signaldb::objstore {

struct S3ErrorBody {
  std::string code;     // e.g. NoSuchKey
  std::string message;  // S3's human-readable text
};
// nullopt unless `body` is an <Error> document.
std::optional<S3ErrorBody> ParseS3Error(std::string_view body);

struct ListPage {
  std::vector<ObjectInfo> objects;  // keys as in the bucket (with the store's prefix)
  bool truncated = false;
  std::string next_continuation_token;
};
absl::StatusOr<ListPage> ParseListObjectsV2(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult.
absl::StatusOr<std::string> ParseUploadId(std::string_view body);

// The CompleteMultipartUpload request body; etags[i] is part i + 1's ETag.
std::string CompleteMultipartBody(const std::vector<std::string>& etags);

// "2024-05-01T12:34:56.789Z" (ISO 8601 in UTC, as S3 lists it).
std::optional<std::chrono::system_clock::time_point> ParseIsoTime(std::string_view text);

}  // namespace signaldb::objstore
