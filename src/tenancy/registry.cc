#include "tenancy/registry.h"

#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/cord.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace signaldb::tenancy {
namespace {

constexpr char kFieldPayload[] = "signaldb/field";

absl::Status FieldError(std::string_view field, std::string_view message) {
  absl::Status st = absl::InvalidArgumentError(StrCat(field, ": ", message));
  st.SetPayload(kFieldPayload, absl::Cord(std::string(field)));
  return st;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `n` bytes from OpenSSL's CSPRNG as unpadded base64url.
absl::StatusOr<std::string> RandomToken(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    return absl::InternalError("no random bytes for a key");
  }
  std::string out = Base64Encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

absl::Status CheckSlug(std::string_view field, const std::string& value) {
  if (ValidSlug(value)) return absl::OkStatus();
  return FieldError(field, StrCat("'", value, "' must be 1-63 lowercase letters, digits or inner hyphens"));
}

// The field the caller wrote is named first (a slug given alone is the id too).
template <typename Spec>
absl::Status CheckIdAndSlug(const Spec& spec, const std::string& id, const std::string& slug) {
  if (spec.slug) RETURN_IF_ERROR(CheckSlug("slug", slug));
  RETURN_IF_ERROR(CheckSlug("id", id));
  return CheckSlug("slug", slug);
}

absl::Status CheckName(const std::string& name) {
  if (name.size() > 255) return FieldError("name", "must be at most 255 bytes");
  return absl::OkStatus();
}

absl::Status CheckLimits(const LimitOverrides& limits) {
  const auto& fields = LimitFields();
  for (const auto& [field, text] : limits) {
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
      return FieldError(StrCat("limits.", field), StrCat("unknown limit (known: ", Join(fields, ", "), ")"));
    }
    TenantLimits probe;
    if (absl::Status st = SetLimit(probe, field, text); !st.ok()) return FieldError(StrCat("limits.", field), std::string(st.message()));
  }
  return absl::OkStatus();
}

// A storage location as "<scheme>:<path>" with the path normalized and no
// trailing slash, for nesting checks; "" for what is not file:// or s3://.
std::string StorageRoot(const std::string& uri) {
  std::string path;
  std::string scheme;
  if (StartsWith(uri, "file://")) {
    scheme = "file:";
    path = std::filesystem::absolute(uri.substr(7)).lexically_normal().string();
  } else if (StartsWith(uri, "s3://")) {
    scheme = "s3:";
    path = ("/" / std::filesystem::path(uri.substr(5))).lexically_normal().string();
  } else {
    return "";
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return scheme + path;
}

// Whether one root lies inside the other (equal roots do not).
bool Nested(const std::string& a, const std::string& b) {
  auto inside = [](const std::string& x, const std::string& y) {
    return x.size() > y.size() && StartsWith(x, y) && (y.back() == '/' || x[y.size()] == '/');
  };
  return !a.empty() && !b.empty() && (inside(a, b) || inside(b, a));
}

bool Names(const std::string& name, const std::string& id, const std::string& slug) {
  return name == id || name == slug;
}

// The configured tenants as the Authenticator holds them (keys hashed once).
std::vector<auth::Tenant> ConfigTenants(const std::vector<Config::AuthTenant>& tenants) {
  Config::Auth config_auth;
  config_auth.tenants = tenants;
  return auth::TenantsFromConfig(config_auth);
}

}  // namespace

std::string FieldOf(const absl::Status& status) {
  auto p = status.GetPayload(kFieldPayload);
  return p ? std::string(*p) : std::string();
}

Registry::Registry(Options options, std::unique_ptr<Store> store)
    : options_(std::move(options)),
      config_tenants_(ConfigTenants(options_.config_tenants)),
      store_(std::move(store)),
      authenticator_(options_.auth_enabled, options_.admin_api_key, {}),
      state_(std::make_shared<const State>()) {}

absl::StatusOr<std::unique_ptr<Registry>> Registry::Open(Options options, std::unique_ptr<Store> store) {
  auto r = std::unique_ptr<Registry>(new Registry(std::move(options), std::move(store)));
  RETURN_IF_ERROR(r->Refresh());
  if (r->options_.refresh_interval.count() > 0) r->refresher_ = std::thread([raw = r.get()] { raw->RefreshLoop(); });
  return r;
}

Registry::~Registry() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

void Registry::RefreshLoop() {
  std::string last_error;
  std::unique_lock lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, options_.refresh_interval, [&] { return stopping_; })) {
    lock.unlock();
    absl::Status st = Refresh();
    lock.lock();
    const std::string error = st.ok() ? "" : std::string(st.message());
    if (error != last_error) {
      if (st.ok()) {
        spdlog::info("service database readable again; tenants refreshed");
      } else {
        spdlog::warn("cannot refresh tenants from the service database (keeping the last ones read): {}", error);
      }
      last_error = error;
    }
  }
}

std::shared_ptr<const Registry::State> Registry::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

absl::Status Registry::Refresh() {
  // Read and applied as one step: a refresh that read the database before an
  // admin change cannot be applied after that change's own refresh (which
  // would bring a revoked key back until the next refresh).
  std::lock_guard lock(refresh_mu_);
  ASSIGN_OR_RETURN(StoreSnapshot snapshot, store_->Load());
  return Apply(snapshot);
}

absl::Status Registry::Apply(const StoreSnapshot& snapshot) {
  auto s = std::make_shared<State>();
  const TenantLimits& defaults = options_.default_limits;
  // The configuration's tenants first; they win every clash.
  for (size_t i = 0; i < options_.config_tenants.size(); ++i) {
    const Config::AuthTenant& ct = options_.config_tenants[i];
    TenantInfo info;
    info.row = {ct.id, ct.slug.empty() ? ct.id : ct.slug, ct.name, ct.default_dataset, ct.limits, 0, 0};
    info.source = Source::kConfig;
    info.effective = ResolveLimits(defaults, ct.limits).value_or(defaults);
    s->tenants.push_back(std::move(info));
    for (const auto& d : ct.datasets) {
      s->datasets.push_back({{ct.id, d.id, d.slug.empty() ? d.id : d.slug, "", d.is_default, d.storage_dsn, 0},
                             Source::kConfig});
    }
    for (const auto& k : config_tenants_[i].keys) {
      s->keys.push_back({{k.id, ct.id, k.name, k.hash, 0, std::nullopt}, Source::kConfig});
    }
  }
  auto clashes = [&](const std::string& id, const std::string& slug) {
    for (const auto& t : s->tenants) {
      if (Names(id, t.row.id, t.row.slug) || Names(slug, t.row.id, t.row.slug)) return true;
    }
    return false;
  };
  // Database tenants whose id a configured tenant took: their keys and
  // datasets were made for the database tenant and must not open the
  // configured one.
  std::set<std::string> shadowed;
  for (const auto& row : snapshot.tenants) {
    if (clashes(row.id, row.slug)) {
      shadowed.insert(row.id);
      if (warned_shadowed_.insert(row.id).second) {
        spdlog::warn("service database tenant '{}' has the id or slug of a tenant in the configuration file; it and "
                     "its keys and datasets are ignored (rename one of them)",
                     row.id);
      }
      continue;
    }
    TenantInfo info{row, Source::kDatabase, defaults};
    auto limits = ResolveLimits(defaults, row.limits);
    if (limits.ok()) {
      info.effective = *limits;
    } else {
      spdlog::warn("tenant {}: invalid limits in the service database ({}); using the defaults", row.id,
                   std::string(limits.status().message()));
    }
    s->tenants.push_back(std::move(info));
  }
  auto tenant_known = [&](const std::string& id) {
    return std::any_of(s->tenants.begin(), s->tenants.end(), [&](const TenantInfo& t) { return t.row.id == id; });
  };
  for (const auto& row : snapshot.datasets) {
    if (!tenant_known(row.tenant_id) || shadowed.count(row.tenant_id)) continue;  // its tenant is gone or shadowed
    bool clash = false;
    for (const auto& d : s->datasets) {
      clash = clash || (d.row.tenant_id == row.tenant_id &&
                        (Names(row.id, d.row.id, d.row.slug) || Names(row.slug, d.row.id, d.row.slug)));
    }
    if (!clash) s->datasets.push_back({row, Source::kDatabase});
  }
  for (const auto& row : snapshot.api_keys) {
    if (tenant_known(row.tenant_id) && !shadowed.count(row.tenant_id)) s->keys.push_back({row, Source::kDatabase});
  }
  // A database tenant's default is its default_dataset alone (the datasets'
  // flags follow it, so there is one truth).
  for (const auto& t : s->tenants) {
    if (t.source != Source::kDatabase) continue;
    for (auto& d : s->datasets) {
      if (d.row.tenant_id == t.row.id) d.row.is_default = d.row.id == t.row.default_dataset;
    }
  }

  for (const auto& t : s->tenants) s->limits.emplace(t.row.id, t.effective);
  // What the Authenticator checks requests against.
  std::vector<auth::Tenant> tenants;
  for (const auto& t : s->tenants) {
    auth::Tenant a{t.row.id, t.row.slug, t.row.name, "", {}, {}};
    for (const auto& d : s->datasets) {
      if (d.row.tenant_id != t.row.id) continue;
      a.datasets.push_back({d.row.id, d.row.slug, d.row.is_default});
      // A default naming a deleted dataset names none.
      if (d.row.id == t.row.default_dataset) a.default_dataset = d.row.id;
    }
    for (const auto& k : s->keys) {
      if (k.row.tenant_id == t.row.id) a.keys.push_back({k.row.id, k.row.name, k.row.key_hash, k.row.revoked_at.has_value()});
    }
    tenants.push_back(std::move(a));
  }
  authenticator_.Replace(std::move(tenants));
  std::lock_guard lock(mu_);
  state_ = std::move(s);
  return absl::OkStatus();
}

TenantLimits Registry::LimitsOf(const std::string& tenant) const {
  auto s = state();
  auto it = s->limits.find(tenant);
  return it == s->limits.end() ? options_.default_limits : it->second;
}

std::string Registry::StorageOf(const TenantContext& ctx) const {
  auto s = state();
  for (const auto& d : s->datasets) {
    if (d.row.tenant_id == ctx.tenant && d.row.id == ctx.dataset) return d.row.storage_dsn;
  }
  return "";
}

const TenantInfo* Registry::Find(const State& s, const std::string& tenant) const {
  for (const auto& t : s.tenants) {
    if (t.row.id == tenant) return &t;
  }
  for (const auto& t : s.tenants) {
    if (t.row.slug == tenant) return &t;
  }
  return nullptr;
}

namespace {
absl::Status UnknownTenant(const std::string& tenant) {
  return absl::NotFoundError(StrCat("tenant '", tenant, "' not found"));
}
absl::Status FromConfig(std::string_view what, const std::string& name) {
  return absl::FailedPreconditionError(
      StrCat(what, " '", name, "' is defined in the configuration file; change it there"));
}
}  // namespace

absl::StatusOr<std::string> Registry::CheckDatasetStorage(const State& s, const std::string& dsn) const {
  // Datasets keep their tables under <root>/<tenant>/<dataset>/, so datasets
  // may share a root; a root inside another one (or holding one) would put
  // one dataset's files among another's, where its queries could read them
  // and its cleanup delete them.
  if (!StartsWith(dsn, "file://") && !StartsWith(dsn, "s3://")) {
    return FieldError("storage.dsn", "must be file:///PATH or s3://BUCKET[/PREFIX] (memory:// only in the configuration file)");
  }
  if (StartsWith(dsn, "file://") && dsn[7] != '/') {
    return FieldError("storage.dsn", "a file:// DSN needs an absolute path (file:///srv/signaldb)");
  }
  const std::string root = StorageRoot(dsn);
  const std::string normalized = StartsWith(root, "file:") ? "file://" + root.substr(5) : "s3://" + root.substr(4);
  std::vector<std::string> shared = {StorageRoot(options_.default_storage)};
  for (const auto& d : s.datasets) {
    if (!d.row.storage_dsn.empty()) shared.push_back(StorageRoot(d.row.storage_dsn));
  }
  for (const auto& other : shared) {
    if (Nested(root, other)) {
      return FieldError("storage.dsn", StrCat("'", dsn, "' lies inside (or holds) the storage of other datasets"));
    }
  }
  for (const auto& dir : options_.reserved_dirs) {
    const std::string reserved = StorageRoot("file://" + dir);
    if (root == reserved || Nested(root, reserved)) {
      if (root == shared[0]) continue;  // the default storage itself may be named
      return FieldError("storage.dsn", StrCat("'", dsn, "' overlaps SignalDB's own directory ", dir));
    }
  }
  return normalized;
}

std::vector<TenantInfo> Registry::ListTenants() const { return state()->tenants; }

absl::StatusOr<TenantInfo> Registry::GetTenant(const std::string& tenant) const {
  auto s = state();
  const TenantInfo* t = Find(*s, tenant);
  if (t == nullptr) return UnknownTenant(tenant);
  return *t;
}

absl::StatusOr<TenantInfo> Registry::CreateTenant(const TenantSpec& spec) {
  std::lock_guard admin(admin_mu_);
  if (!spec.id && !spec.slug) return FieldError("slug", "required (or id)");
  TenantRow row;
  row.id = spec.id.value_or(*spec.slug);
  row.slug = spec.slug.value_or(row.id);
  RETURN_IF_ERROR(CheckIdAndSlug(spec, row.id, row.slug));
  row.name = spec.name.value_or("");
  RETURN_IF_ERROR(CheckName(row.name));
  row.default_dataset = spec.default_dataset.value_or("default");
  RETURN_IF_ERROR(CheckSlug("default_dataset", row.default_dataset));
  row.limits = spec.limits.value_or(LimitOverrides{});
  RETURN_IF_ERROR(CheckLimits(row.limits));
  {
    auto s = state();
    for (const auto& t : s->tenants) {
      if (Names(row.id, t.row.id, t.row.slug) || Names(row.slug, t.row.id, t.row.slug)) {
        return absl::AlreadyExistsError(StrCat("a tenant named '", t.row.id == row.id || t.row.slug == row.id ? row.id : row.slug,
                                               "' already exists"));
      }
    }
  }
  row.created_at = row.updated_at = NowMs();
  RETURN_IF_ERROR(store_->InsertTenant(row));
  // Its default dataset, so a first key can ingest at once.
  DatasetRow dataset{row.id, row.default_dataset, row.default_dataset, "", true, "", row.created_at};
  if (absl::Status st = store_->InsertDataset(dataset); !st.ok()) {
    (void)store_->DeleteTenant(row.id);
    return st;
  }
  RETURN_IF_ERROR(Refresh());
  return GetTenant(row.id);
}

absl::StatusOr<TenantInfo> Registry::UpdateTenant(const std::string& tenant, const TenantSpec& spec) {
  std::lock_guard admin(admin_mu_);
  auto s = state();
  const TenantInfo* t = Find(*s, tenant);
  if (t == nullptr) return UnknownTenant(tenant);
  if (t->source == Source::kConfig) return FromConfig("tenant", t->row.id);
  TenantRow row = t->row;
  if (spec.id && *spec.id != row.id) return FieldError("id", "cannot be changed");
  if (spec.slug) {
    RETURN_IF_ERROR(CheckSlug("slug", *spec.slug));
    for (const auto& other : s->tenants) {
      if (other.row.id != row.id && Names(*spec.slug, other.row.id, other.row.slug)) {
        return absl::AlreadyExistsError(StrCat("a tenant named '", *spec.slug, "' already exists"));
      }
    }
    row.slug = *spec.slug;
  }
  if (spec.name) {
    RETURN_IF_ERROR(CheckName(*spec.name));
    row.name = *spec.name;
  }
  if (spec.default_dataset) {
    row.default_dataset.clear();
    for (const auto& d : s->datasets) {
      if (d.row.tenant_id == row.id && Names(*spec.default_dataset, d.row.id, d.row.slug)) row.default_dataset = d.row.id;
    }
    if (row.default_dataset.empty() && !spec.default_dataset->empty()) {
      return FieldError("default_dataset", StrCat("'", *spec.default_dataset, "' is not a dataset of tenant '", row.id, "'"));
    }
  }
  if (spec.limits) {
    RETURN_IF_ERROR(CheckLimits(*spec.limits));
    row.limits = *spec.limits;
  }
  row.updated_at = NowMs();
  RETURN_IF_ERROR(store_->UpdateTenant(row));
  RETURN_IF_ERROR(Refresh());
  return GetTenant(row.id);
}

absl::Status Registry::DeleteTenant(const std::string& tenant) {
  std::lock_guard admin(admin_mu_);
  auto s = state();
  const TenantInfo* t = Find(*s, tenant);
  if (t == nullptr) return UnknownTenant(tenant);
  if (t->source == Source::kConfig) return FromConfig("tenant", t->row.id);
  RETURN_IF_ERROR(store_->DeleteTenant(t->row.id));
  return Refresh();
}

absl::StatusOr<std::vector<ApiKeyInfo>> Registry::ListApiKeys(const std::string& tenant) const {
  auto s = state();
  const TenantInfo* t = Find(*s, tenant);
  if (t == nullptr) return UnknownTenant(tenant);
  std::vector<ApiKeyInfo> out;
  for (const auto& k : s->keys) {
    if (k.row.tenant_id == t->row.id) out.push_back(k);
  }
  return out;
}

absl::StatusOr<NewApiKey> Registry::CreateApiKey(const std::string& tenant, const std::string& name) {
  std::lock_guard admin(admin_mu_);
  auto s = state();
  const TenantInfo* t = Find(*s, tenant);
  if (t == nullptr) return UnknownTenant(tenant);
  if (Trim(name).empty()) return FieldError("name", "required");
  RETURN_IF_ERROR(CheckName(name));
  for (const auto& k : s->keys) {
    if (k.row.tenant_id == t->row.id && k.row.name == name) {
      return absl::AlreadyExistsError(StrCat("tenant '", t->row.id, "' already has a key named '", name, "'"));
    }
  }
  NewApiKey out;
  ASSIGN_OR_RETURN(std::string secret, RandomToken(32));
  ASSIGN_OR_RETURN(std::string id, RandomToken(12));
  out.secret = "sdb_" + secret;
  out.info.row = {"key_" + id, t->row.id, name, auth::HashKey(out.secret), NowMs(), std::nullopt};
  out.info.source = Source::kDatabase;
  RETURN_IF_ERROR(store_->InsertApiKey(out.info.row));
  RETURN_IF_ERROR(Refresh());
  return out;
}

absl::StatusOr<ApiKeyInfo> Registry::RevokeApiKey(const std::string& tenant, const std::string& key_id) {
  std::lock_guard admin(admin_mu_);
  auto s = state();
  const TenantInfo* t = Find(*s, tenant);
  if (t == nullptr) return UnknownTenant(tenant);
  for (const auto& k : s->keys) {
    if (k.row.tenant_id == t->row.id && k.row.id == key_id && k.source == Source::kConfig) {
      return FromConfig("API key", key_id);
    }
  }
  ASSIGN_OR_RETURN(ApiKeyRow row, store_->RevokeApiKey(t->row.id, key_id, NowMs()));
  RETURN_IF_ERROR(Refresh());
  return ApiKeyInfo{row, Source::kDatabase};
}

absl::StatusOr<std::vector<DatasetInfo>> Registry::ListDatasets(const std::string& tenant) const {
  auto s = state();
  const TenantInfo* t = Find(*s, tenant);
  if (t == nullptr) return UnknownTenant(tenant);
  std::vector<DatasetInfo> out;
  for (const auto& d : s->datasets) {
    if (d.row.tenant_id == t->row.id) out.push_back(d);
  }
  return out;
}

absl::StatusOr<DatasetInfo> Registry::CreateDataset(const std::string& tenant, const DatasetSpec& spec) {
  std::lock_guard admin(admin_mu_);
  auto s = state();
  const TenantInfo* t = Find(*s, tenant);
  if (t == nullptr) return UnknownTenant(tenant);
  if (!spec.id && !spec.slug) return FieldError("slug", "required (or id)");
  DatasetRow row;
  row.tenant_id = t->row.id;
  row.id = spec.id.value_or(*spec.slug);
  row.slug = spec.slug.value_or(row.id);
  RETURN_IF_ERROR(CheckIdAndSlug(spec, row.id, row.slug));
  row.name = spec.name.value_or("");
  RETURN_IF_ERROR(CheckName(row.name));
  row.is_default = spec.is_default;
  row.storage_dsn = spec.storage_dsn;
  if (absl::Status st = ValidateStorageDsn(row.storage_dsn); !st.ok()) return FieldError("storage.dsn", std::string(st.message()));
  if (!row.storage_dsn.empty()) {
    ASSIGN_OR_RETURN(row.storage_dsn, CheckDatasetStorage(*s, row.storage_dsn));
  }
  for (const auto& d : s->datasets) {
    if (d.row.tenant_id != row.tenant_id) continue;
    if (Names(row.id, d.row.id, d.row.slug) || Names(row.slug, d.row.id, d.row.slug)) {
      return absl::AlreadyExistsError(
          StrCat("tenant '", row.tenant_id, "' already has a dataset named '",
                 Names(row.id, d.row.id, d.row.slug) ? row.id : row.slug, "'"));
    }
    if (row.is_default && d.row.is_default && t->source == Source::kConfig) {
      return absl::FailedPreconditionError(StrCat("tenant '", row.tenant_id, "' has its default dataset ('", d.row.id,
                                                  "') in the configuration file"));
    }
  }
  if (options_.check_storage) RETURN_IF_ERROR(options_.check_storage(TenantContext{row.tenant_id, row.id}, row.storage_dsn));
  row.created_at = NowMs();
  RETURN_IF_ERROR(store_->InsertDataset(row));
  if (row.is_default && t->source == Source::kDatabase) {
    // The new default replaces the old one.
    TenantRow tenant_row = t->row;
    tenant_row.default_dataset = row.id;
    tenant_row.updated_at = row.created_at;
    RETURN_IF_ERROR(store_->UpdateTenant(tenant_row));
  }
  RETURN_IF_ERROR(Refresh());
  return DatasetInfo{row, Source::kDatabase};
}

absl::Status Registry::DeleteDataset(const std::string& tenant, const std::string& dataset) {
  std::lock_guard admin(admin_mu_);
  auto s = state();
  const TenantInfo* t = Find(*s, tenant);
  if (t == nullptr) return UnknownTenant(tenant);
  for (const auto& d : s->datasets) {
    if (d.row.tenant_id != t->row.id || !Names(dataset, d.row.id, d.row.slug)) continue;
    if (d.source == Source::kConfig) return FromConfig("dataset", d.row.id);
    RETURN_IF_ERROR(store_->DeleteDataset(t->row.id, d.row.id));
    return Refresh();
  }
  return absl::NotFoundError(StrCat("dataset '", dataset, "' not found for tenant '", t->row.id, "'"));
}

}  // namespace signaldb::tenancy
