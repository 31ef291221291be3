#include "config/config.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <tuple>
#include <toml++/toml.h>

#include "common/strings.h"
#include "common/status_macros.h"

extern char** environ;

namespace signaldb {

absl::Status ValidateStorageDsn(const std::string& v) {
  if (v.empty()) return absl::OkStatus();
  auto rest = [&](std::string_view scheme) { return std::string_view(v).substr(scheme.size()); };
  if (StartsWith(v, "file://") && !rest("file://").empty()) return absl::OkStatus();
  if (StartsWith(v, "s3://") && !rest("s3://").empty() && rest("s3://")[0] != '/') return absl::OkStatus();
  if (StartsWith(v, "memory://") && !rest("memory://").empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      StrCat("unsupported storage DSN '", v, "' (supported: file://PATH, s3://BUCKET[/PREFIX], memory://NAME)"));
}

bool ValidSlug(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
  }
  return true;
}

namespace {

bool ParseDouble(std::string_view s, double* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// One configuration key: its dotted name and how to set it from text or TOML.
struct Key {
  std::string name;
  std::function<absl::Status(Config&, const std::string&)> set_text;
};

absl::Status SetString(std::string& out, const std::string& v) {
  out = v;
  return absl::OkStatus();
}

std::vector<Key> BuildKeys() {
  auto str = [](std::string Config::*field) {
    return [field](Config& c, const std::string& v) { return SetString(c.*field, v); };
  };
  auto addr = [](std::function<std::string&(Config&)> get) {
    return [get](Config& c, const std::string& v) -> absl::Status {
      if (auto st = ValidateAddress(v); !st.ok()) return st;
      get(c) = v;
      return absl::OkStatus();
    };
  };
  auto size = [](std::function<uint64_t&(Config&)> get) {
    return [get](Config& c, const std::string& v) -> absl::Status {
      auto s = ParseSize(v);
      if (!s.ok()) return s.status();
      get(c) = *s;
      return absl::OkStatus();
    };
  };
  auto count = [](std::function<uint64_t&(Config&)> get) {
    return [get](Config& c, const std::string& v) -> absl::Status {
      uint64_t n;
      if (!ParseInt(std::string_view(v), &n)) return absl::InvalidArgumentError(StrCat("expected a non-negative integer, got '", v, "'"));
      get(c) = n;
      return absl::OkStatus();
    };
  };
  // An integer from `lo` to `hi`; `what` says what the range means.
  auto int_in = [](int lo, int hi, std::string what, std::function<int&(Config&)> get) {
    return [=](Config& c, const std::string& v) -> absl::Status {
      int n;
      if (!ParseInt(std::string_view(v), &n) || n < lo || n > hi) {
        return absl::InvalidArgumentError(StrCat("expected an integer from ", what, ", got '", v, "'"));
      }
      get(c) = n;
      return absl::OkStatus();
    };
  };
  auto boolean = [](std::function<bool&(Config&)> get) {
    return [get](Config& c, const std::string& v) -> absl::Status {
      if (v != "true" && v != "false") {
        return absl::InvalidArgumentError(StrCat("expected true or false, got '", v, "'"));
      }
      get(c) = v == "true";
      return absl::OkStatus();
    };
  };
  auto duration = [](std::function<std::chrono::milliseconds&(Config&)> get) {
    return [get](Config& c, const std::string& v) -> absl::Status {
      auto d = ParseDuration(v);
      if (!d.ok()) return d.status();
      get(c) = *d;
      return absl::OkStatus();
    };
  };
  std::vector<Key> keys = {
      {"data_dir", str(&Config::data_dir)},
      {"acceptor.grpc_addr", addr([](Config& c) -> std::string& { return c.acceptor.grpc_addr; })},
      {"acceptor.http_addr", addr([](Config& c) -> std::string& { return c.acceptor.http_addr; })},
      {"acceptor.max_message_bytes", size([](Config& c) -> uint64_t& { return c.acceptor.max_message_bytes; })},
      {"acceptor.max_inflight_bytes", size([](Config& c) -> uint64_t& { return c.acceptor.max_inflight_bytes; })},
      {"acceptor.workers", int_in(1, 1024, "1 to 1024", [](Config& c) -> int& { return c.acceptor.workers; })},
      {"router.http_addr", addr([](Config& c) -> std::string& { return c.router.http_addr; })},
      {"wal.dir", [](Config& c, const std::string& v) { return SetString(c.wal.dir, v); }},
      {"wal.segment_size", size([](Config& c) -> uint64_t& { return c.wal.segment_size; })},
      {"wal.spare_segments",
       int_in(0, 16, "0 to 16", [](Config& c) -> int& { return c.wal.spare_segments; })},
      {"wal.flush_interval", duration([](Config& c) -> std::chrono::milliseconds& { return c.wal.flush_interval; })},
      {"wal.fsync", [](Config& c, const std::string& v) -> absl::Status {
         if (v != "always" && v != "never") {
           return absl::InvalidArgumentError(StrCat("expected \"always\" or \"never\", got '", v, "'"));
         }
         return SetString(c.wal.fsync, v);
       }},
      {"storage.dsn", [](Config& c, const std::string& v) -> absl::Status {
         RETURN_IF_ERROR(ValidateStorageDsn(v));
         c.storage.dsn = v;
         return absl::OkStatus();
       }},
      {"storage.cache_size", size([](Config& c) -> uint64_t& { return c.storage.cache_size; })},
      {"storage.s3.endpoint", [](Config& c, const std::string& v) { return SetString(c.storage.s3.endpoint, v); }},
      {"storage.s3.region", [](Config& c, const std::string& v) { return SetString(c.storage.s3.region, v); }},
      {"storage.s3.access_key_id",
       [](Config& c, const std::string& v) { return SetString(c.storage.s3.access_key_id, v); }},
      {"storage.s3.secret_access_key",
       [](Config& c, const std::string& v) { return SetString(c.storage.s3.secret_access_key, v); }},
      {"storage.s3.path_style", boolean([](Config& c) -> bool& { return c.storage.s3.path_style; })},
      {"storage.compression_level", [](Config& c, const std::string& v) -> absl::Status {
         uint64_t n;
         if (!ParseInt(std::string_view(v), &n) || n < 1 || n > 22) {
           return absl::InvalidArgumentError(StrCat("expected a zstd level from 1 to 22, got '", v, "'"));
         }
         c.storage.compression_level = static_cast<int>(n);
         return absl::OkStatus();
       }},
      {"storage.parquet_writer", [](Config& c, const std::string& v) -> absl::Status {
         if (v != "native" && v != "duckdb") {
           return absl::InvalidArgumentError(StrCat("expected \"native\" or \"duckdb\", got '", v, "'"));
         }
         return SetString(c.storage.parquet_writer, v);
       }},
      {"storage.snapshots_kept", [](Config& c, const std::string& v) -> absl::Status {
         uint64_t n;
         if (!ParseInt(std::string_view(v), &n) || n < 1) {
           return absl::InvalidArgumentError(StrCat("expected a positive integer, got '", v, "'"));
         }
         c.storage.snapshots_kept = n;
         return absl::OkStatus();
       }},
      {"storage.snapshot_max_age",
       duration([](Config& c) -> std::chrono::milliseconds& { return c.storage.snapshot_max_age; })},
      {"schema.catalog_uri", [](Config& c, const std::string& v) -> absl::Status {
         // Only the scheme is echoed back: the rest may hold a password.
         auto scheme = v.find("://");
         if (scheme != std::string::npos && !StartsWith(v, "postgresql://") && !StartsWith(v, "postgres://")) {
           return absl::InvalidArgumentError(StrCat("unsupported catalog URI scheme '", v.substr(0, scheme),
                                                    "' (supported: postgresql://, postgres://, or a SQLite file path)"));
         }
         return SetString(c.schema.catalog_uri, v);
       }},
      {"writer.flush_interval", duration([](Config& c) -> std::chrono::milliseconds& { return c.writer.flush_interval; })},
      {"writer.max_buffer_rows", count([](Config& c) -> uint64_t& { return c.writer.max_buffer_rows; })},
      {"writer.max_buffer_bytes", size([](Config& c) -> uint64_t& { return c.writer.max_buffer_bytes; })},
      {"writer.max_buffer_wait", duration([](Config& c) -> std::chrono::milliseconds& { return c.writer.max_buffer_wait; })},
      {"writer.flush_threads",
       int_in(0, 64, "0 (one per core) to 64", [](Config& c) -> int& { return c.writer.flush_threads; })},
      {"storage.trace_index", boolean([](Config& c) -> bool& { return c.storage.trace_index; })},
      {"compactor.enabled", boolean([](Config& c) -> bool& { return c.compactor.enabled; })},
      {"compactor.interval", duration([](Config& c) -> std::chrono::milliseconds& { return c.compactor.interval; })},
      {"compactor.target_file_size", [](Config& c, const std::string& v) -> absl::Status {
         auto n = ParseSize(v);
         if (!n.ok()) return n.status();
         if (*n < (1ull << 20)) return absl::InvalidArgumentError(StrCat("must be at least 1MiB, got '", v, "'"));
         c.compactor.target_file_size = *n;
         return absl::OkStatus();
       }},
      {"compactor.min_input_files", [](Config& c, const std::string& v) -> absl::Status {
         uint64_t n;
         if (!ParseInt(std::string_view(v), &n) || n < 2) {
           return absl::InvalidArgumentError(StrCat("expected an integer of at least 2, got '", v, "'"));
         }
         c.compactor.min_input_files = n;
         return absl::OkStatus();
       }},
      {"compactor.compression_level", [](Config& c, const std::string& v) -> absl::Status {
         uint64_t n;
         if (!ParseInt(std::string_view(v), &n) || n > 22) {
           return absl::InvalidArgumentError(StrCat("expected 0 (the flush level) or a zstd level up to 22, got '", v, "'"));
         }
         c.compactor.compression_level = static_cast<int>(n);
         return absl::OkStatus();
       }},
      {"compactor.retention.default",
       duration([](Config& c) -> std::chrono::milliseconds& { return c.compactor.retention; })},
      {"compactor.orphan_cleanup.grace",
       duration([](Config& c) -> std::chrono::milliseconds& { return c.compactor.orphan_grace; })},
      {"query.timeout", duration([](Config& c) -> std::chrono::milliseconds& { return c.query.timeout; })},
      {"query.max_rows", count([](Config& c) -> uint64_t& { return c.query.max_rows; })},
      {"query.max_scanned_bytes", size([](Config& c) -> uint64_t& { return c.query.max_scanned_bytes; })},
      {"auth.enabled", boolean([](Config& c) -> bool& { return c.auth.enabled; })},
      {"auth.admin_api_key", [](Config& c, const std::string& v) { return SetString(c.auth.admin_api_key, v); }},
      {"auth.refresh_interval",
       duration([](Config& c) -> std::chrono::milliseconds& { return c.auth.refresh_interval; })},
      {"database.dsn", [](Config& c, const std::string& v) -> absl::Status {
         auto scheme = v.find("://");
         if (scheme != std::string::npos && !StartsWith(v, "postgresql://") && !StartsWith(v, "postgres://")) {
           return absl::InvalidArgumentError(StrCat("unsupported database DSN scheme '", v.substr(0, scheme),
                                                    "' (supported: postgresql://, postgres://, or a SQLite file path)"));
         }
         return SetString(c.database.dsn, v);
       }},
      {"log.level", [](Config& c, const std::string& v) -> absl::Status {
         static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
         for (const char* l : kLevels) {
           if (v == l) return SetString(c.log.level, v);
         }
         return absl::InvalidArgumentError(StrCat("unknown log level '", v, "' (trace|debug|info|warn|error|critical|off)"));
       }},
  };
  for (const std::string& field : LimitFields()) {
    keys.push_back({"limits." + field, [field](Config& c, const std::string& v) { return SetLimit(c.limits, field, v); }});
  }
  return keys;
}

const std::vector<Key>& Keys() {
  static const std::vector<Key> keys = BuildKeys();
  return keys;
}

const Key* FindKey(const std::string& name) {
  for (const auto& k : Keys()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// Keys named by tenant and dataset: compactor.retention.tenants.<tenant>,
// compactor.retention.datasets.<tenant>.<dataset> and
// storage.datasets.<tenant>.<dataset>. False when `name` is none of them.
bool ApplyNamedOverride(Config& c, const std::string& name, const std::string& value, absl::Status* st) {
  constexpr std::string_view kTenants = "compactor.retention.tenants.";
  constexpr std::string_view kDatasets = "compactor.retention.datasets.";
  constexpr std::string_view kStorage = "storage.datasets.";
  if (StartsWith(name, kStorage)) {
    std::string target = name.substr(kStorage.size());
    auto dot = target.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == target.size() ||
        target.find('.', dot + 1) != std::string::npos) {
      return false;
    }
    target[dot] = '/';
    *st = ValidateStorageDsn(value);
    if (st->ok()) c.storage.dataset_dsn[target] = value;
    return true;
  }
  std::string target;
  if (StartsWith(name, kTenants)) {
    target = name.substr(kTenants.size());
    if (target.empty() || target.find('.') != std::string::npos) return false;
  } else if (StartsWith(name, kDatasets)) {
    target = name.substr(kDatasets.size());
    auto dot = target.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == target.size() ||
        target.find('.', dot + 1) != std::string::npos) {
      return false;
    }
    target[dot] = '/';
  } else {
    return false;
  }
  auto d = ParseDuration(value);
  if (!d.ok()) {
    *st = d.status();
  } else {
    c.compactor.retention_overrides[target] = *d;
  }
  return true;
}

absl::Status Apply(Config& c, const std::string& name, const std::string& value,
                   const std::string& origin) {
  const Key* key = FindKey(name);
  absl::Status override_status;
  if (key == nullptr && ApplyNamedOverride(c, name, value, &override_status)) {
    if (!override_status.ok()) {
      return absl::InvalidArgumentError(
          StrCat(origin, ": invalid value for '", name, "': ", override_status.message()));
    }
    return absl::OkStatus();
  }
  if (key == nullptr) {
    return absl::InvalidArgumentError(StrCat(origin, ": unknown configuration key '", name, "'"));
  }
  if (auto st = key->set_text(c, value); !st.ok()) {
    return absl::InvalidArgumentError(StrCat(origin, ": invalid value for '", name, "': ", st.message()));
  }
  return absl::OkStatus();
}

// Renders a TOML leaf as the text the key parsers take.
std::optional<std::string> LeafText(const toml::node& node) {
  if (auto s = node.as_string()) return s->get();
  if (auto i = node.as_integer()) return std::to_string(i->get());
  if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
  if (auto f = node.as_floating_point()) return std::to_string(f->get());
  return std::nullopt;
}

// A slug: lowercase letters, digits and inner hyphens, 1-63 characters
// (safe as a path segment and an identifier).
// The fields of one [[auth.tenants]] entry (or of its datasets, keys):
// strings and booleans by name; anything else, or an unknown name, is an
// error naming the field.
absl::Status ReadFields(const toml::table& t, const std::string& where,
                        const std::map<std::string, std::string*>& strings,
                        const std::map<std::string, bool*>& bools, const std::set<std::string>& nested) {
  for (const auto& [k, node] : t) {
    const std::string key(k.str());
    if (nested.count(key)) continue;
    if (auto it = strings.find(key); it != strings.end() && node.as_string()) {
      *it->second = node.as_string()->get();
    } else if (auto b = bools.find(key); b != bools.end() && node.as_boolean()) {
      *b->second = node.as_boolean()->get();
    } else if (strings.count(key) || bools.count(key)) {
      return absl::InvalidArgumentError(StrCat(where, ".", key, ": expected a ", strings.count(key) ? "string" : "boolean"));
    } else {
      return absl::InvalidArgumentError(StrCat(where, ": unknown field '", key, "'"));
    }
  }
  return absl::OkStatus();
}

// Fields of [[auth.tenants]] read apart from the plain strings.
std::set<std::string> TenantNested() {
  std::set<std::string> out = {"datasets", "api_keys"};
  for (const auto& f : LimitFields()) out.insert(f);
  return out;
}

absl::Status ReadTenants(Config& c, const toml::array& tenants, const std::string& origin) {
  for (size_t i = 0; i < tenants.size(); ++i) {
    const std::string where = StrCat(origin, ": auth.tenants[", i, "]");
    const auto* t = tenants.get(i)->as_table();
    if (t == nullptr) return absl::InvalidArgumentError(StrCat(where, ": expected a table"));
    Config::AuthTenant tenant;
    RETURN_IF_ERROR(ReadFields(*t, where,
                               {{"id", &tenant.id}, {"slug", &tenant.slug}, {"name", &tenant.name},
                                {"default_dataset", &tenant.default_dataset}},
                               {}, TenantNested()));
    // Any [limits] field, overriding it for this tenant.
    for (const std::string& field : LimitFields()) {
      const toml::node* n = t->get(field);
      if (n == nullptr) continue;
      std::optional<std::string> text = LeafText(*n);
      TenantLimits probe;
      absl::Status st = text ? SetLimit(probe, field, *text) : absl::InvalidArgumentError("expected a string or number");
      if (!st.ok()) return absl::InvalidArgumentError(StrCat(where, ".", field, ": ", st.message()));
      tenant.limits[field] = *text;
    }
    if (!ValidSlug(tenant.id)) {
      return absl::InvalidArgumentError(
          StrCat(where, ".id: '", tenant.id, "' must be 1-63 lowercase letters, digits or inner hyphens"));
    }
    if (tenant.slug.empty()) tenant.slug = tenant.id;
    if (!ValidSlug(tenant.slug)) return absl::InvalidArgumentError(StrCat(where, ".slug: '", tenant.slug, "' is not a valid slug"));
    auto list = [&](const char* field) -> absl::StatusOr<const toml::array*> {
      const toml::node* n = t->get(field);
      if (n == nullptr) return nullptr;
      if (!n->as_array()) return absl::InvalidArgumentError(StrCat(where, ".", field, ": expected [[auth.tenants.", field, "]] tables"));
      return n->as_array();
    };
    ASSIGN_OR_RETURN(const toml::array* datasets, list("datasets"));
    for (size_t d = 0; datasets != nullptr && d < datasets->size(); ++d) {
      const std::string dwhere = StrCat(where, ".datasets[", d, "]");
      const auto* dt = datasets->get(d)->as_table();
      if (dt == nullptr) return absl::InvalidArgumentError(StrCat(dwhere, ": expected a table"));
      Config::AuthDataset ds;
      RETURN_IF_ERROR(ReadFields(*dt, dwhere, {{"id", &ds.id}, {"slug", &ds.slug}}, {{"is_default", &ds.is_default}},
                                 {"storage"}));
      if (const toml::node* st = dt->get("storage")) {
        if (!st->as_table()) return absl::InvalidArgumentError(StrCat(dwhere, ".storage: expected a table"));
        RETURN_IF_ERROR(ReadFields(*st->as_table(), dwhere + ".storage", {{"dsn", &ds.storage_dsn}}, {}, {}));
      }
      if (!ValidSlug(ds.id)) return absl::InvalidArgumentError(StrCat(dwhere, ".id: '", ds.id, "' is not a valid slug"));
      if (absl::Status st = ValidateStorageDsn(ds.storage_dsn); !st.ok()) {
        return absl::InvalidArgumentError(StrCat(dwhere, ".storage.dsn: ", st.message()));
      }
      if (ds.slug.empty()) ds.slug = ds.id;
      if (!ValidSlug(ds.slug)) return absl::InvalidArgumentError(StrCat(dwhere, ".slug: '", ds.slug, "' is not a valid slug"));
      for (const auto& other : tenant.datasets) {
        if (other.id == ds.id) return absl::InvalidArgumentError(StrCat(dwhere, ".id: '", ds.id, "' appears twice"));
      }
      tenant.datasets.push_back(std::move(ds));
    }
    ASSIGN_OR_RETURN(const toml::array* keys, list("api_keys"));
    for (size_t k = 0; keys != nullptr && k < keys->size(); ++k) {
      const std::string kwhere = StrCat(where, ".api_keys[", k, "]");
      const auto* kt = keys->get(k)->as_table();
      if (kt == nullptr) return absl::InvalidArgumentError(StrCat(kwhere, ": expected a table"));
      Config::AuthApiKey key;
      RETURN_IF_ERROR(ReadFields(*kt, kwhere, {{"key", &key.key}, {"name", &key.name}}, {}, {}));
      if (key.key.size() < 8) return absl::InvalidArgumentError(StrCat(kwhere, ".key: must be at least 8 characters"));
      tenant.api_keys.push_back(std::move(key));
    }
    if (!tenant.default_dataset.empty()) {
      bool known = false;
      for (const auto& ds : tenant.datasets) known = known || ds.id == tenant.default_dataset;
      if (!known) {
        return absl::InvalidArgumentError(
            StrCat(where, ".default_dataset: '", tenant.default_dataset, "' is not one of the tenant's datasets"));
      }
    }
    int defaults = 0;
    for (const auto& ds : tenant.datasets) {
      defaults += ds.is_default ? 1 : 0;
      for (const auto& other : tenant.datasets) {
        if (&other != &ds && (ds.slug == other.id || ds.slug == other.slug)) {
          return absl::InvalidArgumentError(
              StrCat(where, ".datasets: '", ds.slug, "' names two datasets (ids and slugs must be distinct)"));
        }
      }
    }
    if (defaults > 1) return absl::InvalidArgumentError(StrCat(where, ".datasets: more than one is_default"));
    for (const auto& other : c.auth.tenants) {
      if (other.id == tenant.id) return absl::InvalidArgumentError(StrCat(where, ".id: '", tenant.id, "' appears twice"));
      if (other.slug == tenant.slug || other.id == tenant.slug || other.slug == tenant.id) {
        return absl::InvalidArgumentError(StrCat(where, ".slug: '", tenant.slug, "' names another tenant"));
      }
      for (const auto& k : tenant.api_keys) {
        for (const auto& ok : other.api_keys) {
          if (k.key == ok.key) {
            return absl::InvalidArgumentError(
                StrCat(where, ".api_keys: a key of tenant '", tenant.id, "' is also tenant '", other.id, "''s"));
          }
        }
      }
    }
    for (size_t a = 0; a < tenant.api_keys.size(); ++a) {
      for (size_t b = a + 1; b < tenant.api_keys.size(); ++b) {
        if (tenant.api_keys[a].key == tenant.api_keys[b].key) {
          return absl::InvalidArgumentError(StrCat(where, ".api_keys[", b, "]: the same key twice"));
        }
      }
    }
    c.auth.tenants.push_back(std::move(tenant));
  }
  return absl::OkStatus();
}

absl::Status WalkToml(Config& c, const toml::table& table, const std::string& prefix,
                      const std::string& origin) {
  for (const auto& [k, node] : table) {
    std::string name = prefix.empty() ? std::string(k.str()) : StrCat(prefix, ".", k.str());
    if (name == "auth.tenants") {
      if (!node.as_array()) return absl::InvalidArgumentError(StrCat(origin, ": auth.tenants must be [[auth.tenants]] tables"));
      RETURN_IF_ERROR(ReadTenants(c, *node.as_array(), origin));
      continue;
    }
    if (const auto* sub = node.as_table()) {
      if (auto st = WalkToml(c, *sub, name, origin); !st.ok()) return st;
      continue;
    }
    auto text = LeafText(node);
    if (!text) {
      if (FindKey(name) == nullptr) {
        return absl::InvalidArgumentError(StrCat(origin, ": unknown configuration key '", name, "'"));
      }
      return absl::InvalidArgumentError(StrCat(origin, ": invalid value for '", name, "': expected a string or number"));
    }
    if (auto st = Apply(c, name, *text, origin); !st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAddress(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(StrCat("address '", addr, "' is not host:port"));
  }
  std::string port = addr.substr(colon + 1);
  int p = -1;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535) {
    return absl::InvalidArgumentError(StrCat("address '", addr, "' has an invalid port"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  std::string_view t = Trim(text);
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  double n;
  if (i == 0 || !ParseDouble(t.substr(0, i), &n) || n < 0) {
    return absl::InvalidArgumentError(StrCat("invalid duration '", text, "' (e.g. 500ms, 5s, 1m)"));
  }
  std::string_view unit = t.substr(i);
  double ms;
  if (unit.empty() || unit == "s") {
    ms = n * 1000;
  } else if (unit == "ms") {
    ms = n;
  } else if (unit == "m") {
    ms = n * 60000;
  } else if (unit == "h") {
    ms = n * 3600000;
  } else if (unit == "d") {
    ms = n * 86400000;
  } else {
    return absl::InvalidArgumentError(StrCat("invalid duration unit in '", text, "' (ms, s, m, h, d)"));
  }
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

const std::vector<std::string>& LimitFields() {
  static const std::vector<std::string> fields = {
      "ingest_bytes_per_second",    "ingest_records_per_second", "max_attributes_per_record",
      "max_attribute_value_length", "attribute_limit_action",    "query_concurrency",
      "max_query_range"};
  return fields;
}

absl::Status SetLimit(TenantLimits& l, const std::string& field, const std::string& text) {
  auto count = [&](uint64_t& out) -> absl::Status {
    int64_t n = -1;
    if (!ParseInt(Trim(text), &n) || n < 0) {
      return absl::InvalidArgumentError(StrCat("expected a non-negative integer, got '", text, "'"));
    }
    out = static_cast<uint64_t>(n);
    return absl::OkStatus();
  };
  auto size = [&](uint64_t& out) -> absl::Status {
    ASSIGN_OR_RETURN(out, ParseSize(text));
    return absl::OkStatus();
  };
  if (field == "ingest_bytes_per_second") return size(l.ingest_bytes_per_second);
  if (field == "ingest_records_per_second") return count(l.ingest_records_per_second);
  if (field == "max_attributes_per_record") return count(l.max_attributes_per_record);
  if (field == "max_attribute_value_length") return size(l.max_attribute_value_length);
  if (field == "query_concurrency") return count(l.query_concurrency);
  if (field == "max_query_range") {
    ASSIGN_OR_RETURN(l.max_query_range, ParseDuration(text));
    return absl::OkStatus();
  }
  if (field == "attribute_limit_action") {
    if (text != "truncate" && text != "reject") {
      return absl::InvalidArgumentError(StrCat("expected \"truncate\" or \"reject\", got '", text, "'"));
    }
    l.reject_over_limit_attributes = text == "reject";
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(StrCat("unknown limit '", field, "'"));
}

absl::StatusOr<TenantLimits> ResolveLimits(const TenantLimits& base, const LimitOverrides& overrides) {
  TenantLimits out = base;
  for (const auto& [field, text] : overrides) {
    if (absl::Status st = SetLimit(out, field, text); !st.ok()) {
      return absl::InvalidArgumentError(StrCat(field, ": ", st.message()));
    }
  }
  return out;
}

absl::StatusOr<uint64_t> ParseSize(const std::string& text) {
  std::string_view t = Trim(text);
  size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  uint64_t n;
  if (i == 0 || !ParseInt(t.substr(0, i), &n)) {
    return absl::InvalidArgumentError(StrCat("invalid size '", text, "' (e.g. 65536, 64KiB, 64MiB)"));
  }
  std::string unit = ToLower(Trim(t.substr(i)));
  uint64_t mul;
  if (unit.empty() || unit == "b") mul = 1;
  else if (unit == "kib" || unit == "kb" || unit == "k") mul = 1ull << 10;
  else if (unit == "mib" || unit == "mb" || unit == "m") mul = 1ull << 20;
  else if (unit == "gib" || unit == "gb" || unit == "g") mul = 1ull << 30;
  else return absl::InvalidArgumentError(StrCat("invalid size unit in '", text, "' (B, KiB, MiB, GiB)"));
  return n * mul;
}

std::string Config::WalDir() const {
  return wal.dir.empty() ? (std::filesystem::path(data_dir) / "wal").string() : wal.dir;
}

std::string Config::StorageDir() const {
  if (!StartsWith(storage.dsn, "file://")) return (std::filesystem::path(data_dir) / "storage").string();
  return storage.dsn.substr(7);
}

std::map<std::string, std::string> SignalDbEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv = *e;
    if (!StartsWith(kv, "SIGNALDB_")) continue;
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::vector<std::string> KnownKeys() {
  std::vector<std::string> names;
  for (const auto& k : Keys()) names.push_back(k.name);
  return names;
}

absl::StatusOr<Config> LoadConfig(const ConfigSources& sources) {
  Config c;
  std::optional<std::string> file = sources.file;
  if (!file) {
    auto local = std::filesystem::path(sources.working_dir) / "signaldb.toml";
    if (std::filesystem::exists(local)) file = local.string();
  }
  if (file) {
    toml::table parsed;
    try {
      parsed = toml::parse_file(*file);
    } catch (const toml::parse_error& err) {
      return absl::InvalidArgumentError(StrCat(*file, ":", err.source().begin.line, ":",
                                               err.source().begin.column, ": ", err.description()));
    }
    if (auto st = WalkToml(c, parsed, "", *file); !st.ok()) return st;
  }
  // Client-side variables that share the prefix but are not server keys.
  static const char* kClientVars[] = {"SIGNALDB_URL", "SIGNALDB_API_KEY", "SIGNALDB_ADMIN_KEY"};
  for (const auto& [var, value] : sources.env) {
    bool client = false;
    for (const char* cv : kClientVars) client = client || var == cv;
    if (client) continue;
    std::string name = ToLower(std::string_view(var).substr(9));
    for (size_t p = name.find("__"); p != std::string::npos; p = name.find("__", p + 1)) name.replace(p, 2, ".");
    if (auto st = Apply(c, name, value, StrCat("environment ", var)); !st.ok()) return st;
  }
  // All paths become absolute so later chdir or relative DSNs cannot move state.
  c.data_dir = std::filesystem::absolute(c.data_dir).lexically_normal().string();
  if (!c.wal.dir.empty()) c.wal.dir = std::filesystem::absolute(c.wal.dir).lexically_normal().string();
  if (StartsWith(c.storage.dsn, "file://")) {
    c.storage.dsn = "file://" + std::filesystem::absolute(c.StorageDir()).lexically_normal().string();
  }
  if (!c.schema.catalog_uri.empty() && c.schema.catalog_uri.find("://") == std::string::npos) {
    c.schema.catalog_uri = std::filesystem::absolute(c.schema.catalog_uri).lexically_normal().string();
  }
  return c;
}

}  // namespace signaldb
