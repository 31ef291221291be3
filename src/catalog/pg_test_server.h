// Tests only: a throwaway real PostgreSQL server, started and stopped by
// scripts/pg-test-server.sh (the script the node integration tests use too).
// When the server binaries are missing, Start() fails with the script's
// message saying to run scripts/setup.sh; tests must then fail, not skip.
//
// Thread-safety: Shared() may be called from any thread; a PgTestServer's
// methods may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace signaldb::catalog {

class PgTestServer {
 public:
  // Starts a server in a fresh temp directory. It is stopped and its
  // directory deleted by the destructor, or by the script's watchdog if this
  // process dies first.
  static absl::StatusOr<std::unique_ptr<PgTestServer>> Start();
  // One server per test process, started on first use and stopped at exit.
  static absl::StatusOr<PgTestServer*> Shared();
  ~PgTestServer();

  // postgresql://signaldb:<password>@127.0.0.1:<port>/signaldb
  const std::string& uri() const { return uri_; }
  // The URI of another database on this server.
  std::string DatabaseUri(const std::string& database) const;
  // Creates a database and returns its URI. `database` is a plain identifier.
  absl::StatusOr<std::string> CreateDatabase(const std::string& database);
  // Runs SQL with psql on `database` and returns its unaligned, tuples-only
  // output.
  absl::StatusOr<std::string> Psql(const std::string& sql, const std::string& database = "signaldb");

 private:
  PgTestServer(std::string dir, std::string uri) : dir_(std::move(dir)), uri_(std::move(uri)) {}
  std::string dir_;
  std::string uri_;
};

}  // namespace signaldb::catalog
