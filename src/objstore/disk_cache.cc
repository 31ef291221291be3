#include "objstore/disk_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <list>
#include <mutex>
#include <unordered_map>

#include "common/fs.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "objstore/internal.h"

namespace signaldb::objstore {
namespace {

bool IsExtension(std::string_view ext) {
  return !ext.empty() && ext.size() <= 16 &&
         std::all_of(ext.begin(), ext.end(), [](unsigned char c) { return std::isalnum(c); });
}

// "<sha256 of the URI>[.ext]"
std::string CacheName(std::string_view uri, std::string_view key) {
  std::string name = Sha256Hex(uri);
  std::string_view last = key.substr(key.rfind('/') + 1);
  size_t dot = last.rfind('.');
  if (dot != std::string_view::npos && dot > 0 && IsExtension(last.substr(dot + 1))) {
    name = StrCat(name, last.substr(dot));
  }
  return name;
}

bool IsCacheName(std::string_view name) {
  if (name.size() < 64) return false;
  for (char c : name.substr(0, 64)) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  std::string_view rest = name.substr(64);
  return rest.empty() || (rest.front() == '.' && IsExtension(rest.substr(1)));
}

struct Pending {
  bool done = false;
  absl::Status status;
};

struct Entry {
  uint64_t size = 0;
  int pins = 0;
  std::shared_ptr<Pending> pending;      // set while the first Fetch downloads it
  std::list<std::string>::iterator lru;  // valid once downloaded
};

}  // namespace

struct CachedFile::State {
  std::string dir;
  uint64_t capacity = 0;
  std::mutex mu;
  std::condition_variable downloaded;
  std::unordered_map<std::string, Entry> entries;
  std::list<std::string> lru;  // downloaded entries, least recently fetched first
  DiskCache::Stats stats;

  // Deletes unpinned files, least recently fetched first, until the cached
  // bytes fit the capacity.
  void EvictLocked() {
    for (auto it = lru.begin(); it != lru.end() && stats.bytes > capacity;) {
      Entry& entry = entries.at(*it);
      std::string path = StrCat(dir, "/", *it);
      if (entry.pins > 0 || (::unlink(path.c_str()) != 0 && errno != ENOENT)) {
        ++it;  // in use, or undeletable: it still occupies the disk
        continue;
      }
      stats.bytes -= entry.size;
      stats.files -= 1;
      stats.evictions += 1;
      entries.erase(*it);
      it = lru.erase(it);
    }
  }

  void Unpin(const std::string& name) {
    std::lock_guard lock(mu);
    auto it = entries.find(name);
    if (it == entries.end()) return;
    if (--it->second.pins == 0) EvictLocked();
  }
};

CachedFile::CachedFile(CachedFile&& other) noexcept
    : state_(std::move(other.state_)),
      name_(std::move(other.name_)),
      path_(std::move(other.path_)) {
  other.state_.reset();
}

CachedFile& CachedFile::operator=(CachedFile&& other) noexcept {
  if (this != &other) {
    Unpin();
    state_ = std::move(other.state_);
    other.state_.reset();
    name_ = std::move(other.name_);
    path_ = std::move(other.path_);
  }
  return *this;
}

CachedFile::~CachedFile() { Unpin(); }

void CachedFile::Unpin() {
  if (state_) state_->Unpin(name_);
  state_.reset();
}

absl::StatusOr<std::unique_ptr<DiskCache>> DiskCache::Open(std::string dir,
                                                           uint64_t capacity_bytes) {
  FileSystem* fs = DefaultFileSystem();
  RETURN_IF_ERROR(fs->CreateDirs(dir));
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  struct Found {
    std::string name;
    uint64_t size;
    int64_t modified_ns;
  };
  std::vector<Found> found;
  for (const std::string& name : names) {
    std::string path = StrCat(dir, "/", name);
    if (StartsWith(name, kTempPrefix)) {
      RETURN_IF_ERROR(fs->Remove(path));  // an interrupted download
      continue;
    }
    struct stat st {};
    if (!IsCacheName(name) || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    found.push_back(Found{name, static_cast<uint64_t>(st.st_size),
                          int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec});
  }
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.modified_ns < b.modified_ns; });

  auto state = std::make_shared<CachedFile::State>();
  state->dir = dir;
  state->capacity = capacity_bytes;
  for (Found& f : found) {
    Entry& entry = state->entries[f.name];
    entry.size = f.size;
    entry.lru = state->lru.insert(state->lru.end(), f.name);
    state->stats.bytes += f.size;
    state->stats.files += 1;
  }
  {
    std::lock_guard lock(state->mu);
    state->EvictLocked();
  }
  return std::unique_ptr<DiskCache>(new DiskCache(std::move(dir), std::move(state)));
}

DiskCache::~DiskCache() = default;

absl::StatusOr<CachedFile> DiskCache::Fetch(ObjectStore* store, std::string_view key) {
  if (std::optional<std::string> local = store->LocalPath(key)) {
    ASSIGN_OR_RETURN(std::optional<ObjectInfo> info, store->Head(key));
    if (!info) return absl::NotFoundError(StrCat("no object ", store->Uri(key)));
    return CachedFile(nullptr, "", *local);
  }
  const std::string name = CacheName(store->Uri(key), key);
  const std::string path = StrCat(dir_, "/", name);
  CachedFile::State& s = *state_;

  std::unique_lock lock(s.mu);
  for (auto it = s.entries.find(name); it != s.entries.end(); it = s.entries.find(name)) {
    Entry& entry = it->second;
    if (!entry.pending) {
      entry.pins += 1;
      s.lru.splice(s.lru.end(), s.lru, entry.lru);
      s.stats.hits += 1;
      return CachedFile(state_, name, path);
    }
    // Another caller is downloading it: share that download's outcome.
    std::shared_ptr<Pending> pending = entry.pending;
    s.stats.waits += 1;
    s.downloaded.wait(lock, [&] { return pending->done; });
    if (!pending->status.ok()) return pending->status;
    // Downloaded (and pinned by its downloader, unless already released and
    // evicted, in which case the loop downloads it again).
  }

  s.stats.misses += 1;
  auto pending = std::make_shared<Pending>();
  s.entries[name].pending = pending;
  lock.unlock();
  absl::Status st = store->GetToFile(key, path);
  absl::StatusOr<uint64_t> size = st.ok() ? LocalFileSize(path) : absl::StatusOr<uint64_t>(st);
  lock.lock();

  pending->done = true;
  s.downloaded.notify_all();
  if (!size.ok()) {
    s.entries.erase(name);
    pending->status = size.status();
    ::unlink(path.c_str());
    return size.status();
  }
  Entry& entry = s.entries[name];
  entry.pending.reset();
  entry.size = *size;
  entry.pins = 1;
  entry.lru = s.lru.insert(s.lru.end(), name);
  s.stats.bytes += *size;
  s.stats.files += 1;
  s.EvictLocked();
  return CachedFile(state_, name, path);
}

DiskCache::Stats DiskCache::stats() const {
  std::lock_guard lock(state_->mu);
  return state_->stats;
}

uint64_t DiskCache::capacity() const { return state_->capacity; }

}  // namespace signaldb::objstore
