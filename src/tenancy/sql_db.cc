#include "tenancy/sql_db.h"

#include <sqlite3.h>

#include "catalog/catalog.h"
#include "catalog/pg_connection.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace signaldb::tenancy {
namespace {

class SqliteDb final : public SqlDb {
 public:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  ~SqliteDb() override { sqlite3_close(db_); }

  absl::StatusOr<Result> Run(const std::string& sql, const std::vector<Value>& params) override {
    // $N is PostgreSQL's placeholder; SQLite spells it ?N.
    std::string text = sql;
    for (size_t p = text.find('$'); p != std::string::npos; p = text.find('$', p + 1)) text[p] = '?';
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, text.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return Error("prepare");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      if (params[i]) {
        sqlite3_bind_text(stmt, index, params[i]->data(), static_cast<int>(params[i]->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt, index);
      }
    }
    Result out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Row row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
          row.emplace_back();
        } else {
          row.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)));
        }
      }
      out.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
      if ((sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE) ||
          (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_PRIMARYKEY)) {
        return absl::AlreadyExistsError(sqlite3_errmsg(db_));
      }
      return Error("run a statement");
    }
    out.affected = sqlite3_changes(db_);
    return out;
  }

  absl::Status CreateSchema(const std::string& statements) override {
    // WAL journaling lets other processes read while one writes; the busy
    // timeout makes concurrent writers wait instead of failing.
    sqlite3_busy_timeout(db_, 10000);
    char* err = nullptr;
    std::string script = "PRAGMA journal_mode=WAL;" + statements;
    if (sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return absl::UnavailableError(StrCat("service database: ", msg));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(const char* what) {
    return absl::UnavailableError(StrCat("service database: cannot ", what, ": ", sqlite3_errmsg(db_)));
  }
  sqlite3* db_;
};

class PostgresDb final : public SqlDb {
 public:
  PostgresDb(catalog::PgConn conn, catalog::PgTarget target) : conn_(std::move(conn)), target_(std::move(target)) {}

  absl::StatusOr<Result> Run(const std::string& sql, const std::vector<Value>& params) override {
    if (PQstatus(conn_.get()) != CONNECTION_OK) PQreset(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK) return Error("reconnect", PQerrorMessage(conn_.get()));
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    catalog::PgResult r(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                                     values.data(), nullptr, nullptr, /*resultFormat=*/0));
    ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
      const char* msg = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get());
      if (state != nullptr && std::string_view(state) == "23505") {
        return absl::AlreadyExistsError(catalog::RedactSecrets(msg, target_.secrets));
      }
      return Error("run a statement", msg);
    }
    Result out;
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      Row values_out;
      for (int c = 0; c < PQnfields(r.get()); ++c) {
        if (PQgetisnull(r.get(), row, c)) {
          values_out.emplace_back();
        } else {
          values_out.emplace_back(PQgetvalue(r.get(), row, c));
        }
      }
      out.rows.push_back(std::move(values_out));
    }
    int64_t n = 0;
    out.affected = ParseInt(std::string_view(PQcmdTuples(r.get())), &n) ? n : 0;
    return out;
  }

  absl::Status CreateSchema(const std::string& statements) override {
    // CREATE TABLE IF NOT EXISTS races between processes in PostgreSQL, so
    // creation holds a transaction-level advisory lock (one implicit
    // transaction for the whole string releases it).
    catalog::PgResult r(
        PQexec(conn_.get(), StrCat("SELECT pg_advisory_xact_lock(7237134120934471002);", statements).c_str()));
    ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      return Error("create the service tables", r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get()));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(std::string_view what, const char* msg) {
    return absl::UnavailableError(StrCat("PostgreSQL service database at ", target_.where, ": cannot ", what, ": ",
                                         catalog::RedactSecrets(msg, target_.secrets)));
  }
  catalog::PgConn conn_;
  const catalog::PgTarget target_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlDb>> OpenSqlDb(const std::string& dsn_or_path) {
  if (catalog::IsPostgresUri(dsn_or_path)) {
    catalog::PgTarget target = catalog::DescribePostgres(dsn_or_path);
    ASSIGN_OR_RETURN(catalog::PgConn conn, catalog::ConnectPostgres(dsn_or_path, target, "service database"));
    return std::unique_ptr<SqlDb>(std::make_unique<PostgresDb>(std::move(conn), std::move(target)));
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(dsn_or_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(StrCat("cannot open the service database ", dsn_or_path, ": ", msg));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqlDb>(std::make_unique<SqliteDb>(db));
}

}  // namespace signaldb::tenancy
