// file:// store: key "a/b" is the file <root>/a/b. Writes go through
// AtomicFile (temp file, fsync, rename, fsync dir); a key cannot be both an
// object and a prefix of other objects ("a" and "a/b"), as on a file system.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "common/fs.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "objstore/internal.h"

namespace signaldb::objstore {
namespace {

std::chrono::system_clock::time_point ModTime(const struct stat& st) {
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

// The object's stat when `path` is a regular file; nullopt when there is no
// such object (missing, a directory, or a parent that is a file).
absl::StatusOr<std::optional<struct stat>> StatObject(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    return ErrnoStatus(errno, StrCat("stat ", path));
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  return st;
}

class LocalStore final : public ObjectStore {
 public:
  LocalStore(std::string root, FileSystem* fs) : root_(std::move(root)), fs_(fs) {}

  std::string Uri(std::string_view key) const override { return StrCat("file://", Path(key)); }

  std::optional<std::string> KeyOf(std::string_view uri) const override {
    if (StartsWith(uri, "file://")) uri.remove_prefix(7);
    std::string base = root_ == "/" ? "/" : StrCat(root_, "/");
    if (!StartsWith(uri, base)) return std::nullopt;
    std::string_view key = uri.substr(base.size());
    if (!ValidateKey(key).ok()) return std::nullopt;
    return std::string(key);
  }

  absl::Status Put(std::string_view key, std::string_view data) override {
    RETURN_IF_ERROR(CheckKey(key));
    if (fs_ != DefaultFileSystem()) {
      // An injected file system (fault tests) sees every small write.
      std::string path = Path(key);
      RETURN_IF_ERROR(fs_->CreateDirs(path.substr(0, path.rfind('/'))));
      return fs_->WriteFileAtomic(path, data);
    }
    ASSIGN_OR_RETURN(auto file, AtomicFile::Create(Path(key)));
    RETURN_IF_ERROR(file->Append(data));
    return file->Commit();
  }

  absl::Status PutFile(std::string_view key, const std::string& local_path) override {
    RETURN_IF_ERROR(CheckKey(key));
    ASSIGN_OR_RETURN(auto file, AtomicFile::Create(Path(key)));
    RETURN_IF_ERROR(file->AppendFile(local_path));
    return file->Commit();
  }

  absl::StatusOr<std::string> Get(std::string_view key) override {
    RETURN_IF_ERROR(CheckKey(key));
    std::string path = Path(key);
    ASSIGN_OR_RETURN(auto st, StatObject(path));
    if (!st) return NotFound(key);
    absl::StatusOr<std::string> data = fs_->ReadFile(path);
    if (absl::IsNotFound(data.status())) return NotFound(key);  // deleted meanwhile
    return data;
  }

  absl::Status GetToFile(std::string_view key, const std::string& local_path) override {
    RETURN_IF_ERROR(CheckKey(key));
    std::string path = Path(key);
    ASSIGN_OR_RETURN(auto st, StatObject(path));
    if (!st) return NotFound(key);
    ASSIGN_OR_RETURN(auto file, AtomicFile::Create(local_path));
    absl::Status copied = file->AppendFile(path);
    if (absl::IsNotFound(copied)) return NotFound(key);
    RETURN_IF_ERROR(copied);
    return file->Commit();
  }

  absl::Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(CheckKey(key));
    std::string path = Path(key);
    ASSIGN_OR_RETURN(auto st, StatObject(path));
    if (!st) return absl::OkStatus();
    absl::Status removed = fs_->Remove(path);
    if (absl::IsNotFound(removed)) return absl::OkStatus();
    return removed;
  }

  absl::StatusOr<std::optional<ObjectInfo>> Head(std::string_view key) override {
    RETURN_IF_ERROR(CheckKey(key));
    ASSIGN_OR_RETURN(auto st, StatObject(Path(key)));
    if (!st) return std::nullopt;
    return ObjectInfo{std::string(key), static_cast<uint64_t>(st->st_size), ModTime(*st)};
  }

  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    // Walk only the deepest directory the prefix names completely.
    std::string_view dir_part = prefix.substr(0, prefix.rfind('/') + 1);
    if (!dir_part.empty()) {
      std::string_view dir_key = dir_part.substr(0, dir_part.size() - 1);
      // No valid key starts with an invalid segment (and "../" must not
      // walk outside the root).
      if (!ValidateKey(dir_key).ok()) return std::vector<ObjectInfo>{};
    }
    std::string start = StrCat(root_, "/", dir_part);
    std::vector<ObjectInfo> out;
    std::error_code ec;
    std::filesystem::recursive_directory_iterator it(
        start, std::filesystem::directory_options::skip_permission_denied, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
        return out;
      }
      return ErrnoStatus(ec.value(), StrCat("list ", start));
    }
    for (; it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return ErrnoStatus(ec.value(), StrCat("list ", start));
      const std::filesystem::path& path = it->path();
      if (StartsWith(path.filename().string(), kTempPrefix)) continue;
      struct stat st {};
      // Entries can vanish between readdir and stat (a concurrent Delete).
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      std::string key = path.string().substr(root_.size() + (root_ == "/" ? 0 : 1));
      if (!StartsWith(key, prefix)) continue;
      out.push_back(ObjectInfo{std::move(key), static_cast<uint64_t>(st.st_size), ModTime(st)});
    }
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  std::optional<std::string> LocalPath(std::string_view key) const override {
    if (!CheckKey(key).ok()) return std::nullopt;
    return Path(key);
  }

 private:
  std::string Path(std::string_view key) const {
    return root_ == "/" ? StrCat("/", key) : StrCat(root_, "/", key);
  }

  static absl::Status CheckKey(std::string_view key) {
    RETURN_IF_ERROR(ValidateKey(key));
    std::string_view name = key.substr(key.rfind('/') + 1);
    if (StartsWith(name, kTempPrefix)) {
      return absl::InvalidArgumentError(
          StrCat("file store keys may not start with ", kTempPrefix, ": ", key));
    }
    return absl::OkStatus();
  }

  absl::Status NotFound(std::string_view key) const {
    return absl::NotFoundError(StrCat("no object ", Uri(key)));
  }

  const std::string root_;
  FileSystem* const fs_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ObjectStore>> OpenLocalStore(const std::string& root, FileSystem* fs) {
  RETURN_IF_ERROR(fs->CreateDirs(root));
  return std::make_unique<LocalStore>(root, fs);
}

}  // namespace signaldb::objstore
