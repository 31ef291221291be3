// The Iceberg SQL catalog on PostgreSQL, through libpq: one connection per
// catalog object, used under a mutex, re-established once per statement when
// it broke. Every value travels as a statement parameter (PQexecParams).
#include <memory>
#include <mutex>

#include "catalog/catalog.h"
#include "catalog/pg_connection.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace signaldb::catalog {
namespace {

// CREATE TABLE IF NOT EXISTS alone is not safe when two processes create the
// same table at once in PostgreSQL (one fails on the system catalogs' unique
// index), so schema creation holds a transaction-level advisory lock. The
// statements run as one implicit transaction, which releases the lock.
constexpr char kCreateSchema[] =
    "SELECT pg_advisory_xact_lock(7237134120934471001);"  // fixed, arbitrary key
    "CREATE TABLE IF NOT EXISTS iceberg_tables ("
    " catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL,"
    " table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000),"
    " previous_metadata_location VARCHAR(1000), iceberg_type VARCHAR(5),"
    " PRIMARY KEY (catalog_name, table_namespace, table_name));"
    "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
    " catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL,"
    " property_key VARCHAR(255) NOT NULL, property_value VARCHAR(1000) NOT NULL,"
    " PRIMARY KEY (catalog_name, namespace, property_key))";
// Lets a user without CREATE rights open a catalog whose tables exist.
constexpr char kSchemaExists[] =
    "SELECT to_regclass('iceberg_tables') IS NOT NULL AND to_regclass('iceberg_namespace_properties') IS NOT NULL";
constexpr char kCreateNamespace[] =
    "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)"
    " VALUES ($1, $2, 'exists', 'true') ON CONFLICT DO NOTHING";
constexpr char kCreateTable[] =
    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location,"
    " previous_metadata_location, iceberg_type) VALUES ($1, $2, $3, $4, NULL, 'TABLE') ON CONFLICT DO NOTHING";
constexpr char kLoadTable[] =
    "SELECT metadata_location, previous_metadata_location FROM iceberg_tables"
    " WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3"
    " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)";
constexpr char kCommitTable[] =
    "UPDATE iceberg_tables SET metadata_location = $4, previous_metadata_location = $5"
    " WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND metadata_location = $5"
    " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)";
// COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
constexpr char kListTables[] =
    "SELECT table_name FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2"
    " ORDER BY table_name COLLATE \"C\"";

std::string JoinNamespace(const std::vector<std::string>& ns) { return Join(ns, "."); }

class PostgresCatalog final : public Catalog {
 public:
  PostgresCatalog(PgConn conn, PgTarget target, std::string name)
      : conn_(std::move(conn)), target_(std::move(target)), name_(std::move(name)) {}

  absl::Status Init() {
    std::lock_guard lock(mu_);
    Outcome exists = ExecIdempotent(kSchemaExists, {});
    RETURN_IF_ERROR(Check(exists, "check the catalog tables"));
    if (std::string_view(PQgetvalue(exists.result.get(), 0, 0)) == "t") return absl::OkStatus();
    Outcome created{PgResult(PQexec(conn_.get(), kCreateSchema))};
    return Check(created, "create the catalog tables");
  }

  absl::Status CreateNamespace(const std::vector<std::string>& ns) override {
    std::lock_guard lock(mu_);
    return Check(ExecIdempotent(kCreateNamespace, {name_, JoinNamespace(ns)}), "create namespace");
  }

  absl::Status CreateTable(const std::vector<std::string>& ns, const std::string& table,
                           const std::string& location) override {
    std::lock_guard lock(mu_);
    Outcome o = ExecIdempotent(kCreateTable, {name_, JoinNamespace(ns), table, location});
    RETURN_IF_ERROR(Check(o, "create table"));
    if (Affected(o) == 1) return absl::OkStatus();
    if (o.retried) {
      // The first attempt may have inserted the row before the connection broke.
      ASSIGN_OR_RETURN(auto now, Row(ns, table));
      if (now && now->current == location) return absl::OkStatus();
    }
    return absl::AlreadyExistsError(StrCat("table ", JoinNamespace(ns), ".", table, " already exists"));
  }

  absl::StatusOr<std::optional<std::string>> LoadTable(const std::vector<std::string>& ns,
                                                       const std::string& table) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto now, Row(ns, table));
    if (!now) return std::optional<std::string>();
    return std::optional<std::string>(now->current);
  }

  absl::Status CommitTable(const std::vector<std::string>& ns, const std::string& table, const std::string& expected,
                           const std::string& next) override {
    std::lock_guard lock(mu_);
    const std::vector<std::string> params = {name_, JoinNamespace(ns), table, next, expected};
    for (int attempt = 0;; ++attempt) {
      Outcome o = Exec(kCommitTable, params);
      if (!o.lost) {
        RETURN_IF_ERROR(Check(o, "commit table"));
        if (Affected(o) == 1) return absl::OkStatus();
        return Moved(ns, table);
      }
      // The connection broke after the update went out, so it may have been
      // applied. Metadata locations are never reused, which tells the cases
      // apart.
      ASSIGN_OR_RETURN(auto now, Row(ns, table));
      if (now && (now->current == next || now->previous == next)) return absl::OkStatus();
      if (!now || now->previous == expected) return Moved(ns, table);
      if (now->current != expected || attempt == 1) {
        return absl::UnknownError(StrCat("PostgreSQL catalog at ", target_.where, ": connection lost while committing ",
                                         JoinNamespace(ns), ".", table, "; the commit may or may not have applied"));
      }
    }
  }

  absl::StatusOr<std::vector<std::string>> ListTables(const std::vector<std::string>& ns) override {
    std::lock_guard lock(mu_);
    Outcome o = ExecIdempotent(kListTables, {name_, JoinNamespace(ns)});
    RETURN_IF_ERROR(Check(o, "list tables"));
    std::vector<std::string> out;
    for (int row = 0; row < PQntuples(o.result.get()); ++row) out.emplace_back(PQgetvalue(o.result.get(), row, 0));
    return out;
  }

 private:
  // One statement's result (null when it could not be sent). `lost`: the
  // connection broke under it, so the server may or may not have run it.
  struct Outcome {
    PgResult result;
    bool lost = false;
    bool retried = false;
  };
  struct TableRow {
    std::string current, previous;
  };

  Outcome Exec(const char* sql, const std::vector<std::string>& params) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) PQreset(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK) return {};
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    Outcome o;
    o.result.reset(PQexecParams(conn_.get(), sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                                nullptr, /*resultFormat=*/0));
    o.lost = PQstatus(conn_.get()) != CONNECTION_OK;
    return o;
  }

  // For statements that may safely run twice: once more, on a fresh
  // connection, when the connection broke under the first attempt.
  Outcome ExecIdempotent(const char* sql, const std::vector<std::string>& params) {
    Outcome o = Exec(sql, params);
    if (!o.lost) return o;
    o = Exec(sql, params);
    o.retried = true;
    return o;
  }

  absl::Status Check(const Outcome& o, std::string_view what) {
    ExecStatusType st = o.result ? PQresultStatus(o.result.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return absl::OkStatus();
    const char* msg = o.result ? PQresultErrorMessage(o.result.get()) : "";
    if (*msg == '\0') msg = PQerrorMessage(conn_.get());
    return absl::UnavailableError(
        StrCat("PostgreSQL catalog at ", target_.where, ": cannot ", what, ": ", RedactSecrets(msg, target_.secrets)));
  }

  static int Affected(const Outcome& o) {
    int n = 0;
    return ParseInt(std::string_view(PQcmdTuples(o.result.get())), &n) ? n : 0;
  }

  absl::Status Moved(const std::vector<std::string>& ns, const std::string& table) {
    return absl::AbortedError(StrCat("table ", JoinNamespace(ns), ".", table,
                                     " has been updated by another process; reload and retry"));
  }

  // The table's current and previous metadata locations; nullopt when unknown.
  absl::StatusOr<std::optional<TableRow>> Row(const std::vector<std::string>& ns, const std::string& table) {
    Outcome o = ExecIdempotent(kLoadTable, {name_, JoinNamespace(ns), table});
    RETURN_IF_ERROR(Check(o, "load table"));
    if (PQntuples(o.result.get()) == 0) return std::optional<TableRow>();
    return std::optional<TableRow>(
        TableRow{PQgetvalue(o.result.get(), 0, 0), PQgetvalue(o.result.get(), 0, 1)});
  }

  std::mutex mu_;  // one statement at a time on the connection
  PgConn conn_;
  const PgTarget target_;
  const std::string name_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& dsn,
                                                             const std::string& catalog_name) {
  PgTarget target = DescribePostgres(dsn);
  ASSIGN_OR_RETURN(PgConn conn, ConnectPostgres(dsn, target, "catalog"));
  auto catalog = std::make_unique<PostgresCatalog>(std::move(conn), std::move(target), catalog_name);
  RETURN_IF_ERROR(catalog->Init());
  return std::unique_ptr<Catalog>(std::move(catalog));
}

}  // namespace signaldb::catalog
