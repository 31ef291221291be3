// The service database's tenancy tables: tenants, api_keys (with revoked_at)
// and datasets, as the admin API changes them (docs/admin-api.md has the
// columns). One implementation over SqlDb, so SQLite and PostgreSQL behave
// alike. Times are Unix milliseconds.
//
// Thread-safety: all methods may be called concurrently (one statement or
// transaction at a time on the connection); several processes may share the
// database.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "tenancy/sql_db.h"

namespace signaldb::tenancy {

struct TenantRow {
  std::string id, slug, name;
  std::string default_dataset;  // empty: none
  LimitOverrides limits;
  int64_t created_at = 0, updated_at = 0;
};
struct DatasetRow {
  std::string tenant_id, id, slug, name;
  bool is_default = false;
  std::string storage_dsn;  // empty: [storage] dsn
  int64_t created_at = 0;
};
struct ApiKeyRow {
  std::string id, tenant_id, name;
  std::string key_hash;  // auth::HashKey of the secret
  int64_t created_at = 0;
  std::optional<int64_t> revoked_at;
};
struct StoreSnapshot {
  std::vector<TenantRow> tenants;
  std::vector<DatasetRow> datasets;
  std::vector<ApiKeyRow> api_keys;
};

class Store {
 public:
  // Opens the database (PostgreSQL URI or SQLite path) and creates the tables
  // when missing.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dsn_or_path);

  // Every row of the three tables, ordered by tenant and creation.
  absl::StatusOr<StoreSnapshot> Load();

  // AlreadyExists when the id or slug is taken.
  absl::Status InsertTenant(const TenantRow& tenant);
  // Writes slug, name, default_dataset, limits and updated_at of the row with
  // tenant.id. NotFound when there is none; AlreadyExists for a taken slug.
  absl::Status UpdateTenant(const TenantRow& tenant);
  // Deletes the tenant with its keys and datasets (one transaction);
  // NotFound when there is none.
  absl::Status DeleteTenant(const std::string& id);

  // AlreadyExists when the tenant has a dataset of that id or slug.
  absl::Status InsertDataset(const DatasetRow& dataset);
  // NotFound when there is none.
  absl::Status DeleteDataset(const std::string& tenant_id, const std::string& id);

  // AlreadyExists when the tenant has a key of that name (or the hash is
  // taken).
  absl::Status InsertApiKey(const ApiKeyRow& key);
  // Sets revoked_at (once: a revoked key keeps its first time). NotFound when
  // the tenant has no key `id`.
  absl::StatusOr<ApiKeyRow> RevokeApiKey(const std::string& tenant_id, const std::string& id, int64_t at);

 private:
  explicit Store(std::unique_ptr<SqlDb> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<SqlDb> db_;  // guarded by mu_
};

}  // namespace signaldb::tenancy
