#include "tenancy/store.h"

#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace signaldb::tenancy {
namespace {

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS tenants ("
    " id VARCHAR(63) PRIMARY KEY, slug VARCHAR(63) NOT NULL UNIQUE, name VARCHAR(255) NOT NULL DEFAULT '',"
    " default_dataset VARCHAR(63), limits TEXT NOT NULL DEFAULT '{}',"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " source VARCHAR(16) NOT NULL DEFAULT 'database' CHECK (source IN ('config', 'database')));"
    "CREATE TABLE IF NOT EXISTS api_keys ("
    " id VARCHAR(64) PRIMARY KEY, key_hash VARCHAR(64) NOT NULL UNIQUE, tenant_id VARCHAR(63) NOT NULL,"
    " name VARCHAR(255) NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT,"
    " UNIQUE (tenant_id, name));"
    "CREATE TABLE IF NOT EXISTS datasets ("
    " tenant_id VARCHAR(63) NOT NULL, id VARCHAR(63) NOT NULL, slug VARCHAR(63) NOT NULL,"
    " name VARCHAR(255) NOT NULL DEFAULT '', is_default INTEGER NOT NULL DEFAULT 0, storage_dsn TEXT,"
    " created_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, slug));";

std::string Text(const SqlDb::Value& v) { return v.value_or(""); }
int64_t Int(const SqlDb::Value& v) {
  int64_t n = 0;
  return v && ParseInt(std::string_view(*v), &n) ? n : 0;
}
SqlDb::Value OrNull(const std::string& s) { return s.empty() ? SqlDb::Value() : SqlDb::Value(s); }

std::string LimitsJson(const LimitOverrides& limits) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : limits) j[k] = v;
  return j.dump();
}

LimitOverrides ParseLimits(const std::string& tenant, const std::string& text) {
  LimitOverrides out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    spdlog::warn("service database: tenant {} has unreadable limits; using the defaults", tenant);
    return out;
  }
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

constexpr char kSelectKey[] =
    "SELECT id, tenant_id, name, key_hash, created_at, revoked_at FROM api_keys";

ApiKeyRow KeyFromRow(const SqlDb::Row& r) {
  ApiKeyRow k{Text(r[0]), Text(r[1]), Text(r[2]), Text(r[3]), Int(r[4]), std::nullopt};
  if (r[5]) k.revoked_at = Int(r[5]);
  return k;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dsn_or_path) {
  ASSIGN_OR_RETURN(auto db, OpenSqlDb(dsn_or_path));
  RETURN_IF_ERROR(db->CreateSchema(kSchema));
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

absl::StatusOr<StoreSnapshot> Store::Load() {
  std::lock_guard lock(mu_);
  StoreSnapshot out;
  ASSIGN_OR_RETURN(auto tenants, db_->Run("SELECT id, slug, name, default_dataset, limits, created_at, updated_at"
                                          " FROM tenants ORDER BY created_at, id"));
  for (const auto& r : tenants.rows) {
    out.tenants.push_back({Text(r[0]), Text(r[1]), Text(r[2]), Text(r[3]), ParseLimits(Text(r[0]), Text(r[4])),
                           Int(r[5]), Int(r[6])});
  }
  ASSIGN_OR_RETURN(auto datasets, db_->Run("SELECT tenant_id, id, slug, name, is_default, storage_dsn, created_at"
                                           " FROM datasets ORDER BY tenant_id, created_at, id"));
  for (const auto& r : datasets.rows) {
    out.datasets.push_back({Text(r[0]), Text(r[1]), Text(r[2]), Text(r[3]), Int(r[4]) != 0, Text(r[5]), Int(r[6])});
  }
  ASSIGN_OR_RETURN(auto keys, db_->Run(StrCat(kSelectKey, " ORDER BY tenant_id, created_at, id")));
  for (const auto& r : keys.rows) out.api_keys.push_back(KeyFromRow(r));
  return out;
}

absl::Status Store::InsertTenant(const TenantRow& t) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Run("BEGIN").status());
  auto run = [&]() -> absl::Status {
    // Keys and datasets left by an earlier tenant of this id (one that was in
    // the configuration file) must not carry over to the new one.
    RETURN_IF_ERROR(db_->Run("DELETE FROM api_keys WHERE tenant_id = $1 AND NOT EXISTS"
                             " (SELECT 1 FROM tenants WHERE id = $1)",
                             {t.id})
                        .status());
    RETURN_IF_ERROR(db_->Run("DELETE FROM datasets WHERE tenant_id = $1 AND NOT EXISTS"
                             " (SELECT 1 FROM tenants WHERE id = $1)",
                             {t.id})
                        .status());
    return db_->Run("INSERT INTO tenants (id, slug, name, default_dataset, limits, created_at, updated_at, source)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, 'database')",
                    {t.id, t.slug, t.name, OrNull(t.default_dataset), LimitsJson(t.limits),
                     std::to_string(t.created_at), std::to_string(t.updated_at)})
        .status();
  };
  if (absl::Status st = run(); !st.ok()) {
    (void)db_->Run("ROLLBACK");
    return st;
  }
  return db_->Run("COMMIT").status();
}

absl::Status Store::UpdateTenant(const TenantRow& t) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto r, db_->Run("UPDATE tenants SET slug = $2, name = $3, default_dataset = $4, limits = $5,"
                                    " updated_at = $6 WHERE id = $1",
                                    {t.id, t.slug, t.name, OrNull(t.default_dataset), LimitsJson(t.limits),
                                     std::to_string(t.updated_at)}));
  if (r.affected == 0) return absl::NotFoundError(StrCat("tenant '", t.id, "' not found"));
  return absl::OkStatus();
}

absl::Status Store::DeleteTenant(const std::string& id) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Run("BEGIN").status());
  auto run = [&]() -> absl::StatusOr<int64_t> {
    ASSIGN_OR_RETURN(auto keys, db_->Run("DELETE FROM api_keys WHERE tenant_id = $1", {id}));
    ASSIGN_OR_RETURN(auto datasets, db_->Run("DELETE FROM datasets WHERE tenant_id = $1", {id}));
    ASSIGN_OR_RETURN(auto tenants, db_->Run("DELETE FROM tenants WHERE id = $1", {id}));
    (void)keys;
    (void)datasets;
    return tenants.affected;
  };
  absl::StatusOr<int64_t> deleted = run();
  if (!deleted.ok()) {
    (void)db_->Run("ROLLBACK");
    return deleted.status();
  }
  RETURN_IF_ERROR(db_->Run("COMMIT").status());
  if (*deleted == 0) return absl::NotFoundError(StrCat("tenant '", id, "' not found"));
  return absl::OkStatus();
}

absl::Status Store::InsertDataset(const DatasetRow& d) {
  std::lock_guard lock(mu_);
  return db_->Run("INSERT INTO datasets (tenant_id, id, slug, name, is_default, storage_dsn, created_at)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                  {d.tenant_id, d.id, d.slug, d.name, d.is_default ? "1" : "0", OrNull(d.storage_dsn),
                   std::to_string(d.created_at)})
      .status();
}

absl::Status Store::DeleteDataset(const std::string& tenant_id, const std::string& id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto r, db_->Run("DELETE FROM datasets WHERE tenant_id = $1 AND id = $2", {tenant_id, id}));
  if (r.affected == 0) return absl::NotFoundError(StrCat("dataset '", id, "' not found for tenant '", tenant_id, "'"));
  return absl::OkStatus();
}

absl::Status Store::InsertApiKey(const ApiKeyRow& k) {
  std::lock_guard lock(mu_);
  return db_->Run("INSERT INTO api_keys (id, key_hash, tenant_id, name, created_at, revoked_at)"
                  " VALUES ($1, $2, $3, $4, $5, NULL)",
                  {k.id, k.key_hash, k.tenant_id, k.name, std::to_string(k.created_at)})
      .status();
}

absl::StatusOr<ApiKeyRow> Store::RevokeApiKey(const std::string& tenant_id, const std::string& id, int64_t at) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Run("UPDATE api_keys SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2"
                           " AND revoked_at IS NULL",
                           {tenant_id, id, std::to_string(at)})
                      .status());
  ASSIGN_OR_RETURN(auto r, db_->Run(StrCat(kSelectKey, " WHERE tenant_id = $1 AND id = $2"), {tenant_id, id}));
  if (r.rows.empty()) return absl::NotFoundError(StrCat("API key '", id, "' not found for tenant '", tenant_id, "'"));
  return KeyFromRow(r.rows[0]);
}

}  // namespace signaldb::tenancy
