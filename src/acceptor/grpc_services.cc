#include "acceptor/grpc_services.h"

#include "common/strings.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace signaldb::acceptor {
namespace {

namespace tsvc = opentelemetry::proto::collector::trace::v1;
namespace lsvc = opentelemetry::proto::collector::logs::v1;
namespace msvc = opentelemetry::proto::collector::metrics::v1;

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Who a gRPC call says it is (metadata keys are lowercase; auth.h).
auth::Credentials GrpcCredentials(const grpc::CallbackServerContext& context) {
  return auth::CredentialsFrom([&](const char* key) {
    auto it = context.client_metadata().find(key);
    return it == context.client_metadata().end() ? std::string() : std::string(it->second.data(), it->second.size());
  });
}

// One raw-callback Export method: admission, then the write on the pool.
template <typename Base, typename Response>
class RawExport final : public Base {
 public:
  using PartialFn = void (*)(Response&, int64_t, const std::string&);
  RawExport(Ingestor* ingestor, ThreadPool* pool, Signal signal, PartialFn partial)
      : ingestor_(ingestor), pool_(pool), signal_(signal), partial_(partial) {}

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto tenant = ingestor_->Authenticate(GrpcCredentials(*context));
    if (!tenant.ok()) {
      reactor->Finish(ToGrpcStatus(tenant.status()));
      return reactor;
    }
    auto admission = ingestor_->Admit(request->Length());
    if (!admission.ok()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(admission.status().message())));
      return reactor;
    }
    auto held = std::make_shared<Admission>(std::move(*admission));
    auto payload = std::make_shared<std::string>(Flatten(*request));
    // The client's deadline, if it set one, on our clock; a margin for the
    // answer to reach it.
    auto deadline = std::chrono::steady_clock::time_point::max();
    const auto left = context->deadline() - std::chrono::system_clock::now();  // huge without a deadline
    if (left < std::chrono::hours(24)) deadline = std::chrono::steady_clock::now() + left - std::chrono::milliseconds(50);
    pool_->Submit([this, reactor, response, payload, held, ctx = *tenant, deadline] {
      auto result = ingestor_->Export(ctx, signal_, *payload, deadline);
      if (!result.ok()) {
        if (result.status().code() != absl::StatusCode::kInvalidArgument) {
          spdlog::warn("{} export failed: {}", SignalName(signal_), result.status().ToString());
        }
        reactor->Finish(ToGrpcStatus(result.status()));
        return;
      }
      Response resp;
      // Truncation alone is a warning: partialSuccess with 0 rejected.
      if (result->rejected > 0 || !result->message.empty()) {
        partial_(resp, static_cast<int64_t>(result->rejected), result->message);
      }
      std::string bytes = resp.SerializeAsString();
      grpc::Slice slice(bytes);
      *response = grpc::ByteBuffer(&slice, 1);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

 private:
  Ingestor* ingestor_;
  ThreadPool* pool_;
  Signal signal_;
  PartialFn partial_;
};

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  std::string msg(status.message());
  if (status.GetPayload(kRateLimitPayload).has_value()) return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, msg);
  switch (status.code()) {
    case absl::StatusCode::kOk: return grpc::Status::OK;
    case absl::StatusCode::kInvalidArgument: return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, msg);
    case absl::StatusCode::kOutOfRange: return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, msg);
    case absl::StatusCode::kUnauthenticated: return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, msg);
    case absl::StatusCode::kPermissionDenied: return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, msg);
    case absl::StatusCode::kNotFound: return grpc::Status(grpc::StatusCode::NOT_FOUND, msg);
    // Overload and storage trouble are transient: UNAVAILABLE is what OTLP
    // exporters retry (RESOURCE_EXHAUSTED only with RetryInfo attached).
    default: return grpc::Status(grpc::StatusCode::UNAVAILABLE, msg);
  }
}

std::vector<std::unique_ptr<grpc::Service>> MakeOtlpServices(Ingestor* ingestor, ThreadPool* pool) {
  std::vector<std::unique_ptr<grpc::Service>> out;
  out.push_back(std::make_unique<RawExport<tsvc::TraceService::WithRawCallbackMethod_Export<tsvc::TraceService::Service>,
                                           tsvc::ExportTraceServiceResponse>>(
      ingestor, pool, Signal::kTraces, [](tsvc::ExportTraceServiceResponse& r, int64_t n, const std::string& m) {
        r.mutable_partial_success()->set_rejected_spans(n);
        r.mutable_partial_success()->set_error_message(m);
      }));
  out.push_back(std::make_unique<RawExport<lsvc::LogsService::WithRawCallbackMethod_Export<lsvc::LogsService::Service>,
                                           lsvc::ExportLogsServiceResponse>>(
      ingestor, pool, Signal::kLogs, [](lsvc::ExportLogsServiceResponse& r, int64_t n, const std::string& m) {
        r.mutable_partial_success()->set_rejected_log_records(n);
        r.mutable_partial_success()->set_error_message(m);
      }));
  out.push_back(std::make_unique<
                RawExport<msvc::MetricsService::WithRawCallbackMethod_Export<msvc::MetricsService::Service>,
                          msvc::ExportMetricsServiceResponse>>(
      ingestor, pool, Signal::kMetrics, [](msvc::ExportMetricsServiceResponse& r, int64_t n, const std::string& m) {
        r.mutable_partial_success()->set_rejected_data_points(n);
        r.mutable_partial_success()->set_error_message(m);
      }));
  return out;
}

}  // namespace signaldb::acceptor
