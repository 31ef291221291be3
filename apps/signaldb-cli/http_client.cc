// HttpClient over cpp-httplib. Kept apart from http.cc so that the pure
// helpers there do not pull the socket code into their tests' reasoning.
#include <httplib.h>

#include "http.h"

namespace signaldb::cli {
namespace {

// A query can take the server's whole query.timeout; give it room. A
// connection that cannot even be opened is reported quickly.
constexpr int kConnectTimeoutSeconds = 10;
constexpr int kReadTimeoutSeconds = 600;
constexpr int kWriteTimeoutSeconds = 60;

class HttplibClient : public HttpClient {
 public:
  HttplibClient(std::unique_ptr<httplib::Client> client, std::string prefix, std::string display)
      : client_(std::move(client)), prefix_(std::move(prefix)), display_(std::move(display)) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    httplib::Request req;
    req.method = request.method;
    req.path = prefix_ + request.target;
    for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
    if (!request.content_type.empty()) req.headers.emplace("Content-Type", request.content_type);
    req.body = request.body;
    httplib::Result result = client_->send(req);
    if (!result) {
      httplib::Error error = result.error();
      switch (error) {
        case httplib::Error::Connection:
          return absl::UnavailableError("cannot connect to " + display_ +
                                        " (refused, unreachable or unknown host)");
        case httplib::Error::ConnectionTimeout:
          return absl::UnavailableError("cannot connect to " + display_ + " (timed out)");
        case httplib::Error::BindIPAddress:
          return absl::UnavailableError("cannot connect to " + display_ +
                                        " (no local address to bind)");
        case httplib::Error::SSLConnection:
          return absl::UnavailableError("cannot connect to " + display_ +
                                        " (TLS handshake failed)");
        case httplib::Error::SSLServerVerification:
          return absl::UnavailableError("cannot connect to " + display_ +
                                        " (server certificate not trusted)");
        case httplib::Error::Read:
          return absl::InternalError("no complete answer from " + display_ +
                                     " (connection closed or read timed out)");
        default:
          return absl::InternalError("request to " + display_ +
                                     " failed: " + httplib::to_string(error));
      }
    }
    HttpResponse out;
    out.status = result->status;
    out.body = std::move(result->body);
    out.retry_after = result->get_header_value("Retry-After");
    return out;
  }

 private:
  std::unique_ptr<httplib::Client> client_;
  std::string prefix_;
  std::string display_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpClient>> CreateHttpClient(const BaseUrl& base) {
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
  if (base.scheme == "https") {
    return absl::UnimplementedError(
        "https is not supported by this build (cpp-httplib without OpenSSL); use http://");
  }
#endif
  std::string host = base.host.find(':') == std::string::npos ? base.host : "[" + base.host + "]";
  std::string origin = base.scheme + "://" + host + ":" + std::to_string(base.port);
  auto client = std::make_unique<httplib::Client>(origin);
  if (!client->is_valid()) return absl::InvalidArgumentError("cannot use URL " + origin);
  client->set_url_encode(false);  // targets arrive percent-encoded
  client->set_connection_timeout(kConnectTimeoutSeconds);
  client->set_read_timeout(kReadTimeoutSeconds);
  client->set_write_timeout(kWriteTimeoutSeconds);
  return std::unique_ptr<HttpClient>(
      std::make_unique<HttplibClient>(std::move(client), base.path, origin + base.path));
}

}  // namespace signaldb::cli
