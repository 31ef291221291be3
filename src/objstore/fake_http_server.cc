#include "objstore/fake_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "common/strings.h"

namespace signaldb::objstore {
namespace {

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::string RawRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

std::string RawRequest::Path() const { return target.substr(0, target.find('?')); }

std::string RawRequest::Query() const {
  size_t q = target.find('?');
  return q == std::string::npos ? "" : target.substr(q + 1);
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();  // a test helper: no way to go on without a socket
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeHttpServer::~FakeHttpServer() {
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  {
    std::lock_guard lock(mu_);
    for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& t : threads_) t.join();
  for (int fd : connections_) ::close(fd);
}

std::vector<RawRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void FakeHttpServer::AcceptLoop() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    std::lock_guard lock(mu_);
    connections_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeHttpServer::Serve(int fd) {
  std::string buffer;
  char chunk[1 << 16];
  auto fill = [&]() {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  };
  while (true) {
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return;
    }
    RawRequest request;
    std::string_view head(buffer.data(), end);
    size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.rfind(' ');
    request.method = std::string(request_line.substr(0, sp1));
    request.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    size_t content_length = 0;
    while (line_end != std::string_view::npos) {
      head.remove_prefix(line_end + 2);
      line_end = head.find("\r\n");
      std::string_view line = head.substr(0, line_end);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name = ToLower(line.substr(0, colon));
      std::string value(Trim(line.substr(colon + 1)));
      if (name == "content-length") ParseInt(value, &content_length);
      request.headers.emplace_back(std::move(name), std::move(value));
    }
    buffer.erase(0, end + 4);
    if (ToLower(request.Header("expect")) == "100-continue" &&
        !SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
      return;
    }
    while (buffer.size() < content_length) {
      if (!fill()) return;
    }
    request.body = buffer.substr(0, content_length);
    buffer.erase(0, content_length);

    RawResponse response;
    {
      std::lock_guard lock(handler_mu_);
      response = handler_(request);
    }
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    if (response.drop_connection) {
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    std::string out = StrCat("HTTP/1.1 ", response.status,
                             " Status\r\nContent-Length: ", response.body.size(), "\r\n");
    for (const auto& [name, value] : response.headers) out = StrCat(out, name, ": ", value, "\r\n");
    out += "\r\n";
    if (request.method != "HEAD") out += response.body;
    if (!SendAll(fd, out)) return;
  }
}

}  // namespace signaldb::objstore
