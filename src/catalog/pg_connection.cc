#include "catalog/pg_connection.h"

#include "common/strings.h"

namespace signaldb::catalog {

PgTarget DescribePostgres(const std::string& dsn) {
  PgTarget t;
  // The password of a URI even when libpq cannot parse the rest.
  if (auto scheme = dsn.find("://"); scheme != std::string::npos) {
    auto at = dsn.find('@', scheme);
    auto colon = dsn.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      t.secrets.push_back(dsn.substr(colon + 1, at - colon - 1));
    }
  }
  std::string host, port, db;
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err)) {
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || *o->val == '\0') continue;
      std::string_view key = o->keyword;
      if (key == "password") t.secrets.push_back(o->val);
      if (key == "host" || (key == "hostaddr" && host.empty())) host = o->val;
      if (key == "port") port = o->val;
      if (key == "dbname") db = o->val;
    }
    PQconninfoFree(opts);
  } else {
    t.parse_error = err != nullptr ? err : "out of memory";
  }
  PQfreemem(err);
  t.where = StrCat(host.empty() ? "localhost" : host, ":", port.empty() ? "5432" : port, db.empty() ? "" : "/", db);
  return t;
}

std::string RedactSecrets(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(Trim(text));
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (size_t p = out.find(s); p != std::string::npos; p = out.find(s, p + 3)) out.replace(p, s.size(), "***");
  }
  return out;
}

absl::StatusOr<PgConn> ConnectPostgres(const std::string& dsn, const PgTarget& target, std::string_view what) {
  if (!target.parse_error.empty()) {
    return absl::InvalidArgumentError(
        StrCat("invalid PostgreSQL ", what, " URI: ", RedactSecrets(target.parse_error, target.secrets)));
  }
  // Defaults first: a later keyword wins, so the DSN (expanded from dbname)
  // can override them.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "signaldb", dsn.c_str(), nullptr};
  PgConn conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (conn == nullptr) return absl::ResourceExhaustedError("cannot allocate a PostgreSQL connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(StrCat("cannot connect to the PostgreSQL ", what, " at ", target.where, ": ",
                                         RedactSecrets(PQerrorMessage(conn.get()), target.secrets)));
  }
  // Notices ("relation already exists, skipping") are not errors: drop them
  // instead of letting libpq print them on stderr.
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

}  // namespace signaldb::catalog
