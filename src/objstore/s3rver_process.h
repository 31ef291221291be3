// Test support: runs s3rver, the S3-compatible server from npm
// (deps/node_modules, installed by scripts/setup.sh), as a child process on
// an ephemeral loopback port with a temporary data directory. It accepts any
// secret with the access key id "S3RVER" and serves path-style requests on
// http://127.0.0.1:<port> and virtual-hosted ones on
// http://<bucket>.s3.localhost:<port>.
//
// Thread-safety: not thread-safe; one test fixture owns it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb::objstore {

class S3rverProcess {
 public:
  static constexpr char kAccessKeyId[] = "S3RVER";
  static constexpr char kSecretAccessKey[] = "S3RVER";

  // Starts the server with `buckets` created and waits until it listens.
  // FailedPrecondition (naming scripts/setup.sh) when node or s3rver is
  // missing.
  static absl::StatusOr<std::unique_ptr<S3rverProcess>> Start(
      const std::vector<std::string>& buckets);
  // Stops the server and deletes its data directory.
  ~S3rverProcess();
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  int port() const { return port_; }
  // http://127.0.0.1:<port>, for path-style access.
  std::string endpoint() const;

 private:
  S3rverProcess() = default;

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
  std::string data_dir_;
};

}  // namespace signaldb::objstore
