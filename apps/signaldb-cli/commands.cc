#include "commands.h"

#include "output.h"
#include "views.h"

#include "common/hex.h"

namespace signaldb::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kAdmin = "/api/v1/admin/tenants";

std::string TenantPath(const std::string& tenant) {
  return std::string(kAdmin) + "/" + PercentEncode(tenant);
}

HttpRequest Get(std::string target) { return {"GET", std::move(target), {}, "", ""}; }
HttpRequest Delete(std::string target) { return {"DELETE", std::move(target), {}, "", ""}; }
HttpRequest WithJson(std::string method, std::string target, const Json& body) {
  return {std::move(method), std::move(target), {}, body.dump(), "application/json"};
}

}  // namespace

int Commands::UsageError(const std::string& message) {
  err_ << "error: " << message << "\n";
  return kExitUsage;
}

void Commands::PrintJson(const Json& body) {
  out_ << body.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

int Commands::Show(const Json& body, const std::function<std::string()>& text) {
  if (globals_.output == OutputFormat::kJson) {
    PrintJson(body);
  } else {
    out_ << text();
  }
  return kExitOk;
}

int Commands::Call(HttpRequest request, Auth auth, const std::string& not_found, Json* body) {
  const std::string& key = auth == Auth::kAdmin ? globals_.admin_key : globals_.api_key;
  if (!key.empty()) request.headers.emplace_back("Authorization", "Bearer " + key);
  if (auth == Auth::kQuery) {
    if (!globals_.tenant.empty()) request.headers.emplace_back("X-Tenant-ID", globals_.tenant);
    if (!globals_.dataset.empty()) request.headers.emplace_back("X-Dataset-ID", globals_.dataset);
  }
  request.headers.emplace_back("Accept", "application/json");
  auto response = http_->Send(request);
  if (!response.ok()) {
    err_ << "error: " << response.status().message() << "\n";
    return response.status().code() == absl::StatusCode::kUnavailable ? kExitConnect : kExitFailure;
  }
  ExitCode code = ExitCodeForStatus(response->status);
  if (code != kExitOk) {
    std::string message = ErrorMessage(*response, response->status == 404 ? not_found : "");
    if (response->status == 401 && key.empty()) {
      message += auth == Auth::kAdmin
                     ? " (no admin key given: use --admin-key or SIGNALDB_ADMIN_KEY)"
                     : " (no API key given: use --api-key or SIGNALDB_API_KEY)";
    }
    err_ << "error: " << message << "\n";
    return code;
  }
  *body = nullptr;
  if (response->body.find_first_not_of(" \t\r\n") == std::string::npos) return kExitOk;
  *body = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (body->is_discarded()) {
    err_ << "error: the server's answer is not JSON (HTTP " << response->status << ")\n";
    return kExitFailure;
  }
  return kExitOk;
}

// ---- tenants ----

int Commands::TenantList() {
  Json body;
  if (int rc = Call(Get(kAdmin), Auth::kAdmin, "", &body)) return rc;
  return Show(body, [&] { return RenderTable(TenantsTable(body)); });
}

int Commands::TenantCreate(const TenantCreateArgs& args) {
  auto limits = ParseLimitAssignments(args.limits, /*allow_removal=*/false);
  if (!limits.ok()) return UsageError(std::string(limits.status().message()));
  Json request = Json::object();
  if (!args.id.empty()) request["id"] = args.id;
  request["slug"] = args.slug;
  if (!args.name.empty()) request["name"] = args.name;
  if (!args.default_dataset.empty()) request["default_dataset"] = args.default_dataset;
  if (!limits->empty()) request["limits"] = *limits;
  Json body;
  if (int rc = Call(WithJson("POST", kAdmin, request), Auth::kAdmin, "", &body)) return rc;
  return Show(body, [&] { return RenderObject(body); });
}

int Commands::TenantGet(const std::string& tenant) {
  Json body;
  if (int rc =
          Call(Get(TenantPath(tenant)), Auth::kAdmin, "tenant " + tenant + " not found", &body))
    return rc;
  return Show(body, [&] { return RenderObject(body); });
}

int Commands::TenantUpdate(const TenantUpdateArgs& args) {
  auto limits = ParseLimitAssignments(args.limits, /*allow_removal=*/true);
  if (!limits.ok()) return UsageError(std::string(limits.status().message()));
  const std::string not_found = "tenant " + args.tenant + " not found";
  Json request = Json::object();
  if (args.set_name) request["name"] = args.name;
  if (args.set_slug) request["slug"] = args.slug;
  if (args.set_default_dataset) request["default_dataset"] = args.default_dataset;
  if (!limits->empty()) {
    // The API replaces the whole set of overrides; --limit changes only the
    // fields it names, so start from the tenant's current ones.
    Json merged = Json::object();
    if (!args.clear_limits) {
      Json current;
      if (int rc = Call(Get(TenantPath(args.tenant)), Auth::kAdmin, not_found, &current)) return rc;
      if (current.is_object() && current.contains("limits") && current["limits"].is_object()) {
        merged = current["limits"];
      }
    }
    for (const auto& [field, value] : limits->items()) {
      if (value.is_null()) {
        merged.erase(field);
      } else {
        merged[field] = value;
      }
    }
    request["limits"] = merged;
  } else if (args.clear_limits) {
    request["limits"] = Json::object();
  }
  if (request.empty()) {
    return UsageError(
        "nothing to update: give --name, --slug, --default-dataset, --limit or --clear-limits");
  }
  Json body;
  if (int rc =
          Call(WithJson("PUT", TenantPath(args.tenant), request), Auth::kAdmin, not_found, &body))
    return rc;
  return Show(body, [&] { return RenderObject(body); });
}

int Commands::TenantDelete(const std::string& tenant) {
  Json body;
  if (int rc =
          Call(Delete(TenantPath(tenant)), Auth::kAdmin, "tenant " + tenant + " not found", &body))
    return rc;
  if (globals_.output == OutputFormat::kJson) {
    if (!body.is_null()) PrintJson(body);
  } else {
    out_ << "tenant " << tenant << " deleted (its data files stay in storage)\n";
  }
  return kExitOk;
}

// ---- API keys ----

int Commands::ApiKeyCreate(const std::string& tenant, const std::string& name) {
  Json body;
  if (int rc = Call(WithJson("POST", TenantPath(tenant) + "/api-keys", Json{{"name", name}}),
                    Auth::kAdmin, "tenant " + tenant + " not found", &body)) {
    return rc;
  }
  if (globals_.output == OutputFormat::kJson) {
    PrintJson(body);
    err_ << "note: the \"key\" above is shown only once; store it now\n";
    return kExitOk;
  }
  auto field = [&](const char* name_of_field, const std::string& fallback) {
    return body.is_object() && body.contains(name_of_field) ? CellText(body[name_of_field])
                                                            : fallback;
  };
  out_ << "API key \"" << field("name", name) << "\" (id " << field("id", "-")
       << ") created for tenant " << field("tenant_id", tenant) << ":\n\n"
       << "    " << field("key", "-") << "\n\n"
       << "Store this key now: it will not be shown again.\n";
  return kExitOk;
}

int Commands::ApiKeyList(const std::string& tenant) {
  Json body;
  if (int rc = Call(Get(TenantPath(tenant) + "/api-keys"), Auth::kAdmin,
                    "tenant " + tenant + " not found", &body)) {
    return rc;
  }
  return Show(body, [&] { return RenderTable(ApiKeysTable(body)); });
}

int Commands::ApiKeyRevoke(const std::string& tenant, const std::string& key_id) {
  Json body;
  if (int rc = Call(Delete(TenantPath(tenant) + "/api-keys/" + PercentEncode(key_id)), Auth::kAdmin,
                    "API key " + key_id + " of tenant " + tenant + " not found", &body)) {
    return rc;
  }
  if (globals_.output == OutputFormat::kJson) {
    if (!body.is_null()) PrintJson(body);
  } else {
    out_ << "API key " << key_id << " revoked\n";
    if (body.is_object()) out_ << RenderObject(body);
  }
  return kExitOk;
}

// ---- datasets ----

int Commands::DatasetList(const std::string& tenant) {
  Json body;
  if (int rc = Call(Get(TenantPath(tenant) + "/datasets"), Auth::kAdmin,
                    "tenant " + tenant + " not found", &body)) {
    return rc;
  }
  return Show(body, [&] { return RenderTable(DatasetsTable(body)); });
}

int Commands::DatasetCreate(const DatasetCreateArgs& args) {
  Json request = Json::object();
  if (!args.id.empty()) request["id"] = args.id;
  request["slug"] = args.slug;
  if (!args.name.empty()) request["name"] = args.name;
  if (args.is_default) request["is_default"] = true;
  if (!args.storage_dsn.empty()) request["storage"] = Json{{"dsn", args.storage_dsn}};
  Json body;
  if (int rc = Call(WithJson("POST", TenantPath(args.tenant) + "/datasets", request), Auth::kAdmin,
                    "tenant " + args.tenant + " not found", &body)) {
    return rc;
  }
  return Show(body, [&] { return RenderObject(body); });
}

int Commands::DatasetDelete(const std::string& tenant, const std::string& dataset) {
  Json body;
  if (int rc =
          Call(Delete(TenantPath(tenant) + "/datasets/" + PercentEncode(dataset)), Auth::kAdmin,
               "dataset " + dataset + " of tenant " + tenant + " not found", &body)) {
    return rc;
  }
  if (globals_.output == OutputFormat::kJson) {
    if (!body.is_null()) PrintJson(body);
  } else {
    out_ << "dataset " << dataset << " of tenant " << tenant
         << " deleted (its data files stay in storage)\n";
  }
  return kExitOk;
}

// ---- queries ----

int Commands::QuerySql(const std::string& sql) {
  Json body;
  if (int rc = Call(WithJson("POST", "/api/v1/sql", Json{{"query", sql}}), Auth::kQuery, "", &body))
    return rc;
  if (globals_.output == OutputFormat::kJson) {
    PrintJson(body);
    return kExitOk;
  }
  out_ << RenderTable(SqlTable(body));
  if (body.is_object() && body.value("truncated", false)) {
    err_ << "note: the result was cut at the server's row limit";
    if (body.contains("next_offset"))
      err_ << "; the next page starts at offset " << CellText(body["next_offset"]);
    err_ << "\n";
  }
  return kExitOk;
}

int Commands::QueryTraceql(const TraceqlArgs& args, int64_t now_unix_seconds) {
  std::string target = "/tempo/api/search?q=" + PercentEncode(args.query);
  std::optional<int64_t> start, end;
  if (!args.start.empty()) {
    auto t = ParseTimeArg(args.start, now_unix_seconds);
    if (!t.ok()) return UsageError("--start: " + std::string(t.status().message()));
    start = *t;
  }
  if (!args.end.empty()) {
    auto t = ParseTimeArg(args.end, now_unix_seconds);
    if (!t.ok()) return UsageError("--end: " + std::string(t.status().message()));
    end = *t;
  }
  // Tempo reads a start without an end as a bad range, so the end becomes
  // now; times are whole seconds, and spans from the current second must
  // still fall inside, hence one second more.
  if (start && !end) end = now_unix_seconds + 1;
  if (start) target += "&start=" + std::to_string(*start);
  if (end) target += "&end=" + std::to_string(*end);
  if (args.limit > 0) target += "&limit=" + std::to_string(args.limit);
  Json body;
  if (int rc = Call(Get(target), Auth::kQuery, "", &body)) return rc;
  return Show(body, [&] { return RenderTable(SearchTable(body)); });
}

int Commands::TraceGet(const std::string& trace_id) {
  Json body;
  if (int rc = Call(Get("/tempo/api/traces/" + PercentEncode(trace_id)), Auth::kQuery,
                    "trace " + trace_id + " not found", &body)) {
    return rc;
  }
  return Show(body, [&] { return RenderTable(TraceTable(body)); });
}

}  // namespace signaldb::cli
