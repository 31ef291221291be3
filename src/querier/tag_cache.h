// What the tag endpoints found in each data file, kept in memory: a data
// file never changes once written, so its attribute names and the values of
// a tag are read from it once, and later requests read only the files
// flushed or compacted since (and the writer's buffer, always).
//
// Thread-safe. Bounded: past `max_bytes` of cached names and values (their
// text plus a fixed cost per string and entry) the whole cache is dropped and
// refills on demand (files replaced by compaction leave entries behind until
// then).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace signaldb::querier {

class TagCache {
 public:
  // scope ("span", "resource", ...) -> names.
  using Names = std::map<std::string, std::set<std::string>>;
  // A file's values of one tag, (type, value) pairs in order; `truncated`
  // when the file holds more than were kept (the first ones by that order).
  struct Values {
    std::vector<std::pair<std::string, std::string>> values;
    bool truncated = false;
  };
  // Names and values kept per file and tag at most; more are `truncated`.
  static constexpr size_t kPerFile = 10000;

  static constexpr size_t kStringCost = 64;  // beyond the text: node, allocation
  explicit TagCache(size_t max_bytes = 256ull << 20) : max_bytes_(max_bytes) {}

  // Null when not cached. `file` is the file's lasting name (its URI).
  std::shared_ptr<const Names> names(const std::string& file) const;
  // Store and return the entry.
  std::shared_ptr<const Names> put_names(const std::string& file, Names names);
  std::shared_ptr<const Values> values(const std::string& file, const std::string& tag) const;
  std::shared_ptr<const Values> put_values(const std::string& file, const std::string& tag, Values values);

 private:
  void Charge(size_t bytes);  // mu_ held

  const size_t max_bytes_;
  mutable std::mutex mu_;
  size_t bytes_ = 0;
  std::map<std::string, std::shared_ptr<const Names>> names_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const Values>> values_;
};

}  // namespace signaldb::querier
