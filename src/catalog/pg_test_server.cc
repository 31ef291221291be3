#include "catalog/pg_test_server.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>

#include "common/strings.h"

namespace signaldb::catalog {
namespace {

const std::string kScript = std::string(SIGNALDB_SOURCE_DIR) + "/scripts/pg-test-server.sh";

// Single-quotes `s` for /bin/sh.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; its stdout and stderr, or an error carrying both.
absl::StatusOr<std::string> Run(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return absl::InternalError(StrCat("cannot run ", cmd));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        StrCat(cmd, " failed (status ", WIFEXITED(rc) ? WEXITSTATUS(rc) : rc, "):\n", out));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgTestServer>> PgTestServer::Start() {
  std::random_device rd;
  std::string dir = (std::filesystem::temp_directory_path() /
                     StrCat("sdb-pg-", ::getpid(), "-", std::to_string(rd() % 1000000000)))
                        .string();
  auto out = Run(StrCat(Quote(kScript), " start ", Quote(dir), " ", ::getpid()));
  if (!out.ok()) return out.status();
  // The URI is the last line.
  std::string_view text = Trim(*out);
  std::string uri(text.substr(text.rfind('\n') == std::string_view::npos ? 0 : text.rfind('\n') + 1));
  if (!StartsWith(uri, "postgresql://")) return absl::InternalError(StrCat("unexpected output of ", kScript, ":\n", *out));
  return std::unique_ptr<PgTestServer>(new PgTestServer(dir, uri));
}

absl::StatusOr<PgTestServer*> PgTestServer::Shared() {
  static std::mutex mu;
  static std::unique_ptr<PgTestServer> server;
  static absl::Status failed = absl::OkStatus();
  std::lock_guard lock(mu);
  if (server) return server.get();
  if (!failed.ok()) return failed;
  auto started = Start();
  if (!started.ok()) {
    failed = started.status();
    return failed;
  }
  server = std::move(*started);
  return server.get();
}

PgTestServer::~PgTestServer() {
  auto st = Run(StrCat(Quote(kScript), " stop ", Quote(dir_)));
  if (!st.ok()) fprintf(stderr, "%s\n", std::string(st.status().message()).c_str());
}

std::string PgTestServer::DatabaseUri(const std::string& database) const {
  return uri_.substr(0, uri_.rfind('/') + 1) + database;
}

absl::StatusOr<std::string> PgTestServer::CreateDatabase(const std::string& database) {
  auto out = Psql(StrCat("CREATE DATABASE ", database));
  if (!out.ok()) return out.status();
  return DatabaseUri(database);
}

absl::StatusOr<std::string> PgTestServer::Psql(const std::string& sql, const std::string& database) {
  return Run(StrCat(Quote(kScript), " psql ", Quote(dir_), " -d ", Quote(database), " -qAt -c ", Quote(sql)));
}

}  // namespace signaldb::catalog
