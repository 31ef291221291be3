// Shared by the end-to-end benchmarks: starts the real signaldb binary on a
// data directory with free loopback ports, samples its CPU and RSS, and waits
// for its buffers to drain into Parquet.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <httplib.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loadgen/sender.h"

extern char** environ;

namespace signaldb::bench {

inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct ProcSample {
  double cpu_seconds = 0;
  uint64_t peak_rss_kb = 0;
};

inline ProcSample Sample(pid_t pid) {
  ProcSample s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(text.substr(close + 2));
    std::string f;
    std::vector<std::string> fields;
    while (in >> f) fields.push_back(f);
    if (fields.size() > 13) {
      s.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) s.peak_rss_kb = std::stoull(line.substr(6));
  }
  return s;
}

class ServerProcess {
 public:
  // `extra_env` adds configuration (SIGNALDB_* variables); it overrides the
  // defaults below (the first of two equal names wins).
  ServerProcess(const std::string& binary, const std::string& dir, const std::vector<std::string>& extra_env = {})
      : dir_(dir) {
    grpc_port_ = FreePort();
    http_port_ = FreePort();
    api_port_ = FreePort();
    std::vector<std::string> env = {
        "SIGNALDB_DATA_DIR=" + dir,
        "SIGNALDB_ACCEPTOR__GRPC_ADDR=127.0.0.1:" + std::to_string(grpc_port_),
        "SIGNALDB_ACCEPTOR__HTTP_ADDR=127.0.0.1:" + std::to_string(http_port_),
        "SIGNALDB_ROUTER__HTTP_ADDR=127.0.0.1:" + std::to_string(api_port_),
        "SIGNALDB_LOG__LEVEL=warn",
        // A smaller buffer makes the maximum-rate run settle on what storage
        // sustains instead of what memory absorbs for a few seconds.
        "SIGNALDB_WRITER__MAX_BUFFER_BYTES=256MiB",
        "PATH=/usr/bin:/bin",
    };
    env.insert(env.begin(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string log = dir + "/signaldb.log";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::string bin = binary;
    char* argv[] = {bin.data(), nullptr};
    if (posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv, envp.data()) != 0) {
      std::fprintf(stderr, "cannot start %s\n", bin.c_str());
      std::exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    httplib::Client c("127.0.0.1", api_port_);
    for (int i = 0; i < 600; ++i) {
      auto r = c.Get("/health");
      if (r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::fprintf(stderr, "signaldb did not become healthy; see %s\n", log.c_str());
    std::exit(1);
  }
  ~ServerProcess() {
    ::kill(pid_, SIGTERM);
    int st;
    ::waitpid(pid_, &st, 0);
  }
  pid_t pid() const { return pid_; }
  // Waits (up to a minute) until every buffered row is in Parquet, so one run
  // does not start with the previous run's backlog.
  void WaitDrained() const {
    httplib::Client c("127.0.0.1", api_port_);
    for (int i = 0; i < 600; ++i) {
      auto r = c.Get("/health");
      if (r && r->status == 200 && r->body.find("\"buffered_rows\":") != std::string::npos) {
        bool drained = true;
        for (size_t pos = r->body.find("\"buffered_rows\":"); pos != std::string::npos;
             pos = r->body.find("\"buffered_rows\":", pos + 1)) {
          if (r->body.compare(pos + 16, 2, "0,") != 0 && r->body.compare(pos + 16, 2, "0}") != 0) drained = false;
        }
        if (drained) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  // The router's port: Tempo API (/tempo/...), SQL API and /health.
  int api_port() const { return api_port_; }
  std::string target(loadgen::Transport t) const {
    return "127.0.0.1:" + std::to_string(t == loadgen::Transport::kGrpc ? grpc_port_ : http_port_);
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int grpc_port_, http_port_, api_port_;
};

}  // namespace signaldb::bench
