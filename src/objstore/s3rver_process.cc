#include "objstore/s3rver_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/strings.h"

namespace signaldb::objstore {
namespace {

constexpr char kSetupHint[] = "run scripts/setup.sh (or make setup) to install it";
constexpr auto kStartDeadline = std::chrono::seconds(60);
constexpr auto kStopDeadline = std::chrono::seconds(10);

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
    std::string candidate = StrCat(dir.empty() ? "." : dir, "/", program);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Waits up to `deadline` for the child to exit; true when it did.
bool Reap(pid_t pid, std::chrono::steady_clock::duration deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<S3rverProcess>> S3rverProcess::Start(
    const std::vector<std::string>& buckets) {
  std::string node = FindOnPath("node");
  if (node.empty()) {
    return absl::FailedPreconditionError(StrCat("node (Node.js) is not on PATH; ", kSetupHint));
  }
  std::string module_dir = StrCat(SIGNALDB_SOURCE_DIR, "/deps/node_modules/s3rver");
  if (!std::filesystem::exists(module_dir + "/package.json")) {
    return absl::FailedPreconditionError(
        StrCat("s3rver is not installed in ", module_dir, "; ", kSetupHint));
  }
  std::string script = StrCat(SIGNALDB_SOURCE_DIR, "/src/objstore/testdata/s3rver_main.js");

  auto server = std::unique_ptr<S3rverProcess>(new S3rverProcess());
  std::string tmpl = (std::filesystem::temp_directory_path() / "s3rver-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  server->data_dir_ = tmpl;

  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which
  // OpenSSL 3 only offers through its legacy provider.
  std::vector<std::string> args = {node, "--openssl-legacy-provider", script, module_dir,
                                   server->data_dir_};
  args.insert(args.end(), buckets.begin(), buckets.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    return absl::InternalError("pipe failed");
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Dies with the test process even when that one is killed.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (pid < 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    return absl::InternalError("fork failed");
  }
  server->pid_ = pid;
  server->stdin_fd_ = in_pipe[1];

  // Wait for "PORT <n>\n" on its stdout.
  std::string out;
  auto until = std::chrono::steady_clock::now() + kStartDeadline;
  int out_fd = out_pipe[0];
  while (out.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::close(out_fd);
      return absl::DeadlineExceededError("s3rver did not start listening within 60 s");
    }
    pollfd p{out_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(out_fd, buf, sizeof(buf));
    if (n <= 0) {
      ::close(out_fd);
      return absl::FailedPreconditionError(
          StrCat("s3rver exited before listening (see its error above); ", kSetupHint));
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(out_fd);
  std::string_view line = Trim(std::string_view(out).substr(0, out.find('\n')));
  if (!StartsWith(line, "PORT ") || !ParseInt(line.substr(5), &server->port_)) {
    return absl::InternalError(StrCat("unexpected s3rver output: ", line));
  }
  return server;
}

S3rverProcess::~S3rverProcess() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);  // the script exits on stdin EOF
  if (pid_ > 0 && !Reap(pid_, kStopDeadline)) {
    ::kill(pid_, SIGKILL);
    Reap(pid_, kStopDeadline);
  }
  if (!data_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

std::string S3rverProcess::endpoint() const { return StrCat("http://127.0.0.1:", port_); }

}  // namespace signaldb::objstore
