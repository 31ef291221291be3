#include "querier/tag_cache.h"

namespace signaldb::querier {

std::shared_ptr<const TagCache::Names> TagCache::names(const std::string& file) const {
  std::lock_guard lock(mu_);
  auto it = names_.find(file);
  return it == names_.end() ? nullptr : it->second;
}

std::shared_ptr<const TagCache::Names> TagCache::put_names(const std::string& file, Names names) {
  size_t strings = 1;
  for (const auto& [scope, set] : names) strings += set.size();
  std::lock_guard lock(mu_);
  Charge(strings);
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
  const size_t strings = 1 + values.values.size();
  std::lock_guard lock(mu_);
  Charge(strings);
  auto entry = std::make_shared<const Values>(std::move(values));
  values_[{file, tag}] = entry;
  return entry;
}

void TagCache::Charge(size_t strings) {
  if (strings_ + strings > max_strings_) {
    names_.clear();
    values_.clear();
    strings_ = 0;
  }
  strings_ += strings;
}

}  // namespace signaldb::querier
