// Test support: a tiny HTTP/1.1 server on an ephemeral loopback port that
// records each request exactly as it arrived (raw target, headers, body) and
// answers from a handler. Lets the S3 tests script failures (503, 429,
// dropped connections) and check what went over the wire, e.g. SigV4
// signatures, which s3rver does not verify.
//
// Thread-safety: requests() and the handler may run on any thread; the
// handler is called one request at a time.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace signaldb::objstore {

struct RawRequest {
  std::string method;
  std::string target;  // path and query, still percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string Header(std::string_view name) const;  // "" when absent
  std::string Path() const;                         // target before '?'
  std::string Query() const;                        // target after '?'
};

struct RawResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool drop_connection = false;  // close the socket without answering
};

class FakeHttpServer {
 public:
  using Handler = std::function<RawResponse(const RawRequest&)>;
  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<RawRequest> requests() const;

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  mutable std::mutex mu_;
  std::mutex handler_mu_;
  std::vector<RawRequest> requests_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace signaldb::objstore
