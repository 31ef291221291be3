// signaldb: every role (acceptor, writer, querier, router) in one process,
// configured by defaults, an optional TOML file and SIGNALDB_* variables.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "acceptor/acceptor.h"
#include "auth/auth.h"
#include "common/strings.h"
#include "config/config.h"
#include "querier/querier.h"
#include "router/router.h"
#include "schema/tables.h"
#include "tenancy/registry.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "writer/writer.h"

// jemalloc's settings for the server (read at its first allocation;
// MALLOC_CONF in the environment overrides them). Freed pages are returned to
// the system by a background thread, not by the ingest threads that free
// them, over about 30 s. Each flush frees the buffers that the next requests'
// decodes fill again; with a 1 s decay most of those pages went back to the
// kernel in between and came back as page faults and zeroing inside the
// decode (docs/ingest-performance.md: ~15% of the server's CPU per span at
// half the maximum rate). The cost is that memory freed by a burst (a flush,
// a compaction, a query) is held up to ~30 s longer.
extern "C" {
// NOLINTNEXTLINE: the name jemalloc looks for
const char* malloc_conf = "background_thread:true,dirty_decay_ms:30000,muzzy_decay_ms:0";
}

namespace {

using namespace signaldb;  // NOLINT

int Run(const Config& config) {
  // Tenants, datasets and API keys: [[auth.tenants]] and the service database.
  const std::string database = config.database.dsn.empty()
                                     ? (std::filesystem::absolute(config.data_dir) / "signaldb.db").string()
                                     : config.database.dsn;
  if (config.database.dsn.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
  }
  auto store = tenancy::Store::Open(database);
  if (!store.ok()) {
    spdlog::critical("cannot open the service database: {}", store.status().ToString());
    return 1;
  }
  writer::Writer* writer_for_checks = nullptr;  // set once the writer is open
  auto registry = tenancy::Registry::Open(
      {.auth_enabled = config.auth.enabled,
       .admin_api_key = config.auth.admin_api_key,
       .default_limits = config.limits,
       .config_tenants = config.auth.tenants,
       .refresh_interval = config.auth.refresh_interval,
       .default_storage = StartsWith(config.storage.dsn, "file://") || config.storage.dsn.empty()
                              ? "file://" + config.StorageDir()
                              : config.storage.dsn,
       .reserved_dirs = {std::filesystem::absolute(config.data_dir).lexically_normal().string(), config.WalDir(),
                         config.StorageDir()},
       .check_storage = [&writer_for_checks](const TenantContext& ctx, const std::string& dsn) {
         return writer_for_checks == nullptr ? absl::OkStatus() : writer_for_checks->CheckStorage(ctx, dsn);
       }},
      std::move(*store));
  if (!registry.ok()) {
    spdlog::critical("cannot read tenants from the service database: {}", registry.status().ToString());
    return 1;
  }

  writer::WriterOptions wopts;
  wopts.storage_of = [reg = registry->get()](const TenantContext& ctx) { return reg->StorageOf(ctx); };
  wopts.wal_dir = config.WalDir();
  wopts.storage_dir = config.StorageDir();
  wopts.catalog_uri = config.schema.catalog_uri;
  if (!StartsWith(config.storage.dsn, "file://")) wopts.storage_uri = config.storage.dsn;
  wopts.dataset_storage = config.storage.dataset_dsn;
  // [auth.tenants.datasets.storage] dsn: the same per-dataset override.
  for (const auto& t : config.auth.tenants) {
    for (const auto& d : t.datasets) {
      if (d.storage_dsn.empty()) continue;
      auto [it, fresh] = wopts.dataset_storage.emplace(t.id + "/" + d.id, d.storage_dsn);
      if (!fresh && it->second != d.storage_dsn) {
        spdlog::critical("dataset {}/{} has two storage DSNs: storage.datasets and [auth.tenants.datasets.storage]",
                         t.id, d.id);
        return 2;
      }
    }
  }
  for (auto& [dataset, dsn] : wopts.dataset_storage) {
    if (StartsWith(dsn, "file://")) {
      dsn = "file://" + std::filesystem::absolute(dsn.substr(7)).lexically_normal().string();
    }
  }
  wopts.cache_bytes = config.storage.cache_size;
  wopts.s3.endpoint = config.storage.s3.endpoint;
  wopts.s3.region = config.storage.s3.region;
  wopts.s3.access_key_id = config.storage.s3.access_key_id;
  wopts.s3.secret_access_key = config.storage.s3.secret_access_key;
  wopts.s3.path_style = config.storage.s3.path_style;
  wopts.wal.segment_size = config.wal.segment_size;
  wopts.wal.spare_segments = static_cast<size_t>(config.wal.spare_segments);
  wopts.wal.group_commit_window = config.wal.flush_interval;
  wopts.wal.fsync = config.wal.fsync == "always";
  if (!wopts.wal.fsync) spdlog::warn("wal.fsync = \"never\": acknowledged writes can be lost on an OS crash or power loss");
  wopts.flush_interval = config.writer.flush_interval;
  wopts.max_buffer_rows = config.writer.max_buffer_rows;
  wopts.max_buffer_bytes = config.writer.max_buffer_bytes;
  wopts.max_buffer_wait = config.writer.max_buffer_wait;
  wopts.flush_threads = config.writer.flush_threads;
  wopts.compression_level = config.storage.compression_level;
  if (!writer::ParseParquetEncoder(config.storage.parquet_writer, &wopts.parquet_encoder)) {
    spdlog::critical("storage.parquet_writer: unknown writer '{}'", config.storage.parquet_writer);
    return 2;
  }
  wopts.expiry.max_snapshots = config.storage.snapshots_kept;
  wopts.expiry.max_age = config.storage.snapshot_max_age;
  wopts.use_trace_index = config.storage.trace_index;
  wopts.maintenance_interval = config.compactor.enabled ? config.compactor.interval : std::chrono::milliseconds(0);
  wopts.maintenance.target_file_bytes = config.compactor.target_file_size;
  wopts.maintenance.min_input_files = config.compactor.min_input_files;
  wopts.maintenance.retention = config.compactor.retention;
  wopts.maintenance.orphan_grace = config.compactor.orphan_grace;
  wopts.maintenance.compression_level = config.compactor.compression_level;
  wopts.retention_overrides = config.compactor.retention_overrides;
  auto start = std::chrono::steady_clock::now();
  auto writer = writer::Writer::Open(wopts);
  if (!writer.ok()) {
    spdlog::critical("cannot open storage: {}", writer.status().ToString());
    return 1;
  }
  writer_for_checks = writer->get();
  auto recovery_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  querier::Querier querier(writer->get(), {.sql_timeout = config.query.timeout,
                                                   .sql_max_rows = config.query.max_rows,
                                                   .sql_max_scanned_bytes = config.query.max_scanned_bytes});

  acceptor::TenantRateLimiter rates([&](const std::string& tenant) {
    const TenantLimits l = (*registry)->LimitsOf(tenant);
    return acceptor::RateLimits{static_cast<double>(l.ingest_bytes_per_second),
                                static_cast<double>(l.ingest_records_per_second)};
  });
  auto limits_of = [&](const std::string& tenant) { return (*registry)->LimitsOf(tenant); };
  const auth::Authenticator* auth = config.auth.enabled ? &(*registry)->authenticator() : nullptr;
  if (config.auth.enabled && config.auth.tenants.empty() && (*registry)->ListTenants().empty()) {
    spdlog::warn("auth.enabled with no tenants yet: ingest and query requests are refused (401) until tenants and "
                 "keys are configured or created through the admin API");
  }

  auto acceptor = acceptor::Acceptor::Start({.grpc_addr = config.acceptor.grpc_addr,
                                             .http_addr = config.acceptor.http_addr,
                                             .limits = {.max_message_bytes = config.acceptor.max_message_bytes,
                                                        .max_inflight_bytes = config.acceptor.max_inflight_bytes},
                                             .workers = config.acceptor.workers,
                                             .storage_dir = config.StorageDir(),
                                             .auth = auth,
                                             .rates = &rates,
                                             .limits_of = limits_of},
                                            writer->get(), &querier);
  if (!acceptor.ok()) {
    spdlog::critical("{}", acceptor.status().ToString());
    return 1;
  }
  auto router = router::Router::Start({.http_addr = config.router.http_addr,
                                       .storage_dir = config.StorageDir(),
                                       .auth = auth,
                                       .registry = registry->get(),
                                       .limits_of = limits_of},
                                      &querier, writer->get());
  if (!router.ok()) {
    spdlog::critical("{}", router.status().ToString());
    (*acceptor)->Stop();
    return 1;
  }

  spdlog::info("SignalDB {} ready (recovered in {} ms)", SIGNALDB_VERSION, recovery_ms);
  spdlog::info("  OTLP/gRPC   {}", (*acceptor)->grpc_address());
  spdlog::info("  OTLP/HTTP   {}  (/v1/traces, /v1/logs, /v1/metrics, /api/v1/write, /health)",
               (*acceptor)->http_address());
  spdlog::info("  HTTP API    {}  (Tempo API at /tempo, SQL at /api/v1/sql, admin at /api/v1/admin, /health)",
               (*router)->bound_address());
  spdlog::info("  data dir    {}", config.data_dir);

  // Wait for SIGINT or SIGTERM (blocked in every thread since main()).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");

  (*acceptor)->Stop();  // stop accepting; in-flight exports finish
  (*router)->Stop();
  absl::Status st = (*writer)->Close();  // flush buffers to Parquet, close WALs
  if (!st.ok()) {
    spdlog::error("shutdown flush failed (data stays in the WAL for the next start): {}", st.ToString());
    return 1;
  }
  spdlog::info("shutdown complete");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread starts so only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  CLI::App app{"SignalDB: an observability signal database (OTLP in; Tempo API and SQL out)"};
  std::string config_file;
  app.add_option("-c,--config", config_file, "TOML configuration file (default: ./signaldb.toml if present)");
  app.set_version_flag("--version", SIGNALDB_VERSION);
  CLI11_PARSE(app, argc, argv);

  // The table schemas compiled in (schemas.toml) are checked before anything uses them.
  if (absl::Status st = signaldb::schema::CheckCompiledSchemas(); !st.ok()) {
    std::cerr << "signaldb: " << st.message() << "\n";
    return 2;
  }

  auto logger = spdlog::stderr_color_mt("signaldb");
  spdlog::set_default_logger(logger);

  ConfigSources sources;
  if (!config_file.empty()) sources.file = config_file;
  sources.env = SignalDbEnvironment();
  sources.working_dir = std::filesystem::current_path().string();
  auto config = LoadConfig(sources);
  if (!config.ok()) {
    std::cerr << "signaldb: configuration error: " << config.status().message() << "\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config->log.level));
  return Run(*config);
}
