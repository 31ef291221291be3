// Connecting to PostgreSQL through libpq, shared by the Iceberg catalog and
// the service database (src/tenancy): DSN description for messages (host,
// port and database, never the password), redaction of secrets from libpq's
// errors, and a connection with our defaults.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb::catalog {

struct PgConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnCloser>;
using PgResult = std::unique_ptr<PGresult, PgResultClearer>;

// Where a DSN points, for messages, and what must never appear in them.
struct PgTarget {
  std::string where;  // host:port/dbname
  std::vector<std::string> secrets;
  std::string parse_error;  // set when libpq cannot parse the DSN
};
PgTarget DescribePostgres(const std::string& dsn);

// `text` trimmed, with every secret replaced by ***.
std::string RedactSecrets(std::string_view text, const std::vector<std::string>& secrets);

// Connects to `dsn` (a libpq URI or key=value string; connect timeout 10 s,
// application name signaldb unless the DSN says otherwise; server notices
// dropped). `what` names the database in errors ("catalog"):
// InvalidArgument for a malformed DSN, Unavailable naming host and port when
// the server cannot be reached. Errors never show the password.
absl::StatusOr<PgConn> ConnectPostgres(const std::string& dsn, const PgTarget& target, std::string_view what);

}  // namespace signaldb::catalog
