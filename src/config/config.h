// SignalDB's configuration and its loader. Values are resolved in order:
// embedded defaults, the TOML file, then SIGNALDB_* environment variables.
// Every key lives in one table (config.cc), which also feeds `KnownKeys()` so
// tests can check that signaldb.example.toml documents every key.
//
// Thread-safety: a loaded Config is an immutable value.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb {

// What one tenant may do. 0 means no limit.
struct TenantLimits {
  // Ingest rates (token buckets with one second of burst): over them, 429 +
  // Retry-After (gRPC RESOURCE_EXHAUSTED).
  uint64_t ingest_bytes_per_second = 0;
  uint64_t ingest_records_per_second = 0;
  // Attributes of one span, span event, span link, log record, data point,
  // resource or scope, and the length of one string value (bytes); records
  // over them are truncated (extra attributes dropped, values cut) or
  // rejected, per attribute_limit_action; either is counted in partialSuccess.
  uint64_t max_attributes_per_record = 1024;
  uint64_t max_attribute_value_length = 1 << 20;
  bool reject_over_limit_attributes = false;  // attribute_limit_action = "reject"
  // Queries (Tempo API and SQL) running at once; more answer 429.
  uint64_t query_concurrency = 0;
  // Widest start..end a Tempo search or metrics query may span; wider are 400.
  std::chrono::milliseconds max_query_range{0};
};
// Per-tenant overrides: field name (LimitFields()) to its text.
using LimitOverrides = std::map<std::string, std::string>;

struct Config {
  // Root of all local state (WAL, storage, temp files).
  std::string data_dir = ".data";

  struct Acceptor {
    std::string grpc_addr = "0.0.0.0:4317";
    std::string http_addr = "0.0.0.0:4318";
    uint64_t max_message_bytes = 64ull << 20;
    // Request bytes being decoded and written at once, process-wide; past it
    // clients get a retryable "overloaded" answer.
    uint64_t max_inflight_bytes = 256ull << 20;
    int workers = 32;
  } acceptor;

  struct Router {
    std::string http_addr = "0.0.0.0:3000";
  } router;

  struct Wal {
    std::string dir;  // empty: <data_dir>/wal
    uint64_t segment_size = 64ull << 20;
    // Trimmed segments each log keeps to write over instead of deleting
    // (docs/wal-format.md, "Spare segments"); 0 deletes them all.
    int spare_segments = 2;
    // How long an append may wait to share its fsync with other appends.
    std::chrono::milliseconds flush_interval{0};
    // "always" (fdatasync before every acknowledgement) or "never" (unsafe).
    std::string fsync = "always";
  } wal;

  struct Storage {
    // Where tables live: file:///dir, s3://bucket/prefix or memory://name;
    // empty: file://<data_dir>/storage.
    std::string dsn;
    // Per-dataset ("tenant/dataset") storage, from [storage.datasets.<tenant>].
    std::map<std::string, std::string> dataset_dsn;
    // Local disk cache of remote data files, per dataset.
    uint64_t cache_size = 10ull << 30;
    struct S3 {
      std::string endpoint;  // empty: AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com
      std::string region;    // empty: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1
      std::string access_key_id;      // empty: AWS_ACCESS_KEY_ID
      std::string secret_access_key;  // empty: AWS_SECRET_ACCESS_KEY
      bool path_style = false;        // http://host/bucket/key (MinIO and most S3-compatible servers)
    } s3;
    // zstd level of the Parquet data files (1..22): higher is smaller and
    // slower to write (see docs/storage-layout.md for measurements).
    int compression_level = 1;
    // Who encodes flushed Parquet files: "native" (our writer, straight from
    // the in-memory batches) or "duckdb" (DuckDB's COPY, the fallback).
    std::string parquet_writer = "native";
    // Snapshot expiry: each table keeps at most this many snapshots, and
    // none older than snapshot_max_age (0: no age limit) except the current.
    uint64_t snapshots_kept = 50;
    std::chrono::milliseconds snapshot_max_age{0};
    // Trace-by-id lookups open only the files whose trace-id filter may hold
    // the trace; false reads every file the column bounds allow (for
    // measuring the filters).
    bool trace_index = true;
  } storage;

  struct Schema {
    // The Iceberg SQL catalog: empty means SQLite at <storage dir>/catalog.db;
    // a postgresql:// or postgres:// URI means that PostgreSQL database (one
    // catalog shared by several processes); anything else is a SQLite path.
    std::string catalog_uri;
  } schema;

  struct Writer {
    std::chrono::milliseconds flush_interval{5000};
    uint64_t max_buffer_rows = 200000;
    // Unflushed rows held in memory; past it ingest waits for a flush to make
    // room, up to max_buffer_wait, then answers "retry later".
    uint64_t max_buffer_bytes = 1ull << 30;
    std::chrono::milliseconds max_buffer_wait{2000};
    // Threads encoding a flush's files (one per kFlushChunkRows rows and
    // hour) in parallel while ingest outpaces the flushes (half of
    // max_buffer_bytes or more waiting); 0: one per core. A flush that keeps
    // up uses one thread and leaves the other cores to the requests.
    int flush_threads = 0;
  } writer;

  // Background table maintenance in the writer: compaction, retention,
  // cleanup of unreferenced files.
  struct Compactor {
    bool enabled = true;
    std::chrono::milliseconds interval{60000};
    // Compaction merges a partition's small files into files of about this size.
    uint64_t target_file_size = 128ull << 20;
    // Files a partition of the current or previous hour needs before it is
    // compacted (older partitions: two).
    uint64_t min_input_files = 4;
    // Hour partitions older than this are dropped; 0 keeps data forever.
    std::chrono::milliseconds retention{0};
    // Per tenant ("acme") and per dataset ("acme/prod") retention, from
    // [compactor.retention.tenants] and [compactor.retention.datasets.<tenant>].
    std::map<std::string, std::chrono::milliseconds> retention_overrides;
    // Files no kept snapshot references are deleted once this old.
    std::chrono::milliseconds orphan_grace{15 * 60 * 1000};
    // zstd level of compacted files; 0: storage.compression_level.
    int compression_level = 0;
  } compactor;

  struct Query {
    std::chrono::milliseconds timeout{30000};
    uint64_t max_rows = 100000;
    // SQL naming tables with more data than this is refused (0: no limit).
    uint64_t max_scanned_bytes = 64ULL << 30;
  } query;

  struct Log {
    std::string level = "info";
  } log;

  // Per-tenant limits: these defaults, overridden per tenant by
  // [[auth.tenants]] and by tenants made through the admin API.
  TenantLimits limits;

  // The service database: tenants, datasets and API keys made through the
  // admin API. A postgresql:// URI, or a SQLite file path; empty:
  // <data_dir>/signaldb.db.
  struct Database {
    std::string dsn;
  } database;

  // Authentication and the tenants known from this file ([auth],
  // [[auth.tenants]] with their datasets and API keys).
  struct AuthDataset {
    std::string id;
    std::string slug;        // empty: the id
    bool is_default = false;
    std::string storage_dsn;  // [auth.tenants.datasets.storage] dsn; empty: storage.dsn
  };
  struct AuthApiKey {
    std::string key;  // the secret as configured; hashed at startup, never logged
    std::string name;
  };
  struct AuthTenant {
    // [limits] fields set for this tenant, as written ("10MiB", "24h", ...).
    LimitOverrides limits;
    std::string id;
    std::string slug;  // empty: the id
    std::string name;
    std::string default_dataset;  // a dataset id; empty: the one marked is_default
    std::vector<AuthDataset> datasets;
    std::vector<AuthApiKey> api_keys;
  };
  struct Auth {
    // Off: every request is tenant "default", dataset "default".
    bool enabled = false;
    std::string admin_api_key;  // the admin API's bearer key; empty: admin API off
    // How often every process re-reads tenants, datasets and keys from the
    // service database (changes made by another process's admin API).
    std::chrono::milliseconds refresh_interval{5000};
    std::vector<AuthTenant> tenants;
  } auth;

  // Derived locations (absolute), valid after Load().
  std::string WalDir() const;
  // The local storage directory: a file:// DSN's path, else
  // <data_dir>/storage (staging and cache of remote stores, default catalog).
  std::string StorageDir() const;
};

// The names of the per-tenant limits ([limits] keys and [[auth.tenants]]
// fields): ingest_bytes_per_second, ingest_records_per_second,
// max_attributes_per_record, max_attribute_value_length,
// attribute_limit_action, query_concurrency, max_query_range.
const std::vector<std::string>& LimitFields();
// Sets limit `field` from text ("10MiB", "500", "24h", "truncate"|"reject");
// InvalidArgument naming the problem.
absl::Status SetLimit(TenantLimits& limits, const std::string& field, const std::string& text);
// `base` with `overrides` applied.
absl::StatusOr<TenantLimits> ResolveLimits(const TenantLimits& base, const LimitOverrides& overrides);

struct ConfigSources {
  std::optional<std::string> file;             // --config FILE
  std::map<std::string, std::string> env;      // SIGNALDB_* variables only
  std::string working_dir = ".";               // where signaldb.toml is looked for
};

// Resolves the configuration. Errors name the offending key or value.
absl::StatusOr<Config> LoadConfig(const ConfigSources& sources);

// Collects SIGNALDB_* variables from the process environment.
std::map<std::string, std::string> SignalDbEnvironment();

// Dotted names of every configuration key ("acceptor.grpc_addr", ...).
std::vector<std::string> KnownKeys();

// Parses "host:port" (port 0-65535; host may be empty or [v6]).
absl::Status ValidateAddress(const std::string& addr);
// A storage DSN: file:///abs/dir, s3://bucket[/prefix], memory://name, or
// empty (the default storage).
absl::Status ValidateStorageDsn(const std::string& dsn);
// Tenant and dataset ids and slugs: 1-63 lowercase letters, digits and inner
// hyphens (safe as path components).
bool ValidSlug(std::string_view s);
absl::StatusOr<std::chrono::milliseconds> ParseDuration(const std::string& text);
absl::StatusOr<uint64_t> ParseSize(const std::string& text);

}  // namespace signaldb
