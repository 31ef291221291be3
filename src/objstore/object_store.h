// Object stores: where table data and metadata live. Keys are '/'-separated
// paths relative to the store's root URI; `Uri(key)` is the absolute URI
// written into Iceberg metadata (file:///data/t/x.parquet,
// s3://bucket/prefix/t/x.parquet, memory://name/t/x.parquet).
//
// Implementations: local files (file://, the default), process memory
// (memory://, for tests and throwaway runs) and S3 or any S3-compatible
// server (s3://bucket/prefix, libcurl with SigV4).
//
// Thread-safety: every ObjectStore is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/fs.h"

namespace signaldb::objstore {

struct ObjectInfo {
  std::string key;  // relative to the store's root
  uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // The absolute URI of `key` (the form stored in Iceberg metadata).
  virtual std::string Uri(std::string_view key) const = 0;
  // The key of an absolute URI of this store; nullopt when the URI belongs to
  // another store.
  virtual std::optional<std::string> KeyOf(std::string_view uri) const = 0;

  // Writes the whole object. Readers see the previous object or the new one,
  // never a part; the object is durable when this returns OK.
  virtual absl::Status Put(std::string_view key, std::string_view data) = 0;
  // Uploads a local file (multipart on S3 when large). Same guarantees as Put.
  virtual absl::Status PutFile(std::string_view key, const std::string& local_path) = 0;
  // NotFound when the object does not exist.
  virtual absl::StatusOr<std::string> Get(std::string_view key) = 0;
  // Downloads into `local_path` (written to a temporary name, then renamed).
  virtual absl::Status GetToFile(std::string_view key, const std::string& local_path) = 0;
  // OK when the object is already gone.
  virtual absl::Status Delete(std::string_view key) = 0;
  // nullopt when the object does not exist.
  virtual absl::StatusOr<std::optional<ObjectInfo>> Head(std::string_view key) = 0;
  // Every object whose key starts with `prefix`, sorted by key.
  virtual absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;

  // A local path DuckDB can open directly for `key`, when the store keeps
  // objects as local files (file://); nullopt otherwise.
  virtual std::optional<std::string> LocalPath(std::string_view key) const = 0;
};

// Connection settings for s3:// stores. Empty fields fall back to the
// standard AWS_* environment variables (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION/AWS_DEFAULT_REGION,
// AWS_ENDPOINT_URL).
struct S3Options {
  std::string endpoint;  // e.g. http://127.0.0.1:9000; empty: https://s3.<region>.amazonaws.com
  std::string region;    // default us-east-1
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  bool path_style = false;  // http://host/bucket/key instead of http://bucket.host/key
  uint64_t multipart_threshold = 64ull << 20;  // PutFile above this size uses multipart upload
  uint64_t part_size = 16ull << 20;            // >= 5 MiB, S3's minimum part size
  int max_retries = 5;                         // on 5xx, 429, timeouts and connection errors
  std::chrono::milliseconds initial_backoff{100};  // doubled per retry, with jitter
  std::chrono::milliseconds request_timeout{60000};

  // (request_timeout bounds connecting and any stall of a transfer, i.e. no
  // bytes for that long, not the whole of a possibly huge download.)
  int list_page_size = 1000;  // max-keys of each ListObjectsV2 request (1..1000)
  // Waits between retries; empty: std::this_thread::sleep_for. Tests set it
  // to observe the backoff without waiting.
  std::function<void(std::chrono::milliseconds)> sleep_for;
};

// Opens the store for `uri`: "file:///abs/dir" or a plain absolute path,
// "memory://name" (stores with the same name in one process share objects),
// "s3://bucket[/prefix]". InvalidArgument for anything else.
absl::StatusOr<std::unique_ptr<ObjectStore>> Open(const std::string& uri, const S3Options& s3 = {});

// A file:// store rooted at `root` whose small-object writes, reads and
// deletes go through `fs` (not owned), so fault-injection tests reach them.
absl::StatusOr<std::unique_ptr<ObjectStore>> OpenLocal(const std::string& root, FileSystem* fs);

}  // namespace signaldb::objstore
