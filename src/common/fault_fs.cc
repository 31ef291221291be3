#include "common/fault_fs.h"

#include <cerrno>

namespace signaldb {
namespace {

class FaultFile final : public WritableFile {
 public:
  FaultFile(std::unique_ptr<WritableFile> f, FaultFs* fs, std::string path)
      : f_(std::move(f)), fs_(fs), path_(std::move(path)) {}
  absl::Status Append(std::string_view data) override {
    bool short_write = false;
    if (auto st = fs_->Check(FaultFs::Op::kAppend, path_, &short_write); !st.ok()) {
      if (short_write) (void)f_->Append(data.substr(0, data.size() / 2));
      return st;
    }
    return f_->Append(data);
  }
  absl::Status Sync() override {
    if (auto st = fs_->Check(FaultFs::Op::kSync, path_); !st.ok()) return st;
    return f_->Sync();
  }
  absl::Status Close() override { return f_->Close(); }
  uint64_t Size() const override { return f_->Size(); }

 private:
  std::unique_ptr<WritableFile> f_;
  FaultFs* fs_;
  std::string path_;
};

}  // namespace

void FaultFs::Fail(Op op, int err, int nth, bool sticky, bool short_write) {
  std::lock_guard lock(mu_);
  rules_[op] = Rule{err, nth, sticky, short_write};
}

void FaultFs::Clear() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

int FaultFs::Calls(Op op) {
  std::lock_guard lock(mu_);
  return calls_[op];
}

void FaultFs::OnlyPaths(std::string fragment) {
  std::lock_guard lock(mu_);
  only_ = std::move(fragment);
}

absl::Status FaultFs::Check(Op op, const std::string& path, bool* short_write) {
  std::lock_guard lock(mu_);
  if (!only_.empty() && path.find(only_) == std::string::npos) return absl::OkStatus();
  ++calls_[op];
  auto it = rules_.find(op);
  if (it == rules_.end()) return absl::OkStatus();
  Rule& r = it->second;
  if (!r.fired && --r.remaining > 0) return absl::OkStatus();
  if (r.fired && !r.sticky) return absl::OkStatus();
  r.fired = true;
  if (short_write) *short_write = r.short_write;
  return ErrnoStatus(r.err, "injected fault on " + path);
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultFs::OpenAppendable(const std::string& path) {
  if (auto st = Check(Op::kOpen, path); !st.ok()) return st;
  auto f = base_->OpenAppendable(path);
  if (!f.ok()) return f.status();
  return std::unique_ptr<WritableFile>(new FaultFile(std::move(*f), this, path));
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultFs::OpenForOverwrite(const std::string& path) {
  if (auto st = Check(Op::kOpen, path); !st.ok()) return st;
  auto f = base_->OpenForOverwrite(path);
  if (!f.ok()) return f.status();
  return std::unique_ptr<WritableFile>(new FaultFile(std::move(*f), this, path));
}

absl::StatusOr<std::string> FaultFs::ReadFile(const std::string& path) {
  if (auto st = Check(Op::kRead, path); !st.ok()) return st;
  return base_->ReadFile(path);
}

absl::Status FaultFs::WriteFileAtomic(const std::string& path, std::string_view data) {
  if (auto st = Check(Op::kWriteAtomic, path); !st.ok()) return st;
  return base_->WriteFileAtomic(path, data);
}

absl::Status FaultFs::Rename(const std::string& from, const std::string& to) {
  if (auto st = Check(Op::kRename, from); !st.ok()) return st;
  return base_->Rename(from, to);
}

absl::Status FaultFs::Remove(const std::string& path) {
  if (auto st = Check(Op::kRemove, path); !st.ok()) return st;
  return base_->Remove(path);
}

absl::Status FaultFs::Truncate(const std::string& path, uint64_t size) {
  if (auto st = Check(Op::kTruncate, path); !st.ok()) return st;
  return base_->Truncate(path, size);
}

absl::Status FaultFs::CreateDirs(const std::string& path) {
  if (auto st = Check(Op::kCreateDirs, path); !st.ok()) return st;
  return base_->CreateDirs(path);
}

absl::Status FaultFs::SyncDir(const std::string& path) {
  if (auto st = Check(Op::kSyncDir, path); !st.ok()) return st;
  return base_->SyncDir(path);
}

absl::Status FaultFs::SyncFile(const std::string& path) {
  if (auto st = Check(Op::kSyncFile, path); !st.ok()) return st;
  return base_->SyncFile(path);
}

absl::StatusOr<std::vector<std::string>> FaultFs::ListDir(const std::string& dir) {
  if (auto st = Check(Op::kList, dir); !st.ok()) return st;
  return base_->ListDir(dir);
}

}  // namespace signaldb
