// The HTTP layer of the s3:// store: builds S3 REST URLs (path-style or
// virtual-hosted), signs requests with libcurl's built-in SigV4
// (CURLOPT_AWS_SIGV4), retries transient failures with exponential backoff
// and jitter, and turns S3 errors into absl::Status. Knows nothing of
// ObjectStore semantics; s3_store.cc does.
//
// Thread-safety: S3Client is thread-safe; concurrent Send() calls each use
// their own curl easy handle from a small pool (idle handles keep their
// connections open for reuse).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "objstore/internal.h"
#include "objstore/object_store.h"

namespace signaldb::objstore {

struct S3Request {
  const char* method = "GET";  // GET, HEAD, PUT, POST or DELETE
  std::string key;             // the object's key in the bucket; empty: the bucket
  std::vector<std::pair<std::string, std::string>> query;  // not yet encoded
  std::string content_type;
  // The body: `body`, or `body_length` bytes of `body_fd` from `body_offset`
  // (sent as UNSIGNED-PAYLOAD; in-memory bodies are hashed and signed).
  std::string_view body;
  int body_fd = -1;
  uint64_t body_offset = 0;
  uint64_t body_length = 0;
  // When set, a successful response body is written here instead of into
  // S3Response::body (emptied again before each retry).
  AtomicFile* response_file = nullptr;
};

struct S3Response {
  long http_status = 0;
  std::string body;
  std::string etag;
  uint64_t content_length = 0;
  std::optional<std::chrono::system_clock::time_point> last_modified;
};

class S3Client {
 public:
  // Resolves the environment fallbacks of `options` (see object_store.h).
  static absl::StatusOr<std::unique_ptr<S3Client>> Create(std::string bucket,
                                                          const S3Options& options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Sends `request`, retrying 5xx, 429, timeouts and connection errors up to
  // max_retries times. OK only for a 2xx answer; otherwise the status names
  // `what` (e.g. "GET s3://bucket/key"), the HTTP status and S3's error Code
  // and Message: 404 is NotFound, 403 PermissionDenied, NoSuchBucket
  // FailedPrecondition, exhausted retries Unavailable.
  absl::StatusOr<S3Response> Send(const S3Request& request, std::string_view what);

  // The options after environment fallbacks.
  const S3Options& options() const { return options_; }
  // The full request URL (exposed for tests).
  std::string Url(const S3Request& request) const;

 private:
  struct Handle;
  S3Client(std::string bucket, S3Options options);
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> handle);
  std::chrono::milliseconds Backoff(int retry) const;

  const std::string bucket_;
  const S3Options options_;
  std::string scheme_;     // "http" or "https"
  std::string authority_;  // host[:port]
  std::string base_path_;  // endpoint path without a trailing '/', often empty

  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
};


// The status for a non-2xx S3 answer (see S3Client::Send).
absl::Status S3HttpError(long http_status, std::string_view body, std::string_view what);

}  // namespace signaldb::objstore
