// Posts pre-encoded OTLP export requests to a server.
//
// Thread-safety: a Sender is used by one thread at a time (one per client
// connection); distinct senders run concurrently.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/tenant.h"
#include "google/protobuf/message.h"

namespace signaldb::loadgen {

enum class Transport { kGrpc, kHttpProtobuf, kHttpJson };
// "grpc", "http/protobuf", "http/json".
const char* TransportName(Transport t);

class Sender {
 public:
  virtual ~Sender() = default;
  // Sends one request body, encoded for this sender's transport (see Encode).
  // OK when the server acknowledged it.
  virtual absl::Status Send(Signal signal, const std::string& body) = 0;
};

// Who the requests are from, when the server has [auth] enabled (empty:
// not sent): Authorization: Bearer <api_key>, X-Tenant-ID, X-Dataset-ID
// (gRPC metadata of the same names, lowercase).
struct SenderIdentity {
  std::string api_key, tenant, dataset;
};

// `target` is host:port.
std::unique_ptr<Sender> MakeSender(Transport transport, const std::string& target,
                                   const SenderIdentity& identity = {});

// The body a sender of `transport` posts for `request`: protobuf bytes, or
// OTLP JSON (hex ids) for HTTP/JSON.
std::string Encode(Transport transport, const google::protobuf::Message& request);

}  // namespace signaldb::loadgen
