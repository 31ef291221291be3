// signaldb-cli: tenants, API keys and datasets through the admin API, and
// SQL / TraceQL / trace-by-id queries, from a shell. The command set, flags,
// environment and exit codes are those of docs/admin-api.md; this file only
// parses the command line and hands over to Commands.
#include <CLI/CLI.hpp>
#include <ctime>
#include <functional>
#include <iostream>
#include <memory>

#include "commands.h"
#include "http.h"

namespace {

using namespace signaldb::cli;  // NOLINT

constexpr const char* kFooter =
    R"(Environment: SIGNALDB_URL, SIGNALDB_ADMIN_KEY, SIGNALDB_API_KEY, SIGNALDB_TENANT,
SIGNALDB_DATASET stand in for the flags of the same names.
Exit codes: 0 ok, 1 server error or other failure, 2 usage error or 400,
3 authentication/permission (401/403), 4 not found, 5 conflict (409),
6 cannot connect, 7 rate limited (429).)";

using Action = std::function<int(Commands&)>;

void AddTenantCommands(CLI::App& app, Action& action) {
  auto* tenant = app.add_subcommand("tenant", "Manage tenants (admin key)");
  tenant->require_subcommand(1);

  tenant->add_subcommand("list", "List tenants")->callback([&action] {
    action = [](Commands& c) { return c.TenantList(); };
  });

  auto* create = tenant->add_subcommand("create", "Create a tenant (and its default dataset)");
  auto create_args = std::make_shared<TenantCreateArgs>();
  create->add_option("SLUG", create_args->slug, "Tenant slug (also its id unless --id)")
      ->required();
  create->add_option("--id", create_args->id, "Tenant id (defaults to the slug)");
  create->add_option("--name", create_args->name, "Display name");
  create->add_option("--default-dataset", create_args->default_dataset,
                     "Default dataset to create instead of \"default\"");
  create
      ->add_option("--limit", create_args->limits,
                   "Limit override FIELD=VALUE (repeatable), e.g. max_query_range=24h")
      ->allow_extra_args(false);
  create->callback([&action, create_args] {
    action = [create_args](Commands& c) { return c.TenantCreate(*create_args); };
  });

  auto* get = tenant->add_subcommand("get", "Show one tenant with its effective limits");
  auto get_tenant = std::make_shared<std::string>();
  get->add_option("TENANT", *get_tenant, "Tenant id or slug")->required();
  get->callback([&action, get_tenant] {
    action = [get_tenant](Commands& c) { return c.TenantGet(*get_tenant); };
  });

  auto* update =
      tenant->add_subcommand("update", "Change a tenant's name, slug, default dataset or limits");
  auto update_args = std::make_shared<TenantUpdateArgs>();
  update->add_option("TENANT", update_args->tenant, "Tenant id or slug")->required();
  auto* name = update->add_option("--name", update_args->name, "New display name");
  auto* slug = update->add_option("--slug", update_args->slug, "New slug");
  auto* dataset =
      update->add_option("--default-dataset", update_args->default_dataset, "New default dataset");
  update
      ->add_option("--limit", update_args->limits,
                   "Set one limit override FIELD=VALUE, others kept (repeatable); FIELD= drops it")
      ->allow_extra_args(false);
  update->add_flag("--clear-limits", update_args->clear_limits,
                   "Drop all limit overrides (before any --limit)");
  update->callback([&action, update_args, name, slug, dataset] {
    update_args->set_name = name->count() > 0;
    update_args->set_slug = slug->count() > 0;
    update_args->set_default_dataset = dataset->count() > 0;
    action = [update_args](Commands& c) { return c.TenantUpdate(*update_args); };
  });

  auto* del = tenant->add_subcommand(
      "delete", "Delete a tenant with its keys and datasets (data files stay)");
  auto del_tenant = std::make_shared<std::string>();
  del->add_option("TENANT", *del_tenant, "Tenant id or slug")->required();
  del->callback([&action, del_tenant] {
    action = [del_tenant](Commands& c) { return c.TenantDelete(*del_tenant); };
  });
}

void AddApiKeyCommands(CLI::App& app, Action& action) {
  auto* keys = app.add_subcommand("api-key", "Manage a tenant's API keys (admin key)");
  keys->require_subcommand(1);

  auto* create =
      keys->add_subcommand("create", "Create an API key; the key is shown only this once");
  auto create_tenant = std::make_shared<std::string>();
  auto create_name = std::make_shared<std::string>();
  create->add_option("TENANT", *create_tenant, "Tenant id or slug")->required();
  create->add_option("--name", *create_name, "Key name, unique within the tenant")->required();
  create->callback([&action, create_tenant, create_name] {
    action = [create_tenant, create_name](Commands& c) {
      return c.ApiKeyCreate(*create_tenant, *create_name);
    };
  });

  auto* list = keys->add_subcommand("list", "List a tenant's API keys (never the secrets)");
  auto list_tenant = std::make_shared<std::string>();
  list->add_option("TENANT", *list_tenant, "Tenant id or slug")->required();
  list->callback([&action, list_tenant] {
    action = [list_tenant](Commands& c) { return c.ApiKeyList(*list_tenant); };
  });

  auto* revoke = keys->add_subcommand("revoke", "Revoke an API key");
  auto revoke_tenant = std::make_shared<std::string>();
  auto revoke_id = std::make_shared<std::string>();
  revoke->add_option("TENANT", *revoke_tenant, "Tenant id or slug")->required();
  revoke->add_option("KEY_ID", *revoke_id, "Key id (from api-key list)")->required();
  revoke->callback([&action, revoke_tenant, revoke_id] {
    action = [revoke_tenant, revoke_id](Commands& c) {
      return c.ApiKeyRevoke(*revoke_tenant, *revoke_id);
    };
  });
}

void AddDatasetCommands(CLI::App& app, Action& action) {
  auto* datasets = app.add_subcommand("dataset", "Manage a tenant's datasets (admin key)");
  datasets->require_subcommand(1);

  auto* list = datasets->add_subcommand("list", "List a tenant's datasets");
  auto list_tenant = std::make_shared<std::string>();
  list->add_option("TENANT", *list_tenant, "Tenant id or slug")->required();
  list->callback([&action, list_tenant] {
    action = [list_tenant](Commands& c) { return c.DatasetList(*list_tenant); };
  });

  auto* create = datasets->add_subcommand("create", "Create a dataset");
  auto args = std::make_shared<DatasetCreateArgs>();
  create->add_option("TENANT", args->tenant, "Tenant id or slug")->required();
  create->add_option("SLUG", args->slug, "Dataset slug (also its id unless --id)")->required();
  create->add_option("--id", args->id, "Dataset id (defaults to the slug)");
  create->add_option("--name", args->name, "Display name");
  create->add_flag("--default", args->is_default, "Make it the tenant's default dataset");
  create->add_option(
      "--storage-dsn", args->storage_dsn,
      "Store its data elsewhere: file:///path, s3://bucket[/prefix] or memory://name");
  create->callback(
      [&action, args] { action = [args](Commands& c) { return c.DatasetCreate(*args); }; });

  auto* del = datasets->add_subcommand("delete", "Delete a dataset (its data files stay)");
  auto del_tenant = std::make_shared<std::string>();
  auto del_dataset = std::make_shared<std::string>();
  del->add_option("TENANT", *del_tenant, "Tenant id or slug")->required();
  del->add_option("DATASET", *del_dataset, "Dataset id or slug")->required();
  del->callback([&action, del_tenant, del_dataset] {
    action = [del_tenant, del_dataset](Commands& c) {
      return c.DatasetDelete(*del_tenant, *del_dataset);
    };
  });
}

void AddQueryCommands(CLI::App& app, Action& action) {
  auto* query = app.add_subcommand("query", "Query with SQL or TraceQL (API key)");
  query->require_subcommand(1);

  auto* sql =
      query->add_subcommand("sql", "Run one SELECT over the tenant's tables (POST /api/v1/sql)");
  auto sql_text = std::make_shared<std::string>();
  sql->add_option("SQL", *sql_text, "The query, e.g. \"SELECT count(*) FROM traces\"")->required();
  sql->callback(
      [&action, sql_text] { action = [sql_text](Commands& c) { return c.QuerySql(*sql_text); }; });

  auto* traceql = query->add_subcommand("traceql", "Search traces with TraceQL (Tempo search API)");
  auto args = std::make_shared<TraceqlArgs>();
  traceql->add_option("QUERY", args->query, "TraceQL, e.g. '{ resource.service.name = \"api\" }'")
      ->required();
  traceql->add_option(
      "--start", args->start,
      "Window start: Unix seconds, RFC 3339, now, or a span before now (1h, 30m, 7d)");
  traceql->add_option("--end", args->end,
                      "Window end, same forms (default: now, when --start is given)");
  traceql->add_option("--limit", args->limit, "Most traces to return (server default 20)")
      ->check(CLI::PositiveNumber);
  traceql->callback([&action, args] {
    action = [args](Commands& c) {
      return c.QueryTraceql(*args, static_cast<int64_t>(std::time(nullptr)));
    };
  });

  auto* trace = app.add_subcommand("trace", "Read traces (API key)");
  trace->require_subcommand(1);
  auto* get = trace->add_subcommand("get", "Show one trace's spans (Tempo trace by id)");
  auto trace_id = std::make_shared<std::string>();
  get->add_option("TRACE_ID", *trace_id, "Trace id in hex")->required();
  get->callback(
      [&action, trace_id] { action = [trace_id](Commands& c) { return c.TraceGet(*trace_id); }; });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"signaldb-cli: manage SignalDB tenants, API keys and datasets, and query it",
               "signaldb-cli"};
  app.footer(kFooter);
  app.require_subcommand(1);
  // Options of a parent may follow a subcommand: `tenant list --output json`.
  app.fallthrough();

  std::string url = "http://127.0.0.1:3000";
  std::string output = "table";
  Globals globals;
  app.add_option("--url", url, "Server's HTTP API (http://host:port)")
      ->envname("SIGNALDB_URL")
      ->capture_default_str();
  app.add_option("--admin-key", globals.admin_key, "Admin API key ([auth] admin_api_key)")
      ->envname("SIGNALDB_ADMIN_KEY");
  app.add_option("--api-key", globals.api_key, "API key for query commands")
      ->envname("SIGNALDB_API_KEY");
  app.add_option("--tenant", globals.tenant, "Tenant for query commands (X-Tenant-ID)")
      ->envname("SIGNALDB_TENANT");
  app.add_option("--dataset", globals.dataset, "Dataset for query commands (X-Dataset-ID)")
      ->envname("SIGNALDB_DATASET");
  app.add_option("-o,--output", output, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  Action action;
  AddTenantCommands(app, action);
  AddApiKeyCommands(app, action);
  AddDatasetCommands(app, action);
  AddQueryCommands(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a ParseError whose exit code is 0; everything else is usage.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  globals.output = output == "json" ? OutputFormat::kJson : OutputFormat::kTable;

  auto base = ParseBaseUrl(url);
  if (!base.ok()) {
    std::cerr << "error: --url: " << base.status().message() << "\n";
    return kExitUsage;
  }
  auto http = CreateHttpClient(*base);
  if (!http.ok()) {
    std::cerr << "error: " << http.status().message() << "\n";
    return kExitUsage;
  }
  if (!action) {  // every leaf sets one; reaching here means a parser change broke that
    std::cerr << "error: no command\n";
    return kExitUsage;
  }
  Commands commands(std::move(globals), http->get(), std::cout, std::cerr);
  int rc = action(commands);
  std::cout.flush();
  return rc;
}
