#include "loadgen/sender.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <future>
#include <utility>
#include <vector>
#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/strings.h"

namespace signaldb::loadgen {
namespace {

// The identity as (lowercase) header names and values.
std::vector<std::pair<std::string, std::string>> IdentityHeaders(const SenderIdentity& id) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!id.api_key.empty()) out.emplace_back("authorization", "Bearer " + id.api_key);
  if (!id.tenant.empty()) out.emplace_back("x-tenant-id", id.tenant);
  if (!id.dataset.empty()) out.emplace_back("x-dataset-id", id.dataset);
  return out;
}

std::string GrpcMethod(Signal s) {
  switch (s) {
    case Signal::kTraces: return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    case Signal::kLogs: return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    case Signal::kMetrics: return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
  }
  return "";
}

class GrpcSender final : public Sender {
 public:
  GrpcSender(const std::string& target, const SenderIdentity& identity) : headers_(IdentityHeaders(identity)) {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);
    args.SetMaxReceiveMessageSize(-1);
    // A private channel per sender: concurrent senders use separate connections.
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    args.SetString("sdb.sender", std::to_string(reinterpret_cast<uintptr_t>(this)));
    channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
  }

  absl::Status Send(Signal signal, const std::string& body) override {
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    for (const auto& [k, v] : headers_) ctx.AddMetadata(k, v);
    std::promise<grpc::Status> done;
    stub_->UnaryCall(&ctx, GrpcMethod(signal), grpc::StubOptions(), &request, &response,
                     [&](grpc::Status st) { done.set_value(std::move(st)); });
    grpc::Status st = done.get_future().get();
    if (st.ok()) return absl::OkStatus();
    return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
  }

 private:
  std::vector<std::pair<std::string, std::string>> headers_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

class HttpSender final : public Sender {
 public:
  HttpSender(const std::string& target, bool json, const SenderIdentity& identity)
      : client_("http://" + target), json_(json) {
    httplib::Headers headers;
    for (const auto& [k, v] : IdentityHeaders(identity)) headers.emplace(k, v);
    client_.set_default_headers(headers);
    client_.set_keep_alive(true);
    client_.set_read_timeout(30, 0);
    client_.set_write_timeout(30, 0);
  }

  absl::Status Send(Signal signal, const std::string& body) override {
    auto res = client_.Post(StrCat("/v1/", SignalName(signal)), body,
                            json_ ? "application/json" : "application/x-protobuf");
    if (!res) return absl::UnavailableError(StrCat("HTTP request failed: ", httplib::to_string(res.error())));
    if (res->status == 200) return absl::OkStatus();
    absl::StatusCode code = res->status == 429 || res->status == 503 ? absl::StatusCode::kUnavailable
                            : res->status == 401                     ? absl::StatusCode::kUnauthenticated
                            : res->status == 403                     ? absl::StatusCode::kPermissionDenied
                            : res->status == 404                     ? absl::StatusCode::kNotFound
                                                                     : absl::StatusCode::kInvalidArgument;
    return absl::Status(code, StrCat("HTTP ", res->status, ": ", res->body.substr(0, 200)));
  }

 private:
  httplib::Client client_;
  bool json_;
};

bool IsIdKey(const std::string& k) { return k == "traceId" || k == "spanId" || k == "parentSpanId"; }

void IdsToHex(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (IsIdKey(it.key()) && it->is_string()) {
        auto raw = Base64Decode(it->get<std::string>());
        *it = raw ? HexEncode(*raw) : "";
      } else {
        IdsToHex(*it);
      }
    }
  } else if (j.is_array()) {
    for (auto& e : j) IdsToHex(e);
  }
}

}  // namespace

const char* TransportName(Transport t) {
  switch (t) {
    case Transport::kGrpc: return "grpc";
    case Transport::kHttpProtobuf: return "http/protobuf";
    case Transport::kHttpJson: return "http/json";
  }
  return "?";
}

std::unique_ptr<Sender> MakeSender(Transport transport, const std::string& target, const SenderIdentity& identity) {
  if (transport == Transport::kGrpc) return std::make_unique<GrpcSender>(target, identity);
  return std::make_unique<HttpSender>(target, transport == Transport::kHttpJson, identity);
}

std::string Encode(Transport transport, const google::protobuf::Message& request) {
  if (transport != Transport::kHttpJson) return request.SerializeAsString();
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  (void)google::protobuf::util::MessageToJsonString(request, &json, opts);
  auto j = nlohmann::json::parse(json);
  IdsToHex(j);
  return j.dump();
}

}  // namespace signaldb::loadgen
