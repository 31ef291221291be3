#include "net/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common/strings.h"

namespace signaldb::net {

absl::StatusOr<HostPort> ParseHostPort(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError(StrCat("address '", addr, "' is not host:port"));
  HostPort hp;
  hp.host = addr.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') hp.host = hp.host.substr(1, hp.host.size() - 2);
  if (hp.host.empty()) hp.host = "0.0.0.0";
  if (!ParseInt(std::string_view(addr).substr(colon + 1), &hp.port) || hp.port < 0 || hp.port > 65535) {
    return absl::InvalidArgumentError(StrCat("address '", addr, "' has an invalid port"));
  }
  return hp;
}

namespace {
constexpr const char* kMovedEncoding = "X-SignalDB-Content-Encoding";
}  // namespace

std::string RequestContentEncoding(const httplib::Request& req) {
  if (req.has_header(kMovedEncoding)) return req.get_header_value(kMovedEncoding);
  return req.get_header_value("Content-Encoding");
}

void HttpServer::KeepBodiesCompressed() {
  server_.set_pre_routing_handler([](const httplib::Request& creq, httplib::Response&) {
    // Runs before httplib reads the body; the Request object itself is not
    // const (httplib owns it per connection), only this view of it is.
    auto& req = const_cast<httplib::Request&>(creq);
    auto it = req.headers.find("Content-Encoding");
    if (it != req.headers.end()) {
      std::string value = it->second;
      req.headers.erase(it);
      req.headers.emplace(kMovedEncoding, value);
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
}

HttpServer::HttpServer() {
  // httplib sets SO_REUSEPORT by default, which lets a second process bind the
  // same port silently; we want "address in use" to be an error.
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    // Accepted connections inherit it: without it, a response written in two
    // parts waits for the client's delayed ACK on keep-alive connections
    // (40 ms on Linux; measured on trace-by-id, 60 ms -> 20 ms p50).
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  });
  server_.set_payload_max_length(64ull << 20);
}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start(const std::string& addr) {
  auto hp = ParseHostPort(addr);
  if (!hp.ok()) return hp.status();
  host_ = hp->host;
  if (hp->port == 0) {
    port_ = server_.bind_to_any_port(host_);
  } else {
    port_ = server_.bind_to_port(host_, hp->port) ? hp->port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(StrCat("cannot listen on ", addr, ": address in use or not available"));
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

std::string HttpServer::bound_address() const {
  return host_.find(':') != std::string::npos ? StrCat("[", host_, "]:", port_) : StrCat(host_, ":", port_);
}

}  // namespace signaldb::net
