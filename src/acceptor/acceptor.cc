#include "acceptor/acceptor.h"

#include <chrono>

#include "common/strings.h"
#include "health/health.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace signaldb::acceptor {
namespace {

namespace tsvc = opentelemetry::proto::collector::trace::v1;

class TraceServiceImpl final : public tsvc::TraceService::Service {
 public:
  explicit TraceServiceImpl(writer::Writer* writer) : writer_(writer) {}

  grpc::Status Export(grpc::ServerContext* context, const tsvc::ExportTraceServiceRequest* request,
                      tsvc::ExportTraceServiceResponse* response) override {
    // The WAL keeps the request's wire form so replay decodes exactly what was acked.
    std::string payload;
    if (!request->SerializeToString(&payload)) return grpc::Status(grpc::StatusCode::INTERNAL, "cannot serialize request");
    auto result = writer_->Write(TenantContext{}, Signal::kTraces, payload);
    if (!result.ok()) {
      spdlog::warn("trace export failed: {}", result.status().ToString());
      return ToGrpcStatus(result.status());
    }
    if (result->rejected > 0) {
      auto* partial = response->mutable_partial_success();
      partial->set_rejected_spans(static_cast<int64_t>(result->rejected));
      partial->set_error_message(result->message);
    }
    return grpc::Status::OK;
  }

 private:
  writer::Writer* writer_;
};

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  std::string msg(status.message());
  switch (status.code()) {
    case absl::StatusCode::kOk: return grpc::Status::OK;
    case absl::StatusCode::kInvalidArgument: return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, msg);
    case absl::StatusCode::kResourceExhausted: return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, msg);
    case absl::StatusCode::kUnauthenticated: return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, msg);
    case absl::StatusCode::kPermissionDenied: return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, msg);
    case absl::StatusCode::kNotFound: return grpc::Status(grpc::StatusCode::NOT_FOUND, msg);
    case absl::StatusCode::kDeadlineExceeded: return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, msg);
    // Storage trouble is transient from the client's point of view: retry.
    default: return grpc::Status(grpc::StatusCode::UNAVAILABLE, msg);
  }
}

absl::StatusOr<std::unique_ptr<Acceptor>> Acceptor::Start(const AcceptorOptions& options, writer::Writer* writer,
                                                          querier::Querier* querier) {
  auto a = std::unique_ptr<Acceptor>(new Acceptor());
  a->trace_service_ = std::make_unique<TraceServiceImpl>(writer);

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(options.grpc_addr, grpc::InsecureServerCredentials(), &selected_port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<uint64_t>(options.max_message_bytes, INT32_MAX)));
  // gRPC sets SO_REUSEPORT by default; a port already in use must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(a->trace_service_.get());
  a->grpc_ = builder.BuildAndStart();
  if (!a->grpc_ || selected_port == 0) {
    return absl::UnavailableError(StrCat("cannot listen on ", options.grpc_addr, " (gRPC): address in use or not available"));
  }
  auto colon = options.grpc_addr.rfind(':');
  a->grpc_address_ = StrCat(options.grpc_addr.substr(0, colon), ":", selected_port);

  auto& routes = a->http_.routes();
  std::string storage_dir = options.storage_dir;
  routes.Get("/health", [=](const httplib::Request&, httplib::Response& res) {
    auto report = health::Check(writer, querier, storage_dir);
    res.status = report.healthy ? 200 : 503;
    res.set_content(report.json, "application/json");
  });
  if (auto st = a->http_.Start(options.http_addr); !st.ok()) {
    a->grpc_->Shutdown();
    return st;
  }
  return a;
}

Acceptor::~Acceptor() { Stop(); }

void Acceptor::Stop() {
  if (grpc_) {
    grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc_->Wait();
    grpc_.reset();
  }
  http_.Stop();
}

}  // namespace signaldb::acceptor
