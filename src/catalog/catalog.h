// The Iceberg SQL catalog: maps (namespace, table) to the location of the
// table's current metadata file. A commit is a compare-and-swap of that
// location (Iceberg spec "Metastore Tables"): it succeeds only if nobody
// committed since the caller loaded the table; otherwise the caller reloads
// and retries.
//
// Two implementations share the same tables (those of pyiceberg's SqlCatalog
// and Java's JdbcCatalog): SQLite, a file on local disk, and PostgreSQL, a
// server several hosts can share.
//
// Thread-safety: implementations are thread-safe, and several processes may
// share one catalog database.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb::catalog {

class Catalog {
 public:
  virtual ~Catalog() = default;
  // Namespace levels are joined with '.', as pyiceberg does.
  virtual absl::Status CreateNamespace(const std::vector<std::string>& ns) = 0;
  // AlreadyExists when the table is there.
  virtual absl::Status CreateTable(const std::vector<std::string>& ns, const std::string& table,
                                   const std::string& metadata_location) = 0;
  // The current metadata location, or nullopt for an unknown table.
  virtual absl::StatusOr<std::optional<std::string>> LoadTable(const std::vector<std::string>& ns,
                                                               const std::string& table) = 0;
  // Swaps `expected` for `next`; Aborted when the table moved on meanwhile.
  virtual absl::Status CommitTable(const std::vector<std::string>& ns, const std::string& table,
                                   const std::string& expected, const std::string& next) = 0;
  virtual absl::StatusOr<std::vector<std::string>> ListTables(const std::vector<std::string>& ns) = 0;
};

// Opens (creating if needed) a SQLite catalog database at `path`.
absl::StatusOr<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path,
                                                           const std::string& catalog_name = "signaldb");

// Connects to a PostgreSQL catalog. `dsn` is a libpq connection string or
// URI ("postgresql://user:password@host:5432/db"); the catalog tables are
// created when missing. Unavailable, naming host and port (never the
// password), when the server cannot be reached.
absl::StatusOr<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& dsn,
                                                             const std::string& catalog_name = "signaldb");

// True for the URIs OpenCatalog hands to PostgreSQL: postgresql://, postgres://.
bool IsPostgresUri(const std::string& uri_or_path);

// PostgreSQL for a postgresql:// or postgres:// URI, otherwise a SQLite file
// at that path.
absl::StatusOr<std::unique_ptr<Catalog>> OpenCatalog(const std::string& uri_or_path,
                                                     const std::string& catalog_name = "signaldb");

}  // namespace signaldb::catalog
