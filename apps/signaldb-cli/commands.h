// What each signaldb-cli command sends and prints (docs/admin-api.md,
// "signaldb-cli"). Commands return the process exit code; the command-line
// parsing lives in main.cc, the transport behind HttpClient, so the whole
// request/answer/output path runs in unit tests against a fake client.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "http.h"

namespace signaldb::cli {

enum class OutputFormat { kTable, kJson };

// The options every command shares (flags, else SIGNALDB_* variables).
struct Globals {
  std::string admin_key;  // admin commands: Authorization: Bearer
  std::string api_key;    // query commands: Authorization: Bearer
  std::string tenant;     // query commands: X-Tenant-ID when set
  std::string dataset;    // query commands: X-Dataset-ID when set
  OutputFormat output = OutputFormat::kTable;
};

struct TenantCreateArgs {
  std::string slug;
  std::string id;                   // empty: the server takes the slug
  std::string name;                 // empty: not sent
  std::string default_dataset;      // empty: not sent (the server creates "default")
  std::vector<std::string> limits;  // FIELD=VALUE
};

// Fields left unset are not sent. `limits` are merged into the tenant's
// current overrides (read first); FIELD= with no value drops that override;
// `clear_limits` starts from none.
struct TenantUpdateArgs {
  std::string tenant;
  bool set_name = false, set_slug = false, set_default_dataset = false;
  std::string name, slug, default_dataset;
  std::vector<std::string> limits;
  bool clear_limits = false;
};

struct DatasetCreateArgs {
  std::string tenant;
  std::string slug;
  std::string id;           // empty: the server takes the slug
  std::string name;         // empty: not sent
  bool is_default = false;  // sent only when true
  std::string storage_dsn;  // empty: the dataset lives in [storage] dsn
};

struct TraceqlArgs {
  std::string query;
  std::string start;  // ParseTimeArg forms; empty: not sent
  std::string end;
  int limit = 0;  // 0: the server's default
};

// Runs commands against one server. `http` must outlive it. Results go to
// `out`, notes and errors to `err`. Not thread-safe.
class Commands {
 public:
  Commands(Globals globals, HttpClient* http, std::ostream& out, std::ostream& err)
      : globals_(std::move(globals)), http_(http), out_(out), err_(err) {}

  int TenantList();
  int TenantCreate(const TenantCreateArgs& args);
  int TenantGet(const std::string& tenant);
  int TenantUpdate(const TenantUpdateArgs& args);
  int TenantDelete(const std::string& tenant);

  int ApiKeyCreate(const std::string& tenant, const std::string& name);
  int ApiKeyList(const std::string& tenant);
  int ApiKeyRevoke(const std::string& tenant, const std::string& key_id);

  int DatasetList(const std::string& tenant);
  int DatasetCreate(const DatasetCreateArgs& args);
  int DatasetDelete(const std::string& tenant, const std::string& dataset);

  int QuerySql(const std::string& sql);
  int QueryTraceql(const TraceqlArgs& args, int64_t now_unix_seconds);
  int TraceGet(const std::string& trace_id);

 private:
  enum class Auth { kAdmin, kQuery };
  // Sends `request` with the credentials `auth` calls for. On any failure
  // prints the error and returns its exit code; on success parses a JSON
  // body (null when empty) into `body` and returns 0.
  int Call(HttpRequest request, Auth auth, const std::string& not_found,
           nlohmann::ordered_json* body);
  // Prints `body` as indented JSON (--output json).
  void PrintJson(const nlohmann::ordered_json& body);
  // Prints `body` as JSON with --output json, else `text()`; kExitOk.
  int Show(const nlohmann::ordered_json& body, const std::function<std::string()>& text);
  int UsageError(const std::string& message);

  Globals globals_;
  HttpClient* http_;
  std::ostream& out_;
  std::ostream& err_;
};

// `FIELD=VALUE` assignments as a JSON object of limit overrides. Integers
// become JSON numbers, anything else a string ("10MiB", "24h"). With
// `allow_removal`, `FIELD=` maps FIELD to null (drop the override);
// otherwise an empty value is an error.
absl::StatusOr<nlohmann::ordered_json> ParseLimitAssignments(
    const std::vector<std::string>& assignments, bool allow_removal);

// A --start/--end value as Unix seconds: Unix seconds ("1732269600"),
// RFC 3339 ("2026-11-22T10:00:00Z", "2026-11-22T12:00:00+02:00",
// "2026-11-22"), "now", or a span before now ("1h", "30m", "1h30m", "7d").
absl::StatusOr<int64_t> ParseTimeArg(const std::string& text, int64_t now_unix_seconds);

}  // namespace signaldb::cli
