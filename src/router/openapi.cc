#include "router/openapi.h"

#include <nlohmann/json.hpp>

namespace signaldb::router {
namespace {

using nlohmann::json;

json Param(const char* name, const char* in, const char* description, const char* type = "string",
           bool required = false) {
  return {{"name", name}, {"in", in}, {"required", required || std::string(in) == "path"},
          {"description", description}, {"schema", {{"type", type}}}};
}

json Ref(const char* schema) { return {{"$ref", std::string("#/components/schemas/") + schema}}; }

json JsonBody(const json& schema) { return {{"content", {{"application/json", {{"schema", schema}}}}}}; }

json Answer(const char* description, const json& schema = nullptr) {
  json a = {{"description", description}};
  if (!schema.is_null()) a["content"] = {{"application/json", {{"schema", schema}}}};
  return a;
}

// The error answers every tenant-scoped endpoint may give.
json TenantErrors(json responses) {
  responses["400"] = Answer("Bad request: invalid parameters, or no dataset named and no default");
  responses["401"] = Answer("Missing, unknown or revoked API key");
  responses["403"] = Answer("The API key belongs to another tenant than the one named");
  responses["404"] = Answer("Unknown dataset (or trace)");
  responses["429"] = Answer("The tenant runs query_concurrency queries already (Retry-After)");
  return responses;
}

json AdminErrors(json responses) {
  responses["400"] = Answer("Validation error naming the field", Ref("Error"));
  responses["401"] = Answer("Missing or wrong admin key", Ref("Error"));
  responses["404"] = Answer("Unknown tenant, dataset or key; or the admin API is disabled", Ref("Error"));
  responses["409"] = Answer("Name taken, or defined in the configuration file", Ref("Error"));
  return responses;
}

json Op(const char* tag, const char* summary, json parameters, json responses, json extra = json::object()) {
  json op = {{"tags", {tag}}, {"summary", summary}, {"parameters", std::move(parameters)}, {"responses", std::move(responses)}};
  for (auto& [k, v] : extra.items()) op[k] = v;
  return op;
}

json Build() {
  const json tenant_scoped = {{"bearerAuth", json::array()}};
  const json admin_scoped = {{"adminKey", json::array()}};
  const json tenant_headers = {Param("X-Tenant-ID", "header", "Tenant id or slug (optional)"),
                               Param("X-Scope-OrgID", "header", "Tenant, as Grafana and Tempo clients send it"),
                               Param("X-Dataset-ID", "header", "Dataset id or slug (default: the tenant's default)")};
  auto with_headers = [&](json params) {
    for (const auto& h : tenant_headers) params.push_back(h);
    return params;
  };
  const json time_range = {Param("start", "query", "Start, Unix seconds", "integer"),
                           Param("end", "query", "End, Unix seconds", "integer")};
  auto concat = [](json a, const json& b) {
    for (const auto& x : b) a.push_back(x);
    return a;
  };
  json paths;
  auto tempo = [&](const char* path, const char* summary, json params, json extra = json::object()) {
    json op = Op("Tempo", summary, with_headers(std::move(params)),
                 TenantErrors({{"200", Answer("Tempo's JSON, or protobuf with Accept: application/protobuf")}}),
                 std::move(extra));
    op["security"] = {tenant_scoped};
    paths[path]["get"] = op;
  };
  paths["/tempo/api/echo"]["get"] = Op("Tempo", "Liveness (answers echo)", json::array(), {{"200", Answer("echo")}});
  paths["/tempo/ready"]["get"] = Op("Tempo", "Readiness", json::array(), {{"200", Answer("ready")}});
  paths["/tempo/api/status/buildinfo"]["get"] =
      Op("Tempo", "Version and build", json::array(), {{"200", Answer("Build information", {{"type", "object"}})}});
  const json trace_id = Param("traceID", "path", "Trace id, up to 32 hex digits");
  tempo("/tempo/api/traces/{traceID}", "A trace by id (v1: batches)", concat({trace_id}, time_range));
  tempo("/tempo/api/v2/traces/{traceID}", "A trace by id (v2: trace, status)", concat({trace_id}, time_range));
  tempo("/tempo/api/search", "TraceQL search",
        concat({Param("q", "query", "TraceQL query"), Param("tags", "query", "logfmt tags (instead of q)"),
                Param("minDuration", "query", "e.g. 100ms"), Param("maxDuration", "query", "e.g. 2s"),
                Param("limit", "query", "Traces to return (default 20)", "integer"),
                Param("spss", "query", "Spans per spanset (default 3)", "integer")},
               time_range));
  tempo("/tempo/api/search/tags", "Attribute names (v1)",
        concat({Param("scope", "query", "span | resource | intrinsic")}, time_range));
  tempo("/tempo/api/v2/search/tags", "Attribute names by scope (v2)",
        concat({Param("scope", "query", "resource | span | event | link | instrumentation | intrinsic"),
                Param("q", "query", "TraceQL filter")},
               time_range));
  tempo("/tempo/api/search/tag/{tag}/values", "Values of an attribute (v1)",
        concat({Param("tag", "path", "Attribute name")}, time_range));
  tempo("/tempo/api/v2/search/tag/{tag}/values", "Typed values of an attribute (v2)",
        concat({Param("tag", "path", "Scoped attribute, e.g. resource.service.name"), Param("q", "query", "TraceQL filter")},
               time_range));
  const json metrics_params = {Param("q", "query", "TraceQL metrics query", "string", true),
                               Param("start", "query", "Start (Unix seconds or nanoseconds, or RFC 3339)"),
                               Param("end", "query", "End"), Param("since", "query", "Instead of start, e.g. 1h"),
                               Param("step", "query", "Step, e.g. 60s"),
                               Param("exemplars", "query", "Exemplars to return", "integer")};
  tempo("/tempo/api/metrics/query_range", "TraceQL metrics over a range", metrics_params);
  tempo("/tempo/api/metrics/query", "TraceQL metrics, one instant", metrics_params);

  json sql = Op("SQL", "One read-only SELECT over the tenant's tables (traces, logs, metrics_*)",
                with_headers({Param("format", "query", "json (default) or csv"),
                              Param("limit", "query", "Rows per page (capped by query.max_rows)", "integer"),
                              Param("offset", "query", "Rows to skip", "integer")}),
                TenantErrors({{"200", Answer("Result", Ref("SqlResult"))}}),
                {{"requestBody",
                  {{"required", true},
                   {"content",
                    {{"text/plain", {{"schema", {{"type", "string"}}}}},
                     {"application/json", {{"schema", {{"type", "object"}, {"properties", {{"query", {{"type", "string"}}}}}}}}}}}}}});
  sql["security"] = {tenant_scoped};
  paths["/api/v1/sql"]["post"] = sql;
  paths["/health"]["get"] = Op("Health", "Health of storage, WAL and query engine", json::array(),
                               {{"200", Answer("Healthy", {{"type", "object"}})}, {"503", Answer("Unhealthy")}});
  paths["/api/v1/openapi.json"]["get"] =
      Op("Health", "This document", json::array(), {{"200", Answer("OpenAPI 3.0 document", {{"type", "object"}})}});

  auto admin = [&](const char* summary, json params, json responses, json extra = json::object()) {
    json op = Op("Admin", summary, std::move(params), AdminErrors(std::move(responses)), std::move(extra));
    op["security"] = {admin_scoped};
    return op;
  };
  const json tenant_param = Param("tenant", "path", "Tenant id or slug");
  const std::string base = "/api/v1/admin/tenants";
  paths[base]["get"] = admin("List tenants", json::array(),
                             {{"200", Answer("Tenants", {{"type", "object"}, {"properties", {{"tenants", {{"type", "array"}, {"items", Ref("Tenant")}}}}}})}});
  paths[base]["post"] = admin("Create a tenant (and its default dataset)", json::array(),
                              {{"201", Answer("Created", Ref("Tenant"))}},
                              {{"requestBody", JsonBody(Ref("TenantInput"))}});
  const std::string one = base + "/{tenant}";
  paths[one]["get"] = admin("Get a tenant", {tenant_param}, {{"200", Answer("Tenant", Ref("Tenant"))}});
  paths[one]["put"] = admin("Update a tenant", {tenant_param}, {{"200", Answer("Tenant", Ref("Tenant"))}},
                            {{"requestBody", JsonBody(Ref("TenantInput"))}});
  paths[one]["patch"] = paths[one]["put"];
  paths[one]["delete"] = admin("Delete a tenant with its keys and datasets (data files stay)", {tenant_param},
                               {{"204", Answer("Deleted")}});
  paths[one + "/api-keys"]["get"] =
      admin("List API keys (no secrets)", {tenant_param},
            {{"200", Answer("Keys", {{"type", "object"}, {"properties", {{"api_keys", {{"type", "array"}, {"items", Ref("ApiKey")}}}}}})}});
  paths[one + "/api-keys"]["post"] =
      admin("Create an API key (the secret is shown once)", {tenant_param},
            {{"201", Answer("Created; `key` holds the secret", Ref("ApiKey"))}},
            {{"requestBody", JsonBody({{"type", "object"}, {"required", {"name"}}, {"properties", {{"name", {{"type", "string"}}}}}})}});
  paths[one + "/api-keys/{key_id}"]["delete"] =
      admin("Revoke an API key", {tenant_param, Param("key_id", "path", "Key id")},
            {{"200", Answer("The revoked key", Ref("ApiKey"))}});
  paths[one + "/datasets"]["get"] =
      admin("List datasets", {tenant_param},
            {{"200", Answer("Datasets", {{"type", "object"}, {"properties", {{"datasets", {{"type", "array"}, {"items", Ref("Dataset")}}}}}})}});
  paths[one + "/datasets"]["post"] = admin("Create a dataset", {tenant_param}, {{"201", Answer("Created", Ref("Dataset"))}},
                                           {{"requestBody", JsonBody(Ref("DatasetInput"))}});
  paths[one + "/datasets/{dataset}"]["delete"] =
      admin("Delete a dataset (data files stay)", {tenant_param, Param("dataset", "path", "Dataset id or slug")},
            {{"204", Answer("Deleted")}});

  const json str = {{"type", "string"}};
  const json nullable_str = {{"type", "string"}, {"nullable", true}};
  const json time = {{"type", "string"}, {"format", "date-time"}, {"nullable", true}};
  const json limits = {{"type", "object"},
                       {"description", "Overrides of [limits]: ingest_bytes_per_second, ingest_records_per_second, "
                                       "max_attributes_per_record, max_attribute_value_length, attribute_limit_action, "
                                       "query_concurrency, max_query_range"},
                       {"additionalProperties", {{"oneOf", {{{"type", "string"}}, {{"type", "integer"}}}}}}};
  auto object = [](json properties) { return json{{"type", "object"}, {"properties", std::move(properties)}}; };
  auto array_of = [](json items) { return json{{"type", "array"}, {"items", std::move(items)}}; };
  json schemas;
  schemas["Error"] = object({{"error", str}, {"field", str}});
  schemas["SqlResult"] = object({{"columns", array_of(object({{"name", str}, {"type", str}}))},
                                 {"rows", array_of(array_of(json::object()))},
                                 {"truncated", {{"type", "boolean"}}},
                                 {"next_offset", {{"type", "integer"}}}});
  schemas["Tenant"] = object({{"id", str},
                              {"slug", str},
                              {"name", str},
                              {"default_dataset", nullable_str},
                              {"limits", limits},
                              {"effective_limits", {{"type", "object"}}},
                              {"source", {{"type", "string"}, {"enum", {"config", "database"}}}},
                              {"created_at", time},
                              {"updated_at", time}});
  schemas["TenantInput"] =
      object({{"id", str}, {"slug", str}, {"name", str}, {"default_dataset", nullable_str}, {"limits", limits}});
  schemas["ApiKey"] = object({{"id", str},
                              {"name", str},
                              {"tenant_id", str},
                              {"key", str},
                              {"created_at", time},
                              {"revoked_at", time},
                              {"source", str}});
  json storage = object({{"dsn", str}});
  storage["nullable"] = true;
  schemas["Dataset"] = object({{"id", str},
                               {"slug", str},
                               {"name", str},
                               {"tenant_id", str},
                               {"is_default", {{"type", "boolean"}}},
                               {"storage", storage},
                               {"source", str},
                               {"created_at", time}});
  schemas["DatasetInput"] = object(
      {{"id", str}, {"slug", str}, {"name", str}, {"is_default", {{"type", "boolean"}}}, {"storage", object({{"dsn", str}})}});
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "SignalDB HTTP API"},
            {"version", SIGNALDB_VERSION},
            {"description", "Tempo-compatible trace API, SQL, the admin API and health of a SignalDB router."}}},
          {"paths", paths},
          {"components",
           {{"schemas", schemas},
            {"securitySchemes",
             {{"bearerAuth", {{"type", "http"}, {"scheme", "bearer"}, {"description", "A tenant's API key"}}},
              {"adminKey", {{"type", "http"}, {"scheme", "bearer"}, {"description", "[auth] admin_api_key"}}}}}}}};
}

}  // namespace

const std::string& OpenApiJson() {
  static const std::string text = Build().dump(2);
  return text;
}

}  // namespace signaldb::router
