// AtomicFile: unique temp name (mkstemp) beside the target, fsync, rename,
// fsync of the directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/fs.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "objstore/internal.h"

namespace signaldb::objstore {

absl::StatusOr<std::unique_ptr<AtomicFile>> AtomicFile::Create(const std::string& final_path) {
  std::filesystem::path target(final_path);
  const std::string dir =
      target.has_parent_path() ? target.parent_path().string() : std::string(".");
  RETURN_IF_ERROR(DefaultFileSystem()->CreateDirs(dir));
  std::string temp = StrCat(dir, "/", kTempPrefix, target.filename().string(), ".XXXXXX");
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, StrCat("create temp file in ", dir));
  // mkstemp creates 0600; objects are ordinary data files.
  ::fchmod(fd, 0644);
  return std::unique_ptr<AtomicFile>(new AtomicFile(final_path, std::move(temp), fd));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

absl::Status AtomicFile::Append(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, StrCat("write ", temp_path_));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status AtomicFile::AppendFile(const std::string& path) {
  int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoStatus(errno, StrCat("open ", path));
  absl::Status st;
  std::string buf(1 << 20, '\0');
  while (st.ok()) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      st = ErrnoStatus(errno, StrCat("read ", path));
      break;
    }
    if (n == 0) break;
    st = Append(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  ::close(in);
  return st;
}

absl::Status AtomicFile::Reset() {
  if (::ftruncate(fd_, 0) != 0) return ErrnoStatus(errno, StrCat("truncate ", temp_path_));
  if (::lseek(fd_, 0, SEEK_SET) != 0) return ErrnoStatus(errno, StrCat("seek ", temp_path_));
  return absl::OkStatus();
}

absl::Status AtomicFile::Commit() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, StrCat("fdatasync ", temp_path_));
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return ErrnoStatus(errno, StrCat("close ", temp_path_));
  RETURN_IF_ERROR(DefaultFileSystem()->Rename(temp_path_, final_path_));
  committed_ = true;
  std::string dir = std::filesystem::path(final_path_).parent_path().string();
  return DefaultFileSystem()->SyncDir(dir);
}

absl::StatusOr<uint64_t> LocalFileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, StrCat("stat ", path));
  if (!S_ISREG(st.st_mode)) return absl::NotFoundError(StrCat("not a regular file: ", path));
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace signaldb::objstore
