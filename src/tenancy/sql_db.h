// A small SQL connection interface over SQLite and PostgreSQL, enough for
// the service database's few tables (store.h): statements with $1..$n text
// parameters, rows of text back. Both backends see the same SQL, so it keeps
// to what both accept (CREATE TABLE IF NOT EXISTS, INTEGER/BIGINT/TEXT,
// ON CONFLICT DO NOTHING).
//
// Thread-safety: not thread-safe; the owner serializes calls.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb::tenancy {

class SqlDb {
 public:
  using Value = std::optional<std::string>;  // nullopt: NULL
  using Row = std::vector<Value>;
  struct Result {
    std::vector<Row> rows;
    int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
  };
  virtual ~SqlDb() = default;
  // One statement. A unique or primary key violation is AlreadyExists; a
  // database that cannot be reached is Unavailable (never naming a password).
  virtual absl::StatusOr<Result> Run(const std::string& sql, const std::vector<Value>& params = {}) = 0;
  // Creates the tables (each backend serializes concurrent creators).
  virtual absl::Status CreateSchema(const std::string& statements) = 0;
};

// PostgreSQL for a postgresql:// or postgres:// URI, otherwise a SQLite file
// at that path (created when missing).
absl::StatusOr<std::unique_ptr<SqlDb>> OpenSqlDb(const std::string& dsn_or_path);

}  // namespace signaldb::tenancy
