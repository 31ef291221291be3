// memory:// store: objects live in a process-wide registry of named buckets,
// so every store opened on "memory://x" sees the same objects. Buckets live
// until the process exits.
#include <map>
#include <mutex>

#include "common/fs.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "objstore/internal.h"

namespace signaldb::objstore {
namespace {

struct MemoryObject {
  // Shared so a Get copies outside the bucket lock.
  std::shared_ptr<const std::string> data;
  std::chrono::system_clock::time_point modified;
};

struct MemoryBucket {
  std::mutex mu;
  std::map<std::string, MemoryObject, std::less<>> objects;
};

std::shared_ptr<MemoryBucket> BucketNamed(const std::string& name) {
  static std::mutex mu;
  static auto* buckets = new std::map<std::string, std::shared_ptr<MemoryBucket>>();
  std::lock_guard lock(mu);
  auto& bucket = (*buckets)[name];
  if (!bucket) bucket = std::make_shared<MemoryBucket>();
  return bucket;
}

class MemoryStore final : public ObjectStore {
 public:
  MemoryStore(std::string name, std::shared_ptr<MemoryBucket> bucket)
      : base_(StrCat("memory://", name, "/")), bucket_(std::move(bucket)) {}

  std::string Uri(std::string_view key) const override { return StrCat(base_, key); }

  std::optional<std::string> KeyOf(std::string_view uri) const override {
    if (!StartsWith(uri, base_)) return std::nullopt;
    std::string_view key = uri.substr(base_.size());
    if (!ValidateKey(key).ok()) return std::nullopt;
    return std::string(key);
  }

  absl::Status Put(std::string_view key, std::string_view data) override {
    RETURN_IF_ERROR(ValidateKey(key));
    auto object = std::make_shared<const std::string>(data);
    std::lock_guard lock(bucket_->mu);
    bucket_->objects[std::string(key)] =
        MemoryObject{std::move(object), std::chrono::system_clock::now()};
    return absl::OkStatus();
  }

  absl::Status PutFile(std::string_view key, const std::string& local_path) override {
    RETURN_IF_ERROR(ValidateKey(key));
    ASSIGN_OR_RETURN(std::string data, DefaultFileSystem()->ReadFile(local_path));
    return Put(key, data);
  }

  absl::StatusOr<std::string> Get(std::string_view key) override {
    ASSIGN_OR_RETURN(auto data, Find(key));
    return std::string(*data);
  }

  absl::Status GetToFile(std::string_view key, const std::string& local_path) override {
    ASSIGN_OR_RETURN(auto data, Find(key));
    ASSIGN_OR_RETURN(auto file, AtomicFile::Create(local_path));
    RETURN_IF_ERROR(file->Append(*data));
    return file->Commit();
  }

  absl::Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(bucket_->mu);
    auto it = bucket_->objects.find(key);
    if (it != bucket_->objects.end()) bucket_->objects.erase(it);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<ObjectInfo>> Head(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(bucket_->mu);
    auto it = bucket_->objects.find(key);
    if (it == bucket_->objects.end()) return std::nullopt;
    return ObjectInfo{it->first, it->second.data->size(), it->second.modified};
  }

  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::vector<ObjectInfo> out;
    std::lock_guard lock(bucket_->mu);
    for (auto it = bucket_->objects.lower_bound(prefix);
         it != bucket_->objects.end() && StartsWith(it->first, prefix); ++it) {
      out.push_back(ObjectInfo{it->first, it->second.data->size(), it->second.modified});
    }
    return out;
  }

  std::optional<std::string> LocalPath(std::string_view) const override { return std::nullopt; }

 private:
  absl::StatusOr<std::shared_ptr<const std::string>> Find(std::string_view key) {
    RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(bucket_->mu);
    auto it = bucket_->objects.find(key);
    if (it == bucket_->objects.end()) return absl::NotFoundError(StrCat("no object ", Uri(key)));
    return it->second.data;
  }

  const std::string base_;
  const std::shared_ptr<MemoryBucket> bucket_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ObjectStore>> OpenMemoryStore(const std::string& name) {
  return std::make_unique<MemoryStore>(name, BucketNamed(name));
}

}  // namespace signaldb::objstore
