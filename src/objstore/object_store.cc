// Open(): picks the implementation from the URI scheme. Also the key rules
// every store shares.
#include "objstore/object_store.h"

#include <openssl/evp.h>

#include <filesystem>

#include "common/hex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "objstore/internal.h"

namespace signaldb::objstore {

absl::Status ValidateKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("object key is empty");
  if (key.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("object key contains a NUL byte");
  }
  if (key.front() == '/') {
    return absl::InvalidArgumentError(StrCat("object key must be relative: ", key));
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          StrCat("object key has an empty, '.' or '..' segment: ", key));
    }
    start = end + 1;
  }
  return absl::OkStatus();
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

absl::StatusOr<std::unique_ptr<ObjectStore>> Open(const std::string& uri, const S3Options& s3) {
  std::string_view rest = uri;
  if (StartsWith(rest, "file://")) {
    rest.remove_prefix(7);
    if (rest.empty() || rest.front() != '/') {
      return absl::InvalidArgumentError(
          StrCat("file URIs need an absolute path (file:///dir): ", uri));
    }
  }
  if (!rest.empty() && rest.front() == '/') {
    std::string root = std::filesystem::path(rest).lexically_normal().string();
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    return OpenLocalStore(root, DefaultFileSystem());
  }
  if (StartsWith(rest, "memory://")) {
    std::string_view name = rest.substr(9);
    while (!name.empty() && name.back() == '/') name.remove_suffix(1);
    if (name.empty() || name.find('/') != std::string_view::npos) {
      return absl::InvalidArgumentError(StrCat("memory URIs look like memory://name: ", uri));
    }
    return OpenMemoryStore(std::string(name));
  }
  if (StartsWith(rest, "s3://")) {
    std::string_view path = rest.substr(5);
    size_t slash = path.find('/');
    std::string_view bucket = path.substr(0, slash);
    std::string_view prefix = slash == std::string_view::npos ? "" : path.substr(slash + 1);
    while (!prefix.empty() && prefix.front() == '/') prefix.remove_prefix(1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    if (bucket.empty()) {
      return absl::InvalidArgumentError(StrCat("s3 URIs look like s3://bucket[/prefix]: ", uri));
    }
    if (!prefix.empty()) RETURN_IF_ERROR(ValidateKey(prefix));
    return OpenS3Store(std::string(bucket), std::string(prefix), s3);
  }
  return absl::InvalidArgumentError(
      StrCat("unsupported object store URI (want file://, memory:// or s3://): ", uri));
}

absl::StatusOr<std::unique_ptr<ObjectStore>> OpenLocal(const std::string& root, FileSystem* fs) {
  return OpenLocalStore(root, fs);
}

}  // namespace signaldb::objstore
