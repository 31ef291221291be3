// The embedded query engine: DuckDB behind a small RAII interface.
//
// A Database is one DuckDB instance confined to one directory tree
// (allowed_directories + enable_external_access=false + lock_configuration),
// so SQL run in it cannot reach files of any other tenant or of the host.
// Connections are cheap handles; each is used by one thread at a time.
//
// Thread-safety: Database is thread-safe; Connection, Result and Appender are
// not (one thread each), but distinct connections may run concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "columnar/batch.h"

namespace signaldb::engine {

class Watchdog;
class RowSource;

// A value of a result cell, after conversion to one of a few portable kinds.
// `Json` holds JSON text (nested values: lists, structs, maps).
struct Json {
  std::string text;
};
using Value = std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string, Json>;

// Kind of a parameter or column as our code sees it.
enum class Kind { kBool, kInt64, kUInt64, kDouble, kString, kJson };

struct Column {
  std::string name;
  std::string type;  // DuckDB's type name, e.g. BIGINT, VARCHAR, LIST
  Kind kind;
};

// A fully read, row-limited result.
struct Table {
  std::vector<Column> columns;
  std::vector<std::vector<Value>> rows;
  bool truncated = false;  // more rows existed than the limit allowed
};

using Param = std::variant<std::monostate, bool, int64_t, double, std::string>;

class Connection;

class Database {
 public:
  struct Options {
    // The only directory SQL may read or write. Must exist.
    std::string allowed_dir;
    // DuckDB spill directory (inside allowed_dir is fine).
    std::string temp_dir;
    int threads = 0;  // 0: DuckDB's default (all cores)
    std::string memory_limit;  // empty: DuckDB's default
  };
  // Opens an in-memory database and locks it down. The returned object owns
  // the DuckDB instance; connections must not outlive it.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const Options& options);
  ~Database();

  absl::StatusOr<std::unique_ptr<Connection>> Connect();
  const Options& options() const { return options_; }
  // Exposes `source` to SQL as the table function `name(table, arg)`.
  // `source` is not owned and must outlive the database.
  absl::Status RegisterRowSource(const std::string& name, RowSource* source);

 private:
  struct Impl;
  Database(Options options, std::unique_ptr<Impl> impl);
  Options options_;
  std::unique_ptr<Impl> impl_;
  friend class Connection;
};

class Appender;

class Connection {
 public:
  ~Connection();
  // Runs one or more trusted statements (our own DDL/DML), discarding results.
  absl::Status Execute(std::string_view sql);
  // Runs one trusted statement with bound parameters and reads every row.
  absl::StatusOr<Table> Query(std::string_view sql, const std::vector<Param>& params = {},
                              uint64_t max_rows = UINT64_MAX);
  // Runs untrusted user SQL: exactly one SELECT (or WITH ... SELECT)
  // statement, else InvalidArgument; interrupted (DeadlineExceeded) after
  // `timeout`; the first `offset` rows are skipped and at most `max_rows`
  // of the rest returned (truncated set when more exist).
  absl::StatusOr<Table> QueryUntrusted(std::string_view sql, std::chrono::milliseconds timeout,
                                       uint64_t max_rows, uint64_t offset = 0);
  absl::StatusOr<std::unique_ptr<Appender>> OpenAppender(const std::string& table);

 public:
  struct Impl;  // defined in engine.cc

 private:
  friend class Database;
  friend class Appender;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Appends rows to one table from columnar batches. Close() (or the
// destructor) flushes; rows are visible to other connections after Close().
class Appender {
 public:
  ~Appender();
  // Appends every row of `batch` (columns in table order) plus one trailing
  // BIGINT column holding `trailing` for each row, a vector at a time.
  absl::Status AppendBatch(const columnar::Batch& batch, int64_t trailing);
  absl::Status Close();

 private:
  friend class Connection;
  struct Impl;
  explicit Appender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  absl::Status first_error_;
};

// Quotes `text` as a SQL string literal ('...' with quotes doubled). The one
// place literal text is spliced into SQL; prefer bound parameters.
std::string QuoteLiteral(std::string_view text);
// Quotes an identifier ("...").
std::string QuoteIdentifier(std::string_view name);

}  // namespace signaldb::engine
