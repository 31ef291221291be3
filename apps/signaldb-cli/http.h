// The HTTP side of signaldb-cli: requests as plain data, a client interface
// (cpp-httplib behind it in the binary, a fake in tests), and the mapping of
// answers to the exit codes of docs/admin-api.md.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace signaldb::cli {

// Exit codes scripts rely on (docs/admin-api.md, "signaldb-cli").
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,    // 5xx, unreadable answer, anything else
  kExitUsage = 2,      // bad command line, or the server said 400
  kExitAuth = 3,       // 401, 403
  kExitNotFound = 4,   // 404
  kExitConflict = 5,   // 409
  kExitConnect = 6,    // no connection to the server
  kExitRateLimit = 7,  // 429
};

// The exit code for an HTTP status: 0 for 2xx, else as listed above.
ExitCode ExitCodeForStatus(int http_status);

struct HttpRequest {
  std::string method;  // GET, POST, PUT, DELETE
  std::string target;  // path and query, percent-encoded, below the base URL's path
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;  // set when body is
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header of a 429, if any
};

// Sends one request. Failures to get any answer are errors: Unavailable
// when no connection could be made (exit 6), others Internal (exit 1).
// Thread-compatible: one request at a time.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

// --url split into parts. `path` is the prefix every request target goes
// under ("" or "/prefix", no trailing slash).
struct BaseUrl {
  std::string scheme;  // http or https
  std::string host;    // without brackets for IPv6
  int port = 0;
  std::string path;
};

// http://host[:port][/prefix] or https://...; default ports 80 and 443.
// InvalidArgument names what is wrong.
absl::StatusOr<BaseUrl> ParseBaseUrl(const std::string& url);

// A client for `base` over cpp-httplib. https needs cpp-httplib built with
// OpenSSL (Debian's is); without it, Create answers Unimplemented.
absl::StatusOr<std::unique_ptr<HttpClient>> CreateHttpClient(const BaseUrl& base);


// The message to print for a failed answer: the JSON body's "error" (with
// its "field" when named) or "message" (google.rpc.Status), else the body's
// first line, else `fallback`, else "HTTP <status>". A 429 adds how long to
// wait when the server said.
std::string ErrorMessage(const HttpResponse& response, const std::string& fallback = "");

}  // namespace signaldb::cli
