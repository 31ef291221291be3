#include "objstore/s3_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "common/fs.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "objstore/s3_xml.h"

namespace signaldb::objstore {
namespace {

constexpr size_t kMaxPooledHandles = 8;
constexpr size_t kMaxErrorBody = 64 << 10;
constexpr auto kMaxBackoff = std::chrono::milliseconds(20000);

struct CurlEasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

absl::Status InitCurlOnce() {
  // A function-local static runs curl_global_init exactly once, thread-safely.
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    return absl::InternalError(StrCat("curl_global_init: ", curl_easy_strerror(rc)));
  }
  return absl::OkStatus();
}

std::string EnvOr(const char* name, std::string_view fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : std::string(fallback);
}

bool IsRetryableCurl(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool IsRetryableHttp(long status) { return status >= 500 || status == 429; }

// The state of one attempt, shared with curl's callbacks.
struct Transfer {
  CURL* curl = nullptr;
  const S3Request* request = nullptr;
  S3Response response;
  uint64_t body_pos = 0;
  absl::Status local_error;  // a failed local read or write aborts the transfer
};

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  bool success = status >= 200 && status < 300;
  if (success && t->request->response_file != nullptr) {
    t->local_error = t->request->response_file->Append(std::string_view(data, n));
    return t->local_error.ok() ? n : 0;
  }
  // Error documents are small; keep only their start.
  if (!success && t->response.body.size() >= kMaxErrorBody) return n;
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos && ToLower(Trim(line.substr(0, colon))) == "etag") {
    t->response.etag = std::string(Trim(line.substr(colon + 1)));
  }
  return n;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const S3Request& r = *t->request;
  uint64_t total = r.body_fd >= 0 ? r.body_length : r.body.size();
  size_t want = static_cast<size_t>(std::min<uint64_t>(size * count, total - t->body_pos));
  if (want == 0) return 0;
  if (r.body_fd < 0) {
    std::memcpy(buffer, r.body.data() + t->body_pos, want);
    t->body_pos += want;
    return want;
  }
  ssize_t got;
  do {
    got = ::pread(r.body_fd, buffer, want, static_cast<off_t>(r.body_offset + t->body_pos));
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {
    t->local_error = got < 0 ? ErrnoStatus(errno, "read upload body")
                             : absl::FailedPreconditionError("upload source file shrank");
    return CURL_READFUNC_ABORT;
  }
  t->body_pos += static_cast<uint64_t>(got);
  return static_cast<size_t>(got);
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  t->body_pos = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

}  // namespace

struct S3Client::Handle {
  std::unique_ptr<CURL, CurlEasyDeleter> curl;
};

absl::Status S3HttpError(long http_status, std::string_view body, std::string_view what) {
  std::optional<S3ErrorBody> error = ParseS3Error(body);
  std::string message = StrCat(what, ": HTTP ", http_status);
  if (error && !error->code.empty()) message = StrCat(message, " ", error->code);
  if (error && !error->message.empty()) message = StrCat(message, ": ", error->message);
  if (error && error->code == "NoSuchBucket") return absl::FailedPreconditionError(message);
  switch (http_status) {
    case 400:
      return absl::InvalidArgumentError(message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    case 409:
      return absl::AbortedError(message);
    case 412:
      return absl::FailedPreconditionError(message);
    case 416:
      return absl::OutOfRangeError(message);
    case 501:
      return absl::UnimplementedError(message);
    default:
      if (IsRetryableHttp(http_status)) return absl::UnavailableError(message);
      return absl::UnknownError(message);
  }
}

absl::StatusOr<std::unique_ptr<S3Client>> S3Client::Create(std::string bucket,
                                                           const S3Options& given) {
  RETURN_IF_ERROR(InitCurlOnce());
  S3Options options = given;
  if (options.region.empty()) {
    options.region = EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION", "us-east-1"));
  }
  if (options.endpoint.empty()) {
    options.endpoint =
        EnvOr("AWS_ENDPOINT_URL", StrCat("https://s3.", options.region, ".amazonaws.com"));
  }
  if (options.access_key_id.empty() && options.secret_access_key.empty()) {
    options.access_key_id = EnvOr("AWS_ACCESS_KEY_ID");
    options.secret_access_key = EnvOr("AWS_SECRET_ACCESS_KEY");
    if (options.session_token.empty()) options.session_token = EnvOr("AWS_SESSION_TOKEN");
  }
  if (options.access_key_id.empty() != options.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        "S3: set both the access key id and the secret access key, or neither");
  }
  if (options.part_size < (5ull << 20) || options.part_size > (5ull << 30)) {
    return absl::InvalidArgumentError("S3: part_size must be between 5 MiB and 5 GiB");
  }
  options.list_page_size = std::clamp(options.list_page_size, 1, 1000);
  options.max_retries = std::max(options.max_retries, 0);

  auto client = std::unique_ptr<S3Client>(new S3Client(std::move(bucket), std::move(options)));
  std::string_view endpoint = client->options_.endpoint;
  size_t sep = endpoint.find("://");
  client->scheme_ = sep == std::string_view::npos ? "https" : ToLower(endpoint.substr(0, sep));
  if (sep != std::string_view::npos) endpoint.remove_prefix(sep + 3);
  if (client->scheme_ != "http" && client->scheme_ != "https") {
    return absl::InvalidArgumentError(StrCat("S3 endpoint must be http(s)://: ", endpoint));
  }
  size_t slash = endpoint.find('/');
  client->authority_ = std::string(endpoint.substr(0, slash));
  if (slash != std::string_view::npos) client->base_path_ = std::string(endpoint.substr(slash));
  while (!client->base_path_.empty() && client->base_path_.back() == '/') {
    client->base_path_.pop_back();
  }
  if (client->authority_.empty()) {
    return absl::InvalidArgumentError(StrCat("S3 endpoint has no host: ", given.endpoint));
  }
  return client;
}

S3Client::S3Client(std::string bucket, S3Options options)
    : bucket_(std::move(bucket)), options_(std::move(options)) {}

S3Client::~S3Client() = default;

std::string S3Client::Url(const S3Request& request) const {
  std::string url;
  if (options_.path_style) {
    url = StrCat(scheme_, "://", authority_, base_path_, "/", PercentEncode(bucket_, false));
    if (!request.key.empty()) url = StrCat(url, "/", PercentEncode(request.key, true));
  } else {
    url = StrCat(scheme_, "://", bucket_, ".", authority_, base_path_, "/",
                 PercentEncode(request.key, true));
  }
  // SigV4 wants the canonical query sorted by encoded name, every parameter
  // with '='. libcurl 7.88 signs the query as given, so send it canonical.
  std::vector<std::string> params;
  for (const auto& [name, value] : request.query) {
    params.push_back(StrCat(PercentEncode(name, false), "=", PercentEncode(value, false)));
  }
  std::sort(params.begin(), params.end());
  if (!params.empty()) url = StrCat(url, "?", Join(params, "&"));
  return url;
}

std::unique_ptr<S3Client::Handle> S3Client::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  auto handle = std::make_unique<Handle>();
  handle->curl.reset(curl_easy_init());
  return handle;
}

void S3Client::Release(std::unique_ptr<Handle> handle) {
  curl_easy_reset(handle->curl.get());  // keeps the open connections
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxPooledHandles) idle_.push_back(std::move(handle));
}

std::chrono::milliseconds S3Client::Backoff(int retry) const {
  auto base = options_.initial_backoff;
  for (int i = 0; i < retry && base < kMaxBackoff; ++i) base *= 2;
  base = std::min(base, kMaxBackoff);
  // Jitter spreads the retries of many clients: a uniform pick in [base/2, base].
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> pick(base.count() / 2, base.count());
  return std::chrono::milliseconds(pick(rng));
}

absl::StatusOr<S3Response> S3Client::Send(const S3Request& request, std::string_view what) {
  std::unique_ptr<Handle> handle = Acquire();
  if (!handle->curl) return absl::ResourceExhaustedError("curl_easy_init failed");
  CURL* curl = handle->curl.get();
  const std::string url = Url(request);
  const std::string method = request.method;
  const bool has_body = method == "PUT" || method == "POST";
  const uint64_t body_size = request.body_fd >= 0 ? request.body_length : request.body.size();
  const std::string sigv4 = StrCat("aws:amz:", options_.region, ":s3");
  const long timeout_ms = static_cast<long>(options_.request_timeout.count());

  absl::Status last;
  int attempt = 0;
  for (;; ++attempt) {
    if (attempt > 0) {
      std::chrono::milliseconds delay = Backoff(attempt - 1);
      if (options_.sleep_for) {
        options_.sleep_for(delay);
      } else {
        std::this_thread::sleep_for(delay);
      }
      curl_easy_reset(curl);
      if (request.response_file != nullptr) RETURN_IF_ERROR(request.response_file->Reset());
    }
    Transfer t;
    t.curl = curl;
    t.request = &request;

    CurlSlist headers;
    auto add_header = [&headers](const std::string& line) {
      headers.reset(curl_slist_append(headers.release(), line.c_str()));
    };
    add_header(StrCat("x-amz-content-sha256: ", request.body_fd >= 0
                                                    ? std::string("UNSIGNED-PAYLOAD")
                                                    : Sha256Hex(request.body)));
    if (!request.content_type.empty()) add_header(StrCat("Content-Type: ", request.content_type));
    if (!options_.session_token.empty()) {
      add_header(StrCat("x-amz-security-token: ", options_.session_token));
    }
    if (!headers) return absl::ResourceExhaustedError("curl_slist_append failed");

    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    // request_timeout bounds a stall, not a whole (possibly huge) transfer.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, timeout_ms / 1000));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_FILETIME, 1L);
    if (!options_.access_key_id.empty()) {
      curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
      curl_easy_setopt(curl, CURLOPT_USERNAME, options_.access_key_id.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.secret_access_key.c_str());
    }
    if (method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
      curl_easy_setopt(curl, CURLOPT_READDATA, &t);
      curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, OnSeek);
      curl_easy_setopt(curl, CURLOPT_SEEKDATA, &t);
      if (method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
    } else if (method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    }

    CURLcode rc = curl_easy_perform(curl);
    if (!t.local_error.ok()) {
      Release(std::move(handle));
      return t.local_error;
    }
    bool retryable;
    if (rc != CURLE_OK) {
      std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
      std::string message = StrCat(what, ": ", detail);
      last = rc == CURLE_OPERATION_TIMEDOUT ? absl::DeadlineExceededError(message)
                                            : absl::UnavailableError(message);
      retryable = IsRetryableCurl(rc);
    } else {
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &t.response.http_status);
      long status = t.response.http_status;
      if (status >= 200 && status < 300) {
        curl_off_t length = -1;
        curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
        t.response.content_length = length > 0 ? static_cast<uint64_t>(length) : 0;
        curl_off_t filetime = -1;
        curl_easy_getinfo(curl, CURLINFO_FILETIME_T, &filetime);
        if (filetime >= 0) {
          t.response.last_modified =
              std::chrono::system_clock::from_time_t(static_cast<time_t>(filetime));
        }
        Release(std::move(handle));
        return std::move(t.response);
      }
      last = S3HttpError(status, t.response.body, what);
      retryable = IsRetryableHttp(status);
    }
    if (!retryable || attempt >= options_.max_retries) break;
  }
  Release(std::move(handle));
  if (attempt > 0) {
    return absl::Status(last.code(), StrCat(last.message(), " (gave up after ", attempt,
                                            attempt == 1 ? " retry)" : " retries)"));
  }
  return last;
}

}  // namespace signaldb::objstore
