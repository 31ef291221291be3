// The acceptor role: OTLP ingest servers.
//
// Export answers OK only after the writer has made the request durable; a
// partly invalid request is answered OK with partial_success (rejected count
// and reason); storage failures map to retryable gRPC codes (UNAVAILABLE,
// RESOURCE_EXHAUSTED) and acknowledge nothing.
//
// Thread-safety: Start/Stop from one thread; RPCs are served concurrently.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "net/http_server.h"
#include "querier/querier.h"
#include "writer/writer.h"

namespace signaldb::acceptor {

struct AcceptorOptions {
  std::string grpc_addr;
  std::string http_addr;
  uint64_t max_message_bytes = 64ull << 20;
  std::string storage_dir;  // probed by /health
};

// Maps a writer status to the gRPC status a client sees.
grpc::Status ToGrpcStatus(const absl::Status& status);

class Acceptor {
 public:
  // Pointers are not owned and must outlive the acceptor.
  static absl::StatusOr<std::unique_ptr<Acceptor>> Start(const AcceptorOptions& options, writer::Writer* writer,
                                                         querier::Querier* querier);
  ~Acceptor();
  // Stops accepting; in-flight RPCs finish (bounded by a short deadline).
  void Stop();
  std::string grpc_address() const { return grpc_address_; }
  std::string http_address() const { return http_.bound_address(); }

 private:
  Acceptor() = default;
  std::unique_ptr<grpc::Service> trace_service_;
  std::unique_ptr<grpc::Server> grpc_;
  std::string grpc_address_;
  net::HttpServer http_;
};

}  // namespace signaldb::acceptor
