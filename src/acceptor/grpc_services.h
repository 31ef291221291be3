// OTLP/gRPC services (traces, logs, metrics) over raw request bytes: gRPC
// hands over the serialized request, which is decoded straight into columnar
// rows and kept as-is in the WAL, with no intermediate message objects. The
// work runs on our own worker pool (WAL fsyncs block), never on gRPC's
// threads.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <memory>
#include <vector>

#include "acceptor/ingestor.h"
#include "common/thread_pool.h"

namespace signaldb::acceptor {

// Maps an ingest failure to the gRPC status a client sees.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Creates the three services; they must outlive the server they are
// registered with. `pool` and `ingestor` are not owned.
std::vector<std::unique_ptr<grpc::Service>> MakeOtlpServices(Ingestor* ingestor, ThreadPool* pool);

}  // namespace signaldb::acceptor
