// Who a request comes from: API keys, tenants and datasets (issue 7).
//
// With [auth] enabled, every ingest and query request carries
// `Authorization: Bearer <api key>` (HTTP header or gRPC metadata), and may
// name its tenant (X-Tenant-ID, or X-Scope-OrgID as Grafana and Tempo
// clients send it) and dataset (X-Dataset-ID). Authenticate() turns that into
// the TenantContext the rest of SignalDB works in, or an error whose code the
// protocols map to their statuses:
//   missing, unknown or revoked key      Unauthenticated   401 / UNAUTHENTICATED
//   key of another tenant than named     PermissionDenied  403 / PERMISSION_DENIED
//   dataset the tenant does not have     NotFound          404 / NOT_FOUND
//   no dataset named and no default      InvalidArgument   400 / INVALID_ARGUMENT
// Keys are held only as SHA-256 hashes and compared in constant time. With
// auth disabled everything is tenant "default", dataset "default".
//
// Thread-safety: all methods may be called concurrently; Replace() swaps the
// tenant set atomically (requests see the old or the new set, whole).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/tenant.h"
#include "config/config.h"

namespace signaldb::auth {

// What a request says about itself (empty: absent).
struct Credentials {
  std::string authorization;  // the Authorization header / metadata
  std::string tenant;         // X-Tenant-ID, else X-Scope-OrgID
  std::string dataset;        // X-Dataset-ID
};

// The credentials of a request from its headers (HTTP) or metadata (gRPC),
// looked up by lowercase name: authorization, x-tenant-id (else
// x-scope-orgid), x-dataset-id. `get` answers "" for an absent one.
Credentials CredentialsFrom(const std::function<std::string(const char* lowercase_name)>& get);

// SHA-256 of `key` as 64 lowercase hex digits.
std::string HashKey(std::string_view key);

// The tenants requests may belong to, with their datasets and key hashes.
struct Dataset {
  std::string id, slug;
  bool is_default = false;
};
struct ApiKey {
  std::string id;    // stable name of the key (for listing and revoking)
  std::string name;
  std::string hash;  // HashKey of the secret
  bool revoked = false;
};
struct Tenant {
  std::string id, slug, name;
  std::string default_dataset;  // a dataset id, or empty
  std::vector<Dataset> datasets;
  std::vector<ApiKey> keys;
};

// The tenants of [[auth.tenants]] (keys hashed here; the secrets are not kept).
std::vector<Tenant> TenantsFromConfig(const Config::Auth& auth);

class Authenticator {
 public:
  Authenticator(bool enabled, std::string admin_api_key, std::vector<Tenant> tenants);

  bool enabled() const { return enabled_; }
  absl::StatusOr<TenantContext> Authenticate(const Credentials& credentials) const;
  // Whether `authorization` ("Bearer <key>") carries the admin API key
  // (never, when none is configured).
  bool IsAdmin(std::string_view authorization) const;
  bool has_admin_key() const { return !admin_hash_.empty(); }
  // Swaps in a new tenant set (changes made through the admin API).
  void Replace(std::vector<Tenant> tenants);

 private:
  const bool enabled_;
  const std::string admin_hash_;  // empty: no admin key
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<Tenant>> tenants_;  // guarded by mu_ (the pointer)
};

}  // namespace signaldb::auth
