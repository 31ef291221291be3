// A FileSystem that forwards to another one and fails chosen operations on
// demand, for fault-injection tests: a given call of an operation (or every
// call from then on) returns an errno-style error, and appends can be made
// short (half the bytes written, then the error).
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "common/fs.h"

namespace signaldb {

class FaultFs final : public FileSystem {
 public:
  enum class Op { kOpen, kAppend, kSync, kRead, kWriteAtomic, kRename, kRemove, kTruncate, kCreateDirs, kSyncDir,
                  kSyncFile, kList };

  explicit FaultFs(FileSystem* base = DefaultFileSystem()) : base_(base) {}

  // The `nth` next call of `op` (1 = the very next one) fails with `err`;
  // with `sticky`, every later call fails too until Clear(). With `short_write`
  // a failing append first writes half of its bytes.
  void Fail(Op op, int err, int nth = 1, bool sticky = false, bool short_write = false);
  void Clear();
  // How many calls of `op` were made so far.
  int Calls(Op op);
  // Only paths containing this text are affected (empty: all).
  void OnlyPaths(std::string fragment);

  absl::StatusOr<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> OpenForOverwrite(const std::string& path) override;
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::Status WriteFileAtomic(const std::string& path, std::string_view data) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Remove(const std::string& path) override;
  absl::Status Truncate(const std::string& path, uint64_t size) override;
  absl::Status CreateDirs(const std::string& path) override;
  absl::Status SyncDir(const std::string& path) override;
  absl::Status SyncFile(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  absl::StatusOr<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  absl::StatusOr<std::chrono::system_clock::time_point> ModifiedTime(const std::string& path) override {
    return base_->ModifiedTime(path);
  }

  // Decides whether this call of `op` on `path` fails; the error to return.
  absl::Status Check(Op op, const std::string& path, bool* short_write = nullptr);

 private:
  struct Rule {
    int err;
    int remaining;  // calls until it fires
    bool sticky;
    bool short_write;
    bool fired = false;
  };
  FileSystem* base_;
  std::mutex mu_;
  std::map<Op, Rule> rules_;
  std::map<Op, int> calls_;
  std::string only_;
};

}  // namespace signaldb
