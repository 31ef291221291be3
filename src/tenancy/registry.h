// The tenants SignalDB serves, from [[auth.tenants]] in the configuration and
// from the service database (store.h), merged into one view that feeds the
// Authenticator, the per-tenant limits and per-dataset storage. The admin API
// changes the database through the registry, which applies each change
// before returning; a background refresher re-reads the database so changes
// made by other processes apply within Options::refresh_interval.
//
// Config tenants win over database rows that clash with them (same id or
// slug) and cannot be changed through the API (FailedPrecondition); they may
// get more datasets and keys from the database.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/auth.h"
#include "common/tenant.h"
#include "config/config.h"
#include "tenancy/store.h"

namespace signaldb::tenancy {

enum class Source { kConfig, kDatabase };
inline const char* SourceName(Source s) { return s == Source::kConfig ? "config" : "database"; }

struct TenantInfo {
  TenantRow row;  // times 0 for config tenants
  Source source = Source::kDatabase;
  TenantLimits effective;  // [limits] with the tenant's overrides
};
struct DatasetInfo {
  DatasetRow row;
  Source source = Source::kDatabase;
};
struct ApiKeyInfo {
  ApiKeyRow row;  // key_hash never leaves the registry's callers' hands
  Source source = Source::kDatabase;
};
struct NewApiKey {
  ApiKeyInfo info;
  std::string secret;  // shown once
};

// Input of tenant creation and update (absent: unchanged / defaulted).
struct TenantSpec {
  std::optional<std::string> id, slug, name, default_dataset;
  std::optional<LimitOverrides> limits;
};
struct DatasetSpec {
  std::optional<std::string> id, slug, name;
  bool is_default = false;
  std::string storage_dsn;
};

// The request field an InvalidArgument error is about ("slug",
// "limits.max_query_range"), or "".
std::string FieldOf(const absl::Status& status);

class Registry {
 public:
  struct Options {
    bool auth_enabled = false;
    std::string admin_api_key;
    TenantLimits default_limits;
    std::vector<Config::AuthTenant> config_tenants;
    std::chrono::milliseconds refresh_interval{5000};
    // The default storage ([storage] dsn as a URI) and SignalDB's own
    // directories (data, WAL, local storage): a dataset's own storage may
    // equal the default but not lie inside or around these.
    std::string default_storage;
    std::vector<std::string> reserved_dirs;
    // Asked before a dataset is created; an error refuses the creation (the
    // writer: its data already lives on other storage).
    std::function<absl::Status(const TenantContext&, const std::string& dsn)> check_storage;
  };
  // Loads the database once; starts the refresher when refresh_interval > 0.
  static absl::StatusOr<std::unique_ptr<Registry>> Open(Options options, std::unique_ptr<Store> store);
  ~Registry();

  const auth::Authenticator& authenticator() const { return authenticator_; }
  // The tenant's limits (the [limits] defaults for unknown tenants).
  TenantLimits LimitsOf(const std::string& tenant) const;
  // The storage DSN of a database dataset with its own, or "".
  std::string StorageOf(const TenantContext& ctx) const;
  // Re-reads the database and applies it.
  absl::Status Refresh();

  // The admin API's operations. A tenant or dataset is named by id or slug.
  // NotFound for unknown names; AlreadyExists for taken ids, slugs or key
  // names; FailedPrecondition for config-defined objects; InvalidArgument
  // (FieldOf) for bad input.
  std::vector<TenantInfo> ListTenants() const;
  absl::StatusOr<TenantInfo> GetTenant(const std::string& tenant) const;
  absl::StatusOr<TenantInfo> CreateTenant(const TenantSpec& spec);
  absl::StatusOr<TenantInfo> UpdateTenant(const std::string& tenant, const TenantSpec& spec);
  absl::Status DeleteTenant(const std::string& tenant);

  absl::StatusOr<std::vector<ApiKeyInfo>> ListApiKeys(const std::string& tenant) const;
  absl::StatusOr<NewApiKey> CreateApiKey(const std::string& tenant, const std::string& name);
  absl::StatusOr<ApiKeyInfo> RevokeApiKey(const std::string& tenant, const std::string& key_id);

  absl::StatusOr<std::vector<DatasetInfo>> ListDatasets(const std::string& tenant) const;
  absl::StatusOr<DatasetInfo> CreateDataset(const std::string& tenant, const DatasetSpec& spec);
  absl::Status DeleteDataset(const std::string& tenant, const std::string& dataset);

 private:
  struct State {
    std::vector<TenantInfo> tenants;
    std::vector<DatasetInfo> datasets;
    std::vector<ApiKeyInfo> keys;
    std::map<std::string, TenantLimits> limits;  // by tenant id (asked per request)
  };
  Registry(Options options, std::unique_ptr<Store> store);
  std::shared_ptr<const State> state() const;
  absl::Status Apply(const StoreSnapshot& snapshot);
  const TenantInfo* Find(const State& s, const std::string& tenant) const;
  // The storage DSN of a new dataset, normalized, or why it is refused.
  absl::StatusOr<std::string> CheckDatasetStorage(const State& s, const std::string& dsn) const;
  void RefreshLoop();

  const Options options_;
  const std::vector<auth::Tenant> config_tenants_;  // options_.config_tenants, keys hashed
  std::unique_ptr<Store> store_;
  auth::Authenticator authenticator_;
  std::mutex admin_mu_;    // one admin change at a time in this process
  std::mutex refresh_mu_;  // one read-and-apply of the database at a time
  std::set<std::string> warned_shadowed_;  // guarded by refresh_mu_
  mutable std::mutex mu_;
  std::shared_ptr<const State> state_;  // guarded by mu_ (the pointer)
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace signaldb::tenancy
