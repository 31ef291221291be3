// The file-system interface all WAL and storage I/O goes through, so tests can
// inject faults (short writes, failing fsync, ENOSPC) at any step. PosixFs is
// the real implementation.
//
// Thread-safety: FileSystem implementations are thread-safe; a WritableFile
// is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace signaldb {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends at the end of the file. Data may sit in OS buffers until Sync().
  virtual absl::Status Append(std::string_view data) = 0;
  // Makes every appended byte durable (fdatasync).
  virtual absl::Status Sync() = 0;
  virtual absl::Status Close() = 0;
  virtual uint64_t Size() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens `path` for appending, creating it if missing. The new file's
  // directory entry is not durable until SyncDir() of its parent.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) = 0;
  // Opens the existing file `path` for writing from its first byte, keeping
  // its length and blocks: writes overwrite, and an fdatasync of bytes within
  // the old length changes no file-system metadata. Size() counts the bytes
  // written. Not every file system has it.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> OpenForOverwrite(const std::string& path) {
    return absl::UnimplementedError("overwriting files in place is not supported here");
  }
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;
  // Writes `data` to a temporary file, syncs it, renames it over `path` and
  // syncs the directory: readers see the old or the new content, never a mix.
  virtual absl::Status WriteFileAtomic(const std::string& path, std::string_view data) = 0;
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  virtual absl::Status Remove(const std::string& path) = 0;
  virtual absl::Status Truncate(const std::string& path, uint64_t size) = 0;
  virtual absl::Status CreateDirs(const std::string& path) = 0;
  virtual absl::Status SyncDir(const std::string& path) = 0;
  // Makes a file written by someone else (e.g. DuckDB) durable.
  virtual absl::Status SyncFile(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual absl::StatusOr<uint64_t> FileSize(const std::string& path) = 0;
  // When the file's content last changed.
  virtual absl::StatusOr<std::chrono::system_clock::time_point> ModifiedTime(const std::string& path) = 0;
};

// The process-wide POSIX file system. Never null; not owned by the caller.
FileSystem* DefaultFileSystem();

// Maps an errno value from a failed call on `what` to a status: ENOSPC and
// EIO become UNAVAILABLE-class errors the ingest path reports as retryable.
absl::Status ErrnoStatus(int err, std::string_view what);

}  // namespace signaldb
