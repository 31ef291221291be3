// The service database and the registry on both backends: SQLite and a real
// PostgreSQL server (scripts/pg-test-server.sh).
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "catalog/pg_test_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tenancy/registry.h"
#include "tenancy/store.h"

namespace signaldb::tenancy {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

enum class Backend { kSqlite, kPostgres };

std::string Name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

class TenancyTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    std::string unique = std::to_string(::getpid()) + "_" + std::to_string(counter++);
    if (GetParam() == Backend::kSqlite) {
      dir_ = fs::temp_directory_path() / ("sdb_tenancy_test_" + unique);
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      dsn_ = (dir_ / "signaldb.db").string();
      return;
    }
    auto server = catalog::PgTestServer::Shared();
    ASSERT_TRUE(server.ok()) << "PostgreSQL tests need a real server: " << server.status();
    auto uri = (*server)->CreateDatabase("tenancy_test_" + unique);
    ASSERT_TRUE(uri.ok()) << uri.status();
    dsn_ = *uri;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::unique_ptr<Store> OpenStore() {
    auto s = Store::Open(dsn_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // A registry with one configured tenant "acme" (dataset prod, one key).
  std::unique_ptr<Registry> OpenRegistry(std::chrono::milliseconds refresh = std::chrono::milliseconds(0)) {
    Registry::Options o;
    o.auth_enabled = true;
    o.default_limits.query_concurrency = 8;
    Config::AuthTenant acme;
    acme.id = acme.slug = "acme";
    acme.default_dataset = "prod";
    acme.datasets.push_back({"prod", "prod", true, ""});
    acme.api_keys.push_back({"sk-acme-config-key", "deploy"});
    acme.limits["max_query_range"] = "1h";
    o.config_tenants.push_back(acme);
    o.refresh_interval = refresh;
    o.default_storage = "file:///data/signaldb/storage";
    o.reserved_dirs = {"/data/signaldb", "/data/signaldb/wal", "/data/signaldb/storage"};
    o.check_storage = [this](const TenantContext& ctx, const std::string& dsn) -> absl::Status {
      checked_.push_back(ctx.tenant + "/" + ctx.dataset + "=" + dsn);
      return absl::OkStatus();
    };
    auto r = Registry::Open(o, OpenStore());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }

  fs::path dir_;
  std::string dsn_;
  std::vector<std::string> checked_;
};

TEST_P(TenancyTest, StoreKeepsRowsAndRefusesDuplicates) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  TenantRow t{"globex", "gx", "Globex", "main", {{"query_concurrency", "2"}}, 1000, 1000};
  ASSERT_TRUE(store->InsertTenant(t).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(store->InsertTenant(t)));
  TenantRow same_slug{"other", "gx", "", "", {}, 1, 1};
  EXPECT_TRUE(absl::IsAlreadyExists(store->InsertTenant(same_slug)));
  ASSERT_TRUE(store->InsertDataset({"globex", "main", "main", "Main", true, "s3://bucket/gx", 2000}).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(store->InsertDataset({"globex", "main", "m2", "", false, "", 1})));
  ASSERT_TRUE(store->InsertApiKey({"key_a", "globex", "ci", "hash-a", 3000, std::nullopt}).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(store->InsertApiKey({"key_b", "globex", "ci", "hash-b", 1, std::nullopt})));
  EXPECT_TRUE(absl::IsAlreadyExists(store->InsertApiKey({"key_c", "globex", "cd", "hash-a", 1, std::nullopt})));

  auto snap = store->Load();
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_EQ(snap->tenants.size(), 1u);
  EXPECT_EQ(snap->tenants[0].slug, "gx");
  EXPECT_EQ(snap->tenants[0].limits.at("query_concurrency"), "2");
  EXPECT_EQ(snap->tenants[0].created_at, 1000);
  ASSERT_EQ(snap->datasets.size(), 1u);
  EXPECT_TRUE(snap->datasets[0].is_default);
  EXPECT_EQ(snap->datasets[0].storage_dsn, "s3://bucket/gx");
  ASSERT_EQ(snap->api_keys.size(), 1u);
  EXPECT_FALSE(snap->api_keys[0].revoked_at.has_value());

  t.name = "Globex Corp";
  t.updated_at = 5000;
  ASSERT_TRUE(store->UpdateTenant(t).ok());
  EXPECT_TRUE(absl::IsNotFound(store->UpdateTenant(TenantRow{"nobody", "nobody", "", "", {}, 0, 0})));
  auto revoked = store->RevokeApiKey("globex", "key_a", 6000);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->revoked_at, 6000);
  revoked = store->RevokeApiKey("globex", "key_a", 7000);  // keeps the first time
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->revoked_at, 6000);
  EXPECT_TRUE(absl::IsNotFound(store->RevokeApiKey("acme", "key_a", 1).status()));  // another tenant's key

  // A second connection (another process) sees it all.
  auto other = OpenStore();
  snap = other->Load();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->tenants[0].name, "Globex Corp");
  EXPECT_EQ(snap->api_keys[0].revoked_at, 6000);

  ASSERT_TRUE(store->DeleteTenant("globex").ok());
  EXPECT_TRUE(absl::IsNotFound(store->DeleteTenant("globex")));
  snap = store->Load();
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE(snap->tenants.empty());
  EXPECT_TRUE(snap->datasets.empty());  // with the tenant
  EXPECT_TRUE(snap->api_keys.empty());
}

TEST_P(TenancyTest, AdminChangesApplyToAuthenticationAtOnce) {
  auto reg = OpenRegistry();
  ASSERT_NE(reg, nullptr);
  const auth::Authenticator& auth = reg->authenticator();
  auto as = [&](const std::string& key, const std::string& tenant = "", const std::string& dataset = "") {
    return auth.Authenticate({"Bearer " + key, tenant, dataset});
  };
  // The configured tenant works from the start.
  auto ctx = as("sk-acme-config-key");
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->dataset, "prod");

  auto created = reg->CreateTenant({.slug = "globex", .name = "Globex"});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->row.id, "globex");
  EXPECT_EQ(created->row.default_dataset, "default");
  EXPECT_EQ(created->source, Source::kDatabase);
  auto key = reg->CreateApiKey("globex", "ci");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_THAT(key->secret, ::testing::StartsWith("sdb_"));
  EXPECT_EQ(key->secret.size(), 4u + 43u);
  EXPECT_EQ(key->info.row.key_hash, auth::HashKey(key->secret));
  ctx = as(key->secret);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->tenant, "globex");
  EXPECT_EQ(ctx->dataset, "default");
  EXPECT_EQ(as(key->secret, "acme").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(as(key->secret, "", "staging").status().code(), absl::StatusCode::kNotFound);

  auto staging = reg->CreateDataset("globex", {.slug = "staging", .storage_dsn = "s3://globex-bucket/staging/"});
  ASSERT_TRUE(staging.ok()) << staging.status();
  EXPECT_EQ(checked_, std::vector<std::string>{"globex/staging=s3://globex-bucket/staging"});  // normalized
  EXPECT_EQ(reg->StorageOf({"globex", "staging"}), "s3://globex-bucket/staging");
  ctx = as(key->secret, "globex", "staging");
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->dataset, "staging");

  // Config tenants take keys and datasets from the database too.
  auto acme_key = reg->CreateApiKey("acme", "extra");
  ASSERT_TRUE(acme_key.ok()) << acme_key.status();
  EXPECT_EQ(as(acme_key->secret)->tenant, "acme");
  ASSERT_TRUE(reg->CreateDataset("acme", {.id = "debug"}).ok());
  EXPECT_EQ(as(acme_key->secret, "", "debug")->dataset, "debug");

  auto revoked = reg->RevokeApiKey("globex", key->info.row.id);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_TRUE(revoked->row.revoked_at.has_value());
  EXPECT_EQ(as(key->secret).status().code(), absl::StatusCode::kUnauthenticated);

  ASSERT_TRUE(reg->DeleteDataset("globex", "staging").ok());
  auto key2 = reg->CreateApiKey("globex", "ci2");
  ASSERT_TRUE(key2.ok());
  EXPECT_EQ(as(key2->secret, "", "staging").status().code(), absl::StatusCode::kNotFound);
  // Deleting the default dataset leaves no default (400), never a dangling one.
  ASSERT_TRUE(reg->DeleteDataset("globex", "default").ok());
  EXPECT_EQ(as(key2->secret).status().code(), absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(reg->DeleteTenant("globex").ok());
  EXPECT_EQ(as(key2->secret).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::IsNotFound(reg->GetTenant("globex").status()));
}

TEST_P(TenancyTest, ValidationConflictsAndConfigTenants) {
  auto reg = OpenRegistry();
  ASSERT_NE(reg, nullptr);
  auto field = [](const absl::Status& st) { return st.code() == absl::StatusCode::kInvalidArgument ? FieldOf(st) : "?"; };
  EXPECT_EQ(field(reg->CreateTenant({}).status()), "slug");
  EXPECT_EQ(field(reg->CreateTenant({.slug = "../etc"}).status()), "slug");
  EXPECT_EQ(field(reg->CreateTenant({.id = "Upper"}).status()), "id");
  EXPECT_EQ(field(reg->CreateTenant({.slug = "ok", .name = std::string(300, 'x')}).status()), "name");
  EXPECT_EQ(field(reg->CreateTenant({.slug = "ok", .limits = LimitOverrides{{"colour", "red"}}}).status()),
            "limits.colour");
  EXPECT_EQ(field(reg->CreateTenant({.slug = "ok", .limits = LimitOverrides{{"max_query_range", "soon"}}}).status()),
            "limits.max_query_range");
  // Names of configured tenants are taken.
  EXPECT_TRUE(absl::IsAlreadyExists(reg->CreateTenant({.slug = "acme"}).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(reg->UpdateTenant("acme", {.name = "x"}).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(reg->DeleteTenant("acme")));
  EXPECT_TRUE(absl::IsFailedPrecondition(reg->DeleteDataset("acme", "prod")));
  auto keys = reg->ListApiKeys("acme");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].source, Source::kConfig);
  EXPECT_TRUE(absl::IsFailedPrecondition(reg->RevokeApiKey("acme", (*keys)[0].row.id).status()));
  EXPECT_TRUE(absl::IsAlreadyExists(reg->CreateApiKey("acme", "deploy").status()));  // the config key's name

  auto t = reg->CreateTenant({.id = "initech", .slug = "ini", .limits = LimitOverrides{{"query_concurrency", "3"}}});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->effective.query_concurrency, 3u);
  EXPECT_EQ(reg->LimitsOf("initech").query_concurrency, 3u);
  EXPECT_EQ(reg->LimitsOf("acme").max_query_range, std::chrono::hours(1));
  EXPECT_EQ(reg->LimitsOf("acme").query_concurrency, 8u);  // the default
  EXPECT_TRUE(absl::IsAlreadyExists(reg->CreateTenant({.slug = "ini"}).status()));
  EXPECT_TRUE(absl::IsAlreadyExists(reg->CreateTenant({.id = "x", .slug = "initech"}).status()));
  // Named by slug too; updates check their fields.
  auto updated = reg->UpdateTenant("ini", {.name = "Initech", .limits = LimitOverrides{}});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->row.name, "Initech");
  EXPECT_EQ(updated->effective.query_concurrency, 8u);  // overrides cleared
  EXPECT_EQ(field(reg->UpdateTenant("ini", {.default_dataset = "nope"}).status()), "default_dataset");
  EXPECT_EQ(field(reg->UpdateTenant("ini", {.id = "other"}).status()), "id");
  EXPECT_TRUE(absl::IsAlreadyExists(reg->UpdateTenant("ini", {.slug = "acme"}).status()));
  EXPECT_EQ(field(reg->CreateDataset("ini", {.slug = "s", .storage_dsn = "ftp://x"}).status()), "storage.dsn");
  EXPECT_EQ(field(reg->CreateDataset("ini", {.slug = "s", .storage_dsn = "memory://x"}).status()), "storage.dsn");
  EXPECT_EQ(field(reg->CreateDataset("ini", {.slug = "s", .storage_dsn = "file://relative/dir"}).status()),
            "storage.dsn");
  // Roots may be shared, never nested in one another or in SignalDB's own directories.
  ASSERT_TRUE(reg->CreateDataset("ini", {.slug = "s1", .storage_dsn = "s3://shared/root"}).ok());
  EXPECT_TRUE(reg->CreateDataset("ini", {.slug = "s2", .storage_dsn = "s3://shared/root/"}).ok());
  EXPECT_EQ(field(reg->CreateDataset("ini", {.slug = "s3", .storage_dsn = "s3://shared/root/ini/s1"}).status()),
            "storage.dsn");
  EXPECT_EQ(field(reg->CreateDataset("ini", {.slug = "s3", .storage_dsn = "s3://shared"}).status()), "storage.dsn");
  EXPECT_EQ(field(reg->CreateDataset("ini", {.slug = "s3", .storage_dsn = "file:///data/signaldb/../signaldb/wal"})
                      .status()),
            "storage.dsn");
  EXPECT_TRUE(reg->CreateDataset("ini", {.slug = "s4", .storage_dsn = "file:///data/signaldb/storage"}).ok());  // the default
  EXPECT_TRUE(reg->CreateDataset("ini", {.slug = "s5", .storage_dsn = "file:///srv/elsewhere"}).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(reg->CreateDataset("ini", {.slug = "default"}).status()));
  // A new default dataset replaces the old one; there is one default.
  ASSERT_TRUE(reg->CreateDataset("ini", {.slug = "second", .is_default = true}).ok());
  EXPECT_EQ(reg->GetTenant("ini")->row.default_dataset, "second");
  auto listed = reg->ListDatasets("ini");
  ASSERT_TRUE(listed.ok());
  for (const auto& d : *listed) EXPECT_EQ(d.row.is_default, d.row.id == "second") << d.row.id;
  // Clearing it leaves none (requests then name their dataset).
  ASSERT_TRUE(reg->UpdateTenant("ini", {.default_dataset = ""}).ok());
  listed = reg->ListDatasets("ini");
  ASSERT_TRUE(listed.ok());
  for (const auto& d : *listed) EXPECT_FALSE(d.row.is_default) << d.row.id;
  auto ini_key = reg->CreateApiKey("ini", "ci");
  ASSERT_TRUE(ini_key.ok());
  EXPECT_EQ(reg->authenticator().Authenticate({"Bearer " + ini_key->secret, "", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The configured tenant's default stays its own.
  EXPECT_TRUE(absl::IsFailedPrecondition(reg->CreateDataset("acme", {.slug = "d2", .is_default = true}).status()));
  EXPECT_TRUE(absl::IsNotFound(reg->CreateApiKey("nobody", "x").status()));
  EXPECT_EQ(field(reg->CreateApiKey("ini", " ").status()), "name");
  EXPECT_TRUE(absl::IsNotFound(reg->RevokeApiKey("ini", "key_nope").status()));
}

// Keys never carry over between two tenants that share an id over time.
TEST_P(TenancyTest, KeysOfAnEarlierTenantOfTheSameIdOpenNothing) {
  std::string old_key;
  {
    auto reg = OpenRegistry();  // "acme" configured; a key made for it in the database
    auto key = reg->CreateApiKey("acme", "extra");
    ASSERT_TRUE(key.ok());
    old_key = key->secret;
    ASSERT_TRUE(reg->CreateTenant({.slug = "umbrella"}).ok());
  }
  auto bare = [&](std::vector<Config::AuthTenant> config) {
    Registry::Options o;
    o.auth_enabled = true;
    o.config_tenants = std::move(config);
    o.refresh_interval = std::chrono::milliseconds(0);
    return std::move(*Registry::Open(o, OpenStore()));
  };
  // acme left the configuration; a database tenant of that id is a new tenant.
  auto reg = bare({});
  ASSERT_TRUE(reg->CreateTenant({.slug = "acme"}).ok());
  EXPECT_EQ(reg->authenticator().Authenticate({"Bearer " + old_key, "", ""}).status().code(),
            absl::StatusCode::kUnauthenticated);
  auto umbrella_key = reg->CreateApiKey("umbrella", "ci");
  ASSERT_TRUE(umbrella_key.ok());
  // A configured tenant taking the database tenant's id does not inherit its keys.
  Config::AuthTenant umbrella;
  umbrella.id = umbrella.slug = "umbrella";
  auto shadowing = bare({umbrella});
  EXPECT_EQ(shadowing->authenticator().Authenticate({"Bearer " + umbrella_key->secret, "", ""}).status().code(),
            absl::StatusCode::kUnauthenticated);
  auto datasets = shadowing->ListDatasets("umbrella");
  ASSERT_TRUE(datasets.ok());
  EXPECT_TRUE(datasets->empty());
}

TEST_P(TenancyTest, AnotherProcessSeesChangesOnRefresh) {
  auto a = OpenRegistry();
  auto b = OpenRegistry(std::chrono::milliseconds(50));  // refreshes by itself
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->CreateTenant({.slug = "umbrella"}).ok());
  auto key = a->CreateApiKey("umbrella", "ci");
  ASSERT_TRUE(key.ok());
  auto works = [&](const Registry& r) { return r.authenticator().Authenticate({"Bearer " + key->secret, "", ""}).ok(); };
  EXPECT_TRUE(works(*a));
  for (int i = 0; i < 200 && !works(*b); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(works(*b));
  ASSERT_TRUE(a->RevokeApiKey("umbrella", key->info.row.id).ok());
  EXPECT_FALSE(works(*a));
  for (int i = 0; i < 200 && works(*b); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(works(*b));
}

INSTANTIATE_TEST_SUITE_P(Backends, TenancyTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres), Name);

}  // namespace
}  // namespace signaldb::tenancy
