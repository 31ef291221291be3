// Pieces shared by the ObjectStore implementations and not part of the
// public interface: the per-scheme factories Open() dispatches to, key
// validation, and the temp-file-then-rename writer every download and local
// write goes through.
//
// Thread-safety: the free functions are thread-safe; an AtomicFile is used by
// one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/fs.h"
#include "objstore/object_store.h"

namespace signaldb::objstore {

// Checks the rules every store applies to keys, so that a layout that works on
// one store works on all of them: not empty, relative, no empty, "." or ".."
// segments, no NUL byte.
absl::Status ValidateKey(std::string_view key);

// Root must be an absolute directory path; it is created when missing.
absl::StatusOr<std::unique_ptr<ObjectStore>> OpenLocalStore(const std::string& root, FileSystem* fs);
absl::StatusOr<std::unique_ptr<ObjectStore>> OpenMemoryStore(const std::string& name);
// `prefix` has no leading or trailing '/'; it may be empty.
absl::StatusOr<std::unique_ptr<ObjectStore>> OpenS3Store(const std::string& bucket,
                                                         const std::string& prefix,
                                                         const S3Options& options);

// Files whose name starts with this are in-flight writes; List skips them and
// DiskCache::Open removes them.
inline constexpr std::string_view kTempPrefix = ".sdb-tmp-";

// A file written under a unique temporary name beside `final_path`, which
// Commit() fsyncs and renames into place (then fsyncs the directory), so
// readers of `final_path` see the old content or the new, never a part. An
// uncommitted file is removed by the destructor.
class AtomicFile {
 public:
  // Creates the parent directory when missing.
  static absl::StatusOr<std::unique_ptr<AtomicFile>> Create(const std::string& final_path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  int fd() const { return fd_; }
  const std::string& temp_path() const { return temp_path_; }
  absl::Status Append(std::string_view data);
  // Copies the whole of the file at `path` into this one.
  absl::Status AppendFile(const std::string& path);
  // Empties the file again (a retried download starts over).
  absl::Status Reset();
  absl::Status Commit();

 private:
  AtomicFile(std::string final_path, std::string temp_path, int fd)
      : final_path_(std::move(final_path)), temp_path_(std::move(temp_path)), fd_(fd) {}

  std::string final_path_;
  std::string temp_path_;
  int fd_;
  bool committed_ = false;
};

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// The size of the regular file at `path`.
absl::StatusOr<uint64_t> LocalFileSize(const std::string& path);

}  // namespace signaldb::objstore
