#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/hex.h"
#include "common/strings.h"

namespace signaldb::auth {
namespace {

// The key of "Bearer <key>" (scheme case-insensitive), or empty.
std::string_view BearerKey(std::string_view authorization) {
  authorization = Trim(authorization);
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  return Trim(authorization.substr(kScheme.size()));
}

// Equal hashes, in time independent of where they differ.
bool SameHash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Credentials CredentialsFrom(const std::function<std::string(const char* lowercase_name)>& get) {
  Credentials c;
  c.authorization = get("authorization");
  c.tenant = get("x-tenant-id");
  if (c.tenant.empty()) c.tenant = get("x-scope-orgid");
  c.dataset = get("x-dataset-id");
  return c;
}

std::string HashKey(std::string_view key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::vector<Tenant> TenantsFromConfig(const Config::Auth& auth) {
  std::vector<Tenant> out;
  for (const auto& t : auth.tenants) {
    Tenant tenant{t.id, t.slug.empty() ? t.id : t.slug, t.name, t.default_dataset, {}, {}};
    for (const auto& d : t.datasets) tenant.datasets.push_back({d.id, d.slug.empty() ? d.id : d.slug, d.is_default});
    for (const auto& k : t.api_keys) {
      tenant.keys.push_back({StrCat("config:", k.name.empty() ? HashKey(k.key).substr(0, 12) : k.name), k.name,
                             HashKey(k.key), false});
    }
    out.push_back(std::move(tenant));
  }
  return out;
}

Authenticator::Authenticator(bool enabled, std::string admin_api_key, std::vector<Tenant> tenants)
    : enabled_(enabled),
      admin_hash_(admin_api_key.empty() ? std::string() : HashKey(admin_api_key)),
      tenants_(std::make_shared<const std::vector<Tenant>>(std::move(tenants))) {}

void Authenticator::Replace(std::vector<Tenant> tenants) {
  auto fresh = std::make_shared<const std::vector<Tenant>>(std::move(tenants));
  std::lock_guard lock(mu_);
  tenants_ = std::move(fresh);
}

bool Authenticator::IsAdmin(std::string_view authorization) const {
  const std::string_view key = BearerKey(authorization);
  return !admin_hash_.empty() && !key.empty() && SameHash(HashKey(key), admin_hash_);
}

absl::StatusOr<TenantContext> Authenticator::Authenticate(const Credentials& c) const {
  if (!enabled_) return TenantContext{};
  const std::string_view key = BearerKey(c.authorization);
  if (key.empty()) {
    return absl::UnauthenticatedError("missing API key: send Authorization: Bearer <api key>");
  }
  std::shared_ptr<const std::vector<Tenant>> tenants;
  {
    std::lock_guard lock(mu_);
    tenants = tenants_;
  }
  // Every key is compared (no early exit), each in constant time.
  const std::string hash = HashKey(key);
  const Tenant* owner = nullptr;
  bool revoked = false;
  int matches = 0;
  for (const auto& t : *tenants) {
    for (const auto& k : t.keys) {
      if (SameHash(hash, k.hash)) {
        owner = &t;
        revoked = k.revoked;
        ++matches;
      }
    }
  }
  // A key held twice (configuration refuses it) belongs to nobody.
  if (owner == nullptr || revoked || matches != 1) return absl::UnauthenticatedError("invalid or revoked API key");
  if (!c.tenant.empty() && c.tenant != owner->id && c.tenant != owner->slug) {
    return absl::PermissionDeniedError(StrCat("the API key does not belong to tenant '", c.tenant, "'"));
  }
  TenantContext ctx;
  ctx.tenant = owner->id;
  if (!c.dataset.empty()) {
    // Named by id or slug.
    for (const auto& d : owner->datasets) {
      if (c.dataset == d.id || c.dataset == d.slug) {
        ctx.dataset = d.id;
        return ctx;
      }
    }
    return absl::NotFoundError(StrCat("dataset '", c.dataset, "' not found for tenant '", owner->id, "'"));
  }
  if (!owner->default_dataset.empty()) {
    ctx.dataset = owner->default_dataset;
    return ctx;
  }
  for (const auto& d : owner->datasets) {
    if (d.is_default) {
      ctx.dataset = d.id;
      return ctx;
    }
  }
  return absl::InvalidArgumentError(StrCat("no dataset: send X-Dataset-ID, or give tenant '", owner->id,
                                           "' a default dataset"));
}

}  // namespace signaldb::auth
