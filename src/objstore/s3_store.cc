// s3:// store: object `key` of s3://bucket/prefix is the S3 object
// "prefix/key". PutFile above multipart_threshold uploads in parts
// (CreateMultipartUpload, UploadPart x N, CompleteMultipartUpload) and aborts
// the upload when any step fails, so no invisible parts are left billed.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "objstore/internal.h"
#include "objstore/s3_client.h"
#include "objstore/s3_xml.h"

namespace signaldb::objstore {
namespace {

constexpr uint64_t kMaxParts = 10000;  // S3's limit per upload

// Closes a file descriptor on scope exit.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class S3Store final : public ObjectStore {
 public:
  S3Store(std::string bucket, std::string prefix, std::unique_ptr<S3Client> client)
      : base_(StrCat("s3://", bucket, "/")),
        prefix_(prefix.empty() ? "" : StrCat(prefix, "/")),
        client_(std::move(client)) {}

  std::string Uri(std::string_view key) const override { return StrCat(base_, prefix_, key); }

  std::optional<std::string> KeyOf(std::string_view uri) const override {
    std::string root = StrCat(base_, prefix_);
    if (!StartsWith(uri, root)) return std::nullopt;
    std::string_view key = uri.substr(root.size());
    if (!ValidateKey(key).ok()) return std::nullopt;
    return std::string(key);
  }

  absl::Status Put(std::string_view key, std::string_view data) override {
    RETURN_IF_ERROR(ValidateKey(key));
    S3Request request = ObjectRequest("PUT", key);
    request.content_type = "application/octet-stream";
    request.body = data;
    return client_->Send(request, What("PUT", key)).status();
  }

  absl::Status PutFile(std::string_view key, const std::string& local_path) override {
    RETURN_IF_ERROR(ValidateKey(key));
    ScopedFd fd(::open(local_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoStatus(errno, StrCat("open ", local_path));
    ASSIGN_OR_RETURN(uint64_t size, LocalFileSize(local_path));
    if (size > client_->options().multipart_threshold) return PutMultipart(key, fd.get(), size);
    S3Request request = ObjectRequest("PUT", key);
    request.content_type = "application/octet-stream";
    request.body_fd = fd.get();
    request.body_length = size;
    return client_->Send(request, What("PUT", key)).status();
  }

  absl::StatusOr<std::string> Get(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    ASSIGN_OR_RETURN(S3Response response,
                     client_->Send(ObjectRequest("GET", key), What("GET", key)));
    return std::move(response.body);
  }

  absl::Status GetToFile(std::string_view key, const std::string& local_path) override {
    RETURN_IF_ERROR(ValidateKey(key));
    ASSIGN_OR_RETURN(auto file, AtomicFile::Create(local_path));
    S3Request request = ObjectRequest("GET", key);
    request.response_file = file.get();
    RETURN_IF_ERROR(client_->Send(request, What("GET", key)).status());
    return file->Commit();
  }

  absl::Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    absl::Status st = client_->Send(ObjectRequest("DELETE", key), What("DELETE", key)).status();
    return absl::IsNotFound(st) ? absl::OkStatus() : st;
  }

  absl::StatusOr<std::optional<ObjectInfo>> Head(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    absl::StatusOr<S3Response> response =
        client_->Send(ObjectRequest("HEAD", key), What("HEAD", key));
    if (absl::IsNotFound(response.status())) return std::nullopt;
    RETURN_IF_ERROR(response.status());
    return ObjectInfo{std::string(key), response->content_length,
                      response->last_modified.value_or(std::chrono::system_clock::time_point())};
  }

  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::vector<ObjectInfo> out;
    std::string token;
    const std::string full_prefix = StrCat(prefix_, prefix);
    do {
      S3Request request;
      request.query = {{"list-type", "2"},
                       {"max-keys", std::to_string(client_->options().list_page_size)},
                       {"prefix", full_prefix}};
      if (!token.empty()) request.query.emplace_back("continuation-token", token);
      ASSIGN_OR_RETURN(S3Response response,
                       client_->Send(request, StrCat("LIST ", base_, full_prefix)));
      ASSIGN_OR_RETURN(ListPage page, ParseListObjectsV2(response.body));
      for (ObjectInfo& info : page.objects) {
        if (!StartsWith(info.key, full_prefix)) continue;
        info.key.erase(0, prefix_.size());
        out.push_back(std::move(info));
      }
      token = page.truncated ? page.next_continuation_token : "";
    } while (!token.empty());
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  std::optional<std::string> LocalPath(std::string_view) const override { return std::nullopt; }

 private:
  S3Request ObjectRequest(const char* method, std::string_view key) const {
    S3Request request;
    request.method = method;
    request.key = StrCat(prefix_, key);
    return request;
  }

  std::string What(std::string_view verb, std::string_view key) const {
    return StrCat(verb, " ", Uri(key));
  }

  absl::Status PutMultipart(std::string_view key, int fd, uint64_t size) {
    S3Request create = ObjectRequest("POST", key);
    create.query = {{"uploads", ""}};
    create.content_type = "application/octet-stream";
    ASSIGN_OR_RETURN(S3Response created, client_->Send(create, What("CreateMultipartUpload", key)));
    ASSIGN_OR_RETURN(std::string upload_id, ParseUploadId(created.body));

    absl::Status st = UploadParts(key, fd, size, upload_id);
    if (st.ok()) return st;
    S3Request abort = ObjectRequest("DELETE", key);
    abort.query = {{"uploadId", upload_id}};
    absl::Status aborted = client_->Send(abort, What("AbortMultipartUpload", key)).status();
    if (!aborted.ok() && !absl::IsNotFound(aborted)) {
      return absl::Status(st.code(),
                          StrCat(st.message(), "; abort failed too: ", aborted.message()));
    }
    return st;
  }

  absl::Status UploadParts(std::string_view key, int fd, uint64_t size,
                           const std::string& upload_id) {
    uint64_t part_size = std::max(client_->options().part_size, (size + kMaxParts - 1) / kMaxParts);
    std::vector<std::string> etags;
    for (uint64_t offset = 0; offset < size; offset += part_size) {
      S3Request part = ObjectRequest("PUT", key);
      part.query = {{"partNumber", std::to_string(etags.size() + 1)}, {"uploadId", upload_id}};
      part.content_type = "application/octet-stream";
      part.body_fd = fd;
      part.body_offset = offset;
      part.body_length = std::min(part_size, size - offset);
      ASSIGN_OR_RETURN(S3Response uploaded, client_->Send(part, What("UploadPart", key)));
      if (uploaded.etag.empty()) {
        return absl::InternalError(StrCat("UploadPart ", Uri(key), ": answer has no ETag"));
      }
      etags.push_back(std::move(uploaded.etag));
    }
    std::string body = CompleteMultipartBody(etags);
    S3Request complete = ObjectRequest("POST", key);
    complete.query = {{"uploadId", upload_id}};
    complete.content_type = "application/xml";
    complete.body = body;
    ASSIGN_OR_RETURN(S3Response done,
                     client_->Send(complete, What("CompleteMultipartUpload", key)));
    // S3 can answer 200 and still fail the completion, with an <Error> body.
    if (std::optional<S3ErrorBody> error = ParseS3Error(done.body)) {
      return absl::UnavailableError(
          StrCat("CompleteMultipartUpload ", Uri(key), ": ", error->code, ": ", error->message));
    }
    return absl::OkStatus();
  }

  const std::string base_;    // s3://bucket/
  const std::string prefix_;  // "" or "prefix/"
  const std::unique_ptr<S3Client> client_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ObjectStore>> OpenS3Store(const std::string& bucket,
                                                         const std::string& prefix,
                                                         const S3Options& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<S3Client> client, S3Client::Create(bucket, options));
  return std::make_unique<S3Store>(bucket, prefix, std::move(client));
}

}  // namespace signaldb::objstore
