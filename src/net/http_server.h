// An HTTP server on its own thread. Routes are registered on the underlying
// httplib::Server before Start(); Start() binds (failing if the address is
// taken) and returns once the socket is listening.
//
// Thread-safety: Start/Stop from one thread; handlers run on the server's pool.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace signaldb::net {

struct HostPort {
  std::string host;
  int port;
};
// Splits "host:port" / "[v6]:port"; an empty host means all interfaces.
absl::StatusOr<HostPort> ParseHostPort(const std::string& addr);

// The request's Content-Encoding (also when KeepBodiesCompressed() moved it).
std::string RequestContentEncoding(const httplib::Request& req);

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  httplib::Server& routes() { return server_; }
  // Keeps httplib from decompressing request bodies itself (it does so for
  // gzip/deflate before any handler runs, with its own error answers): the
  // Content-Encoding header is moved aside, and handlers read it with
  // RequestContentEncoding() and decompress under their own limits.
  void KeepBodiesCompressed();
  // Binds `addr` and starts serving. The error names the address.
  absl::Status Start(const std::string& addr);
  void Stop();
  int port() const { return port_; }
  // "host:port" actually bound.
  std::string bound_address() const;

 private:
  httplib::Server server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
};

}  // namespace signaldb::net
