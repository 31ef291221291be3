// The acceptor role: the ingest edges on two ports.
//   gRPC (4317): opentelemetry.proto.collector.{trace,logs,metrics}.v1 Export
//   HTTP (4318): POST /v1/traces, /v1/logs, /v1/metrics (OTLP/HTTP),
//                POST /api/v1/write (Prometheus remote_write 1.0), GET /health
// Every write is acknowledged only after the writer made it durable.
//
// Thread-safety: Start/Stop from one thread; requests are served concurrently.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "acceptor/ingestor.h"
#include "common/thread_pool.h"
#include "net/http_server.h"
#include "querier/querier.h"
#include "writer/writer.h"

namespace signaldb::acceptor {

struct AcceptorOptions {
  std::string grpc_addr;
  std::string http_addr;
  IngestLimits limits;
  int workers = 32;         // threads running writes (they wait on WAL fsyncs)
  std::string storage_dir;  // probed by /health
  const auth::Authenticator* auth = nullptr;  // not owned; null: auth off (default/default)
  TenantRateLimiter* rates = nullptr;         // not owned; null: no per-tenant rates
  // A tenant's current limits, asked once per request (from many threads at
  // once) for its attribute limits (ingestor.h); null: no attribute limits.
  std::function<TenantLimits(const std::string& tenant)> limits_of;
};

class Acceptor {
 public:
  // Pointers are not owned and must outlive the acceptor.
  static absl::StatusOr<std::unique_ptr<Acceptor>> Start(const AcceptorOptions& options, writer::Writer* writer,
                                                         querier::Querier* querier);
  ~Acceptor();
  // Stops accepting; in-flight requests finish (bounded by a short deadline).
  void Stop();
  std::string grpc_address() const { return grpc_address_; }
  std::string http_address() const { return http_.bound_address(); }

 private:
  Acceptor() = default;
  std::unique_ptr<Ingestor> ingestor_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> grpc_;
  std::string grpc_address_;
  net::HttpServer http_;
};

}  // namespace signaldb::acceptor
