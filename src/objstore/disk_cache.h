// DiskCache: a bounded local-disk cache of immutable objects, so DuckDB can
// read remote (s3://, memory://) data files as local paths. Fetch() returns a
// pinned CachedFile; a pinned file is never evicted, so its path stays
// readable until the CachedFile is destroyed. Unpinned files are evicted
// least-recently-fetched first whenever the cached bytes exceed the capacity
// (pinned files may push the total above it until they are released).
//
// Objects are assumed immutable: a cached copy is never revalidated. The
// cache file name is the SHA-256 of the object's URI plus its extension
// (DuckDB picks readers by extension). On Open, files already in the
// directory under such names are adopted, oldest-modified first in the LRU
// order; leftover partial downloads are deleted; other files are left alone.
// Downloads are fsynced before their rename, so adopted files are whole.
//
// For stores with local files (file://) Fetch returns the store's own path
// without copying; such results are not counted against the capacity.
//
// Thread-safety: DiskCache is thread-safe. Concurrent Fetch calls for one
// object download it once; the others wait and share the result. One
// directory must not be shared by two DiskCache instances.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "objstore/object_store.h"

namespace signaldb::objstore {

class DiskCache;

// A fetched object on local disk, pinned in the cache while this lives.
// Move-only; may outlive the DiskCache it came from.
class CachedFile {
 public:
  CachedFile() = default;
  CachedFile(CachedFile&& other) noexcept;
  CachedFile& operator=(CachedFile&& other) noexcept;
  CachedFile(const CachedFile&) = delete;
  CachedFile& operator=(const CachedFile&) = delete;
  ~CachedFile();

  const std::string& path() const { return path_; }

 private:
  friend class DiskCache;
  struct State;
  CachedFile(std::shared_ptr<State> state, std::string name, std::string path)
      : state_(std::move(state)), name_(std::move(name)), path_(std::move(path)) {}
  void Unpin();

  std::shared_ptr<State> state_;  // null: not managed by a cache (file:// path)
  std::string name_;
  std::string path_;
};

class DiskCache {
 public:
  struct Stats {
    uint64_t hits = 0;       // served from disk
    uint64_t misses = 0;     // downloaded
    uint64_t waits = 0;      // waited for another caller's download of the same object
    uint64_t evictions = 0;  // files deleted to stay under capacity
    uint64_t bytes = 0;      // bytes of the cached files now on disk
    uint64_t files = 0;
  };

  // Creates `dir` when missing and adopts the cache files already in it.
  static absl::StatusOr<std::unique_ptr<DiskCache>> Open(std::string dir, uint64_t capacity_bytes);
  ~DiskCache();
  DiskCache(const DiskCache&) = delete;
  DiskCache& operator=(const DiskCache&) = delete;

  // A local file holding the object `key` of `store`, downloaded with
  // GetToFile on a miss. NotFound when the object does not exist.
  absl::StatusOr<CachedFile> Fetch(ObjectStore* store, std::string_view key);

  Stats stats() const;
  const std::string& dir() const { return dir_; }
  uint64_t capacity() const;

 private:
  DiskCache(std::string dir, std::shared_ptr<CachedFile::State> state)
      : dir_(std::move(dir)), state_(std::move(state)) {}

  const std::string dir_;
  const std::shared_ptr<CachedFile::State> state_;
};

}  // namespace signaldb::objstore
