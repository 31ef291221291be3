#include "router/admin_api.h"

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "router/http_util.h"

namespace signaldb::router {
namespace {

using nlohmann::json;

json Time(int64_t ms) {
  if (ms <= 0) return nullptr;
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[96];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string DurationText(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms != 0 && ms % 3600000 == 0) return StrCat(ms / 3600000, "h");
  if (ms != 0 && ms % 60000 == 0) return StrCat(ms / 60000, "m");
  if (ms % 1000 == 0) return StrCat(ms / 1000, "s");
  return StrCat(ms, "ms");
}

json EffectiveLimits(const TenantLimits& l) {
  return {{"ingest_bytes_per_second", l.ingest_bytes_per_second},
          {"ingest_records_per_second", l.ingest_records_per_second},
          {"max_attributes_per_record", l.max_attributes_per_record},
          {"max_attribute_value_length", l.max_attribute_value_length},
          {"attribute_limit_action", l.reject_over_limit_attributes ? "reject" : "truncate"},
          {"query_concurrency", l.query_concurrency},
          {"max_query_range", DurationText(l.max_query_range)}};
}

json TenantJson(const tenancy::TenantInfo& t) {
  json limits = json::object();
  for (const auto& [k, v] : t.row.limits) limits[k] = v;
  return {{"id", t.row.id},
          {"slug", t.row.slug},
          {"name", t.row.name},
          {"default_dataset", t.row.default_dataset.empty() ? json(nullptr) : json(t.row.default_dataset)},
          {"limits", limits},
          {"effective_limits", EffectiveLimits(t.effective)},
          {"source", tenancy::SourceName(t.source)},
          {"created_at", Time(t.row.created_at)},
          {"updated_at", Time(t.row.updated_at)}};
}

json KeyJson(const tenancy::ApiKeyInfo& k) {
  return {{"id", k.row.id},
          {"name", k.row.name},
          {"tenant_id", k.row.tenant_id},
          {"created_at", Time(k.row.created_at)},
          {"revoked_at", k.row.revoked_at ? Time(*k.row.revoked_at) : json(nullptr)},
          {"source", tenancy::SourceName(k.source)}};
}

json DatasetJson(const tenancy::DatasetInfo& d) {
  return {{"id", d.row.id},
          {"slug", d.row.slug},
          {"name", d.row.name},
          {"tenant_id", d.row.tenant_id},
          {"is_default", d.row.is_default},
          {"storage", d.row.storage_dsn.empty() ? json(nullptr) : json{{"dsn", d.row.storage_dsn}}},
          {"source", tenancy::SourceName(d.source)},
          {"created_at", Time(d.row.created_at)}};
}

// 400 naming `field`.
absl::Status BadField(const std::string& field, const std::string& message) {
  absl::Status st = absl::InvalidArgumentError(StrCat(field, ": ", message));
  return st;
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Messages may echo path bytes that are not UTF-8.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void ReplyError(httplib::Response& res, const absl::Status& st, const std::string& field = "") {
  int status = HttpStatusFor(st);
  if (st.code() == absl::StatusCode::kFailedPrecondition) status = 409;  // config-defined, or a second default
  json body = {{"error", std::string(st.message())}};
  std::string f = field.empty() ? tenancy::FieldOf(st) : field;
  if (!f.empty()) body["field"] = f;
  Reply(res, status, body);
}

// The request body as a JSON object whose fields are all in `allowed`, or
// the error already answered (nullopt).
std::optional<json> Body(const httplib::Request& req, httplib::Response& res, std::initializer_list<const char*> allowed) {
  if (req.body.empty()) return json::object();
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    ReplyError(res, absl::InvalidArgumentError("the request body must be a JSON object"));
    return std::nullopt;
  }
  for (const auto& [k, v] : body.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || k == a;
    if (!known) {
      ReplyError(res, absl::InvalidArgumentError(StrCat("unknown field '", k, "'")), k);
      return std::nullopt;
    }
  }
  return body;
}

// A string field: absent/null → nullopt; not a string → error (answered).
bool StringField(const json& body, const char* field, std::optional<std::string>* out, httplib::Response& res) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_string()) {
    ReplyError(res, BadField(field, "expected a string"), field);
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

// "limits": {field: number | string | null}.
bool LimitsField(const json& body, std::optional<LimitOverrides>* out, httplib::Response& res) {
  auto it = body.find("limits");
  if (it == body.end()) return true;
  if (it->is_null()) {
    *out = LimitOverrides{};
    return true;
  }
  if (!it->is_object()) {
    ReplyError(res, BadField("limits", "expected an object of limit overrides"), "limits");
    return false;
  }
  LimitOverrides limits;
  for (const auto& [k, v] : it->items()) {
    if (v.is_null()) continue;
    if (v.is_string()) {
      limits[k] = v.get<std::string>();
    } else if (v.is_number_unsigned() || v.is_number_integer()) {
      limits[k] = v.dump();
    } else {
      const std::string field = "limits." + k;
      ReplyError(res, BadField(field, "expected a number or a string"), field);
      return false;
    }
  }
  *out = std::move(limits);
  return true;
}

bool TenantSpecFrom(const json& body, tenancy::TenantSpec* spec, httplib::Response& res) {
  return StringField(body, "id", &spec->id, res) && StringField(body, "slug", &spec->slug, res) &&
         StringField(body, "name", &spec->name, res) && StringField(body, "default_dataset", &spec->default_dataset, res) &&
         LimitsField(body, &spec->limits, res);
}

}  // namespace

void RegisterAdminApi(httplib::Server& server, tenancy::Registry* registry) {
  // Every handler runs behind this check; false: the answer is written.
  auto admitted = [registry](const httplib::Request& req, httplib::Response& res) {
    if (registry == nullptr || !registry->authenticator().has_admin_key()) {
      ReplyError(res, absl::NotFoundError("the admin API is disabled: set [auth] admin_api_key"));
      return false;
    }
    if (!registry->authenticator().IsAdmin(req.get_header_value("Authorization"))) {
      ReplyError(res, absl::UnauthenticatedError("the admin API needs Authorization: Bearer <admin_api_key>"));
      return false;
    }
    return true;
  };
  const std::string tenants = "/api/v1/admin/tenants";
  const std::string one = tenants + "/([^/]+)";

  server.Get(tenants, [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    json list = json::array();
    for (const auto& t : registry->ListTenants()) list.push_back(TenantJson(t));
    Reply(res, 200, {{"tenants", list}});
  });
  server.Post(tenants, [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    auto body = Body(req, res, {"id", "slug", "name", "default_dataset", "limits"});
    tenancy::TenantSpec spec;
    if (!body || !TenantSpecFrom(*body, &spec, res)) return;
    auto t = registry->CreateTenant(spec);
    if (!t.ok()) return ReplyError(res, t.status());
    res.set_header("Location", tenants + "/" + t->row.id);
    Reply(res, 201, TenantJson(*t));
  });
  server.Get(one, [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    auto t = registry->GetTenant(req.matches[1]);
    if (!t.ok()) return ReplyError(res, t.status());
    Reply(res, 200, TenantJson(*t));
  });
  auto update = [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    auto body = Body(req, res, {"id", "slug", "name", "default_dataset", "limits"});
    tenancy::TenantSpec spec;
    if (!body || !TenantSpecFrom(*body, &spec, res)) return;
    // default_dataset: null clears it, as "" does.
    if (auto it = body->find("default_dataset"); it != body->end() && it->is_null()) spec.default_dataset = "";
    auto t = registry->UpdateTenant(req.matches[1], spec);
    if (!t.ok()) return ReplyError(res, t.status());
    Reply(res, 200, TenantJson(*t));
  };
  server.Put(one, update);
  server.Patch(one, update);
  server.Delete(one, [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    if (auto st = registry->DeleteTenant(req.matches[1]); !st.ok()) return ReplyError(res, st);
    res.status = 204;
  });

  server.Get(one + "/api-keys", [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    auto keys = registry->ListApiKeys(req.matches[1]);
    if (!keys.ok()) return ReplyError(res, keys.status());
    json list = json::array();
    for (const auto& k : *keys) list.push_back(KeyJson(k));
    Reply(res, 200, {{"api_keys", list}});
  });
  server.Post(one + "/api-keys", [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    auto body = Body(req, res, {"name"});
    std::optional<std::string> name;
    if (!body || !StringField(*body, "name", &name, res)) return;
    auto key = registry->CreateApiKey(req.matches[1], name.value_or(""));
    if (!key.ok()) return ReplyError(res, key.status());
    json out = KeyJson(key->info);
    out["key"] = key->secret;
    res.set_header("Cache-Control", "no-store");
    Reply(res, 201, out);
  });
  server.Delete(one + "/api-keys/([^/]+)", [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    auto key = registry->RevokeApiKey(req.matches[1], req.matches[2]);
    if (!key.ok()) return ReplyError(res, key.status());
    Reply(res, 200, KeyJson(*key));
  });

  server.Get(one + "/datasets", [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    auto datasets = registry->ListDatasets(req.matches[1]);
    if (!datasets.ok()) return ReplyError(res, datasets.status());
    json list = json::array();
    for (const auto& d : *datasets) list.push_back(DatasetJson(d));
    Reply(res, 200, {{"datasets", list}});
  });
  server.Post(one + "/datasets", [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    auto body = Body(req, res, {"id", "slug", "name", "is_default", "storage"});
    tenancy::DatasetSpec spec;
    if (!body || !StringField(*body, "id", &spec.id, res) || !StringField(*body, "slug", &spec.slug, res) ||
        !StringField(*body, "name", &spec.name, res)) {
      return;
    }
    if (auto it = body->find("is_default"); it != body->end() && !it->is_null()) {
      if (!it->is_boolean()) return ReplyError(res, BadField("is_default", "expected true or false"), "is_default");
      spec.is_default = it->get<bool>();
    }
    if (auto it = body->find("storage"); it != body->end() && !it->is_null()) {
      std::optional<std::string> dsn;
      if (!it->is_object()) return ReplyError(res, BadField("storage", "expected {\"dsn\": \"...\"}"), "storage");
      for (const auto& [k, v] : it->items()) {
        if (k != "dsn") return ReplyError(res, BadField("storage." + k, "unknown field"), "storage." + k);
      }
      auto d = it->find("dsn");
      if (d != it->end() && !d->is_null() && !d->is_string()) {
        return ReplyError(res, BadField("storage.dsn", "expected a string"), "storage.dsn");
      }
      if (d != it->end() && d->is_string()) spec.storage_dsn = d->get<std::string>();
    }
    auto dataset = registry->CreateDataset(req.matches[1], spec);
    if (!dataset.ok()) return ReplyError(res, dataset.status());
    Reply(res, 201, DatasetJson(*dataset));
  });
  server.Delete(one + "/datasets/([^/]+)", [=](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    if (auto st = registry->DeleteDataset(req.matches[1], req.matches[2]); !st.ok()) return ReplyError(res, st);
    res.status = 204;
  });
}

}  // namespace signaldb::router
