#include <sqlite3.h>

#include <mutex>

#include "catalog/catalog.h"
#include "common/strings.h"

namespace signaldb::catalog {
namespace {

std::string JoinNamespace(const std::vector<std::string>& ns) { return Join(ns, "."); }

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { prepared_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK; }
  ~Statement() { sqlite3_finalize(stmt_); }
  bool ok() const { return prepared_; }
  Statement& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) {
    auto* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  bool Null(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  bool prepared_ = false;
};

class SqliteCatalog final : public Catalog {
 public:
  SqliteCatalog(sqlite3* db, std::string name) : db_(db), name_(std::move(name)) {}
  ~SqliteCatalog() override { sqlite3_close(db_); }

  absl::Status Init() {
    // WAL journaling lets other processes read while one commits; the busy
    // timeout makes concurrent writers wait instead of failing.
    sqlite3_busy_timeout(db_, 10000);
    return Exec(
        "PRAGMA journal_mode=WAL;"
        "CREATE TABLE IF NOT EXISTS iceberg_tables ("
        " catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL,"
        " table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000),"
        " previous_metadata_location VARCHAR(1000), iceberg_type VARCHAR(5),"
        " PRIMARY KEY (catalog_name, table_namespace, table_name));"
        "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
        " catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL,"
        " property_key VARCHAR(255) NOT NULL, property_value VARCHAR(1000) NOT NULL,"
        " PRIMARY KEY (catalog_name, namespace, property_key));");
  }

  absl::Status CreateNamespace(const std::vector<std::string>& ns) override {
    std::lock_guard lock(mu_);
    Statement s(db_,
                "INSERT OR IGNORE INTO iceberg_namespace_properties VALUES (?1, ?2, 'exists', 'true')");
    if (!s.ok()) return Error("prepare");
    s.Bind(1, name_).Bind(2, JoinNamespace(ns));
    if (s.Step() != SQLITE_DONE) return Error("create namespace");
    return absl::OkStatus();
  }

  absl::Status CreateTable(const std::vector<std::string>& ns, const std::string& table,
                           const std::string& location) override {
    std::lock_guard lock(mu_);
    Statement s(db_, "INSERT INTO iceberg_tables VALUES (?1, ?2, ?3, ?4, NULL, 'TABLE')");
    if (!s.ok()) return Error("prepare");
    s.Bind(1, name_).Bind(2, JoinNamespace(ns)).Bind(3, table).Bind(4, location);
    int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(StrCat("table ", JoinNamespace(ns), ".", table, " already exists"));
    }
    if (rc != SQLITE_DONE) return Error("create table");
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> LoadTable(const std::vector<std::string>& ns,
                                                       const std::string& table) override {
    std::lock_guard lock(mu_);
    Statement s(db_,
                "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ?1 AND table_namespace = ?2"
                " AND table_name = ?3 AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)");
    if (!s.ok()) return Error("prepare");
    s.Bind(1, name_).Bind(2, JoinNamespace(ns)).Bind(3, table);
    int rc = s.Step();
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return Error("load table");
    return std::optional<std::string>(s.Text(0));
  }

  absl::Status CommitTable(const std::vector<std::string>& ns, const std::string& table, const std::string& expected,
                           const std::string& next) override {
    std::lock_guard lock(mu_);
    Statement s(db_,
                "UPDATE iceberg_tables SET metadata_location = ?4, previous_metadata_location = ?5"
                " WHERE catalog_name = ?1 AND table_namespace = ?2 AND table_name = ?3 AND metadata_location = ?5"
                " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)");
    if (!s.ok()) return Error("prepare");
    s.Bind(1, name_).Bind(2, JoinNamespace(ns)).Bind(3, table).Bind(4, next).Bind(5, expected);
    if (s.Step() != SQLITE_DONE) return Error("commit table");
    if (sqlite3_changes(db_) != 1) {
      return absl::AbortedError(StrCat("table ", JoinNamespace(ns), ".", table,
                                       " has been updated by another process; reload and retry"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListTables(const std::vector<std::string>& ns) override {
    std::lock_guard lock(mu_);
    Statement s(db_,
                "SELECT table_name FROM iceberg_tables WHERE catalog_name = ?1 AND table_namespace = ?2"
                " ORDER BY table_name");
    if (!s.ok()) return Error("prepare");
    s.Bind(1, name_).Bind(2, JoinNamespace(ns));
    std::vector<std::string> out;
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Text(0));
    if (rc != SQLITE_DONE) return Error("list tables");
    return out;
  }

 private:
  absl::Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return absl::UnavailableError(StrCat("catalog: ", msg));
    }
    return absl::OkStatus();
  }
  absl::Status Error(const char* what) {
    return absl::UnavailableError(StrCat("catalog ", what, ": ", sqlite3_errmsg(db_)));
  }

  sqlite3* db_;
  const std::string name_;
  std::mutex mu_;  // one statement at a time on this connection
};

}  // namespace

absl::StatusOr<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path, const std::string& catalog_name) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(StrCat("cannot open catalog ", path, ": ", msg));
  }
  auto catalog = std::make_unique<SqliteCatalog>(db, catalog_name);
  if (auto st = catalog->Init(); !st.ok()) return st;
  return std::unique_ptr<Catalog>(std::move(catalog));
}

}  // namespace signaldb::catalog
