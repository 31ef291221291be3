#include "querier/tag_cache.h"

namespace signaldb::querier {

std::shared_ptr<const TagCache::Names> TagCache::names(const std::string& file) const {
  std::lock_guard lock(mu_);
  auto it = names_.find(file);
  return it == names_.end() ? nullptr : it->second;
}

std::shared_ptr<const TagCache::Names> TagCache::put_names(const std::string& file, Names names) {
  size_t bytes = kStringCost + file.size();
  for (const auto& [scope, set] : names) {
    for (const auto& n : set) bytes += kStringCost + n.size();
  }
  std::lock_guard lock(mu_);
  // Filled meanwhile by another request: keep that one, charged once.
  if (auto it = names_.find(file); it != names_.end()) return it->second;
  Charge(bytes);
  auto entry = std::make_shared<const Names>(std::move(names));
  names_[file] = entry;
  return entry;
}

std::shared_ptr<const TagCache::Values> TagCache::values(const std::string& file, const std::string& tag) const {
  std::lock_guard lock(mu_);
  auto it = values_.find({file, tag});
  return it == values_.end() ? nullptr : it->second;
}

std::shared_ptr<const TagCache::Values> TagCache::put_values(const std::string& file, const std::string& tag,
                                                             Values values) {
  size_t bytes = kStringCost + file.size() + tag.size();
  for (const auto& [type, value] : values.values) bytes += kStringCost + type.size() + value.size();
  std::lock_guard lock(mu_);
  if (auto it = values_.find({file, tag}); it != values_.end()) return it->second;
  Charge(bytes);
  auto entry = std::make_shared<const Values>(std::move(values));
  values_[{file, tag}] = entry;
  return entry;
}

void TagCache::Charge(size_t bytes) {
  if (bytes_ + bytes > max_bytes_) {
    names_.clear();
    values_.clear();
    bytes_ = 0;
  }
  bytes_ += bytes;
}

}  // namespace signaldb::querier
