// The authenticator's answers for every combination of key, tenant and
// dataset a request can send.
#include "auth/auth.h"

#include <map>

#include "gtest/gtest.h"

namespace signaldb::auth {
namespace {

std::vector<Tenant> TwoTenants() {
  Config::Auth c;
  Config::AuthTenant acme;
  acme.id = "acme";
  acme.slug = "acme-corp";
  acme.default_dataset = "production";
  acme.datasets = {{"production", "prod", false, ""}, {"archive", "archive", false, ""}};
  acme.api_keys = {{"sk-acme-key-1", "ci"}};
  Config::AuthTenant globex;
  globex.id = "globex";
  globex.datasets = {{"main", "", true, ""}, {"staging", "", false, ""}};
  globex.api_keys = {{"sk-globex-key", "prod"}};
  Config::AuthTenant empty;
  empty.id = "initech";
  empty.api_keys = {{"sk-initech-key", "x"}};
  c.tenants = {acme, globex, empty};
  return TenantsFromConfig(c);
}

std::string Answer(const Authenticator& a, const Credentials& c) {
  auto r = a.Authenticate(c);
  if (!r.ok()) return std::string(absl::StatusCodeToString(r.status().code()));
  return r->tenant + "/" + r->dataset;
}

TEST(AuthTest, HashesAreSha256Hex) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(HashKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  for (const auto& t : TwoTenants()) {
    for (const auto& k : t.keys) EXPECT_EQ(k.hash.size(), 64u);  // the secret itself is not kept
  }
}

TEST(AuthTest, DisabledIsDefaultDefault) {
  Authenticator a(false, "", TwoTenants());
  EXPECT_EQ(Answer(a, {}), "default/default");
  EXPECT_EQ(Answer(a, {"Bearer nonsense", "globex", "x"}), "default/default");
}

TEST(AuthTest, KeysTenantsAndDatasets) {
  Authenticator a(true, "", TwoTenants());
  EXPECT_EQ(Answer(a, {}), "UNAUTHENTICATED");
  EXPECT_EQ(Answer(a, {"Bearer", "", ""}), "UNAUTHENTICATED");
  EXPECT_EQ(Answer(a, {"Basic sk-acme-key-1", "", ""}), "UNAUTHENTICATED");
  EXPECT_EQ(Answer(a, {"Bearer sk-unknown", "", ""}), "UNAUTHENTICATED");
  // The tenant's default dataset, or the one marked default.
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "", ""}), "acme/production");
  EXPECT_EQ(Answer(a, {"bearer  sk-acme-key-1 ", "", ""}), "acme/production");
  EXPECT_EQ(Answer(a, {"Bearer sk-globex-key", "", ""}), "globex/main");
  // Tenant named by id or slug; another tenant is forbidden.
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "acme", ""}), "acme/production");
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "acme-corp", ""}), "acme/production");
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "globex", ""}), "PERMISSION_DENIED");
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "nobody", ""}), "PERMISSION_DENIED");
  // Datasets by id or slug; another tenant's dataset does not exist here.
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "", "prod"}), "acme/production");
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "", "archive"}), "acme/archive");
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "", "staging"}), "NOT_FOUND");
  EXPECT_EQ(Answer(a, {"Bearer sk-globex-key", "globex", "staging"}), "globex/staging");
  // No dataset named and none default.
  EXPECT_EQ(Answer(a, {"Bearer sk-initech-key", "", ""}), "INVALID_ARGUMENT");
}

TEST(AuthTest, RevokedKeysAndLiveChanges) {
  Authenticator a(true, "", TwoTenants());
  auto tenants = TwoTenants();
  tenants[0].keys[0].revoked = true;
  tenants[1].keys.push_back({"db:2", "new", HashKey("sk-globex-new"), false});
  a.Replace(tenants);
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "", ""}), "UNAUTHENTICATED");
  EXPECT_EQ(Answer(a, {"Bearer sk-globex-new", "", ""}), "globex/main");
}

TEST(AuthTest, AKeyHeldByTwoTenantsBelongsToNeither) {
  auto tenants = TwoTenants();
  tenants[1].keys.push_back({"db:9", "copy", HashKey("sk-acme-key-1"), false});
  Authenticator a(true, "", tenants);
  EXPECT_EQ(Answer(a, {"Bearer sk-acme-key-1", "", ""}), "UNAUTHENTICATED");
}

TEST(AuthTest, CredentialsFromHeaders) {
  std::map<std::string, std::string> h = {{"authorization", "Bearer k"}, {"x-scope-orgid", "grafana-org"},
                                          {"x-dataset-id", "d"}};
  auto get = [&](const char* n) { return h.count(n) ? h[n] : std::string(); };
  Credentials c = CredentialsFrom(get);
  EXPECT_EQ(c.authorization, "Bearer k");
  EXPECT_EQ(c.tenant, "grafana-org");  // X-Scope-OrgID when X-Tenant-ID is absent
  EXPECT_EQ(c.dataset, "d");
  h["x-tenant-id"] = "t";
  EXPECT_EQ(CredentialsFrom(get).tenant, "t");
}

TEST(AuthTest, AdminKey) {
  Authenticator a(true, "sk-admin-key", {});
  EXPECT_TRUE(a.IsAdmin("Bearer sk-admin-key"));
  EXPECT_FALSE(a.IsAdmin("Bearer sk-admin-kez"));
  EXPECT_FALSE(a.IsAdmin("sk-admin-key"));
  EXPECT_FALSE(a.IsAdmin(""));
  Authenticator none(true, "", {});
  EXPECT_FALSE(none.IsAdmin("Bearer "));
  EXPECT_FALSE(none.IsAdmin("Bearer x"));
}

}  // namespace
}  // namespace signaldb::auth
