#include "acceptor/acceptor.h"

#include <chrono>

#include "acceptor/grpc_services.h"
#include "acceptor/otlp_http.h"
#include "common/strings.h"
#include "health/health.h"

namespace signaldb::acceptor {

absl::StatusOr<std::unique_ptr<Acceptor>> Acceptor::Start(const AcceptorOptions& options, writer::Writer* writer,
                                                          querier::Querier* querier) {
  auto a = std::unique_ptr<Acceptor>(new Acceptor());
  a->ingestor_ = std::make_unique<Ingestor>(writer, options.limits, options.auth, options.rates, options.limits_of);
  a->pool_ = std::make_unique<ThreadPool>(options.workers);
  a->services_ = MakeOtlpServices(a->ingestor_.get(), a->pool_.get());

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(options.grpc_addr, grpc::InsecureServerCredentials(), &selected_port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<uint64_t>(options.limits.max_message_bytes, INT32_MAX)));
  // gRPC sets SO_REUSEPORT by default; a port already in use must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (auto& s : a->services_) builder.RegisterService(s.get());
  a->grpc_ = builder.BuildAndStart();
  if (!a->grpc_ || selected_port == 0) {
    return absl::UnavailableError(StrCat("cannot listen on ", options.grpc_addr, " (gRPC): address in use or not available"));
  }
  auto colon = options.grpc_addr.rfind(':');
  a->grpc_address_ = StrCat(options.grpc_addr.substr(0, colon), ":", selected_port);

  a->http_.KeepBodiesCompressed();
  auto& routes = a->http_.routes();
  // Bodies up to twice the limit reach the handlers, which answer "too large"
  // with a google.rpc.Status body; only larger ones get httplib's bare 413.
  routes.set_payload_max_length(2 * options.limits.max_message_bytes);
  routes.new_task_queue = [n = options.workers] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
  RegisterOtlpHttp(routes, a->ingestor_.get());
  RegisterRemoteWrite(routes, a->ingestor_.get());
  std::string storage_dir = options.storage_dir;
  routes.Get("/health", [=](const httplib::Request&, httplib::Response& res) {
    auto report = health::Check(writer, querier, storage_dir, /*per_dataset=*/options.auth == nullptr);
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
  pool_.reset();  // finishes queued writes
}

}  // namespace signaldb::acceptor
