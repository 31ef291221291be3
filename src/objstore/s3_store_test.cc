// S3-specific behaviour: errors from a real s3rver, and, against a scripted
// FakeHttpServer, retries with backoff, the multipart protocol, environment
// fallbacks and SigV4 signatures checked by an independent implementation.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include "common/hex.h"
#include "common/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/fake_http_server.h"
#include "objstore/object_store.h"
#include "objstore/test_util.h"

namespace signaldb::objstore::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKeyId[] = "AKIDEXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// ---- An independent SigV4 check (AWS "Authenticating Requests: AWS
// Signature Version 4"), written from the specification, not from libcurl.

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<char*>(digest), length));
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<char*>(out), length);
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string SpecEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string Field(std::string_view auth, std::string_view name) {
  size_t at = auth.find(StrCat(name, "="));
  if (at == std::string_view::npos) return "";
  auth.remove_prefix(at + name.size() + 1);
  return std::string(auth.substr(0, auth.find(',')));
}

// "" when the request's signature is right for `secret`; else what is wrong.
std::string CheckSigV4(const RawRequest& r, std::string_view secret) {
  std::string auth = r.Header("authorization");
  if (!StartsWith(auth, "AWS4-HMAC-SHA256 ")) return "not a SigV4 Authorization header";
  std::string credential = Field(auth, "Credential");
  std::string signed_headers = Field(auth, "SignedHeaders");
  std::string signature = Field(auth, "Signature");
  std::string scope = credential.substr(credential.find('/') + 1);
  std::string date = scope.substr(0, scope.find('/'));
  std::string region =
      scope.substr(date.size() + 1, scope.find('/', date.size() + 1) - date.size() - 1);

  std::vector<std::string> params;
  std::string query = r.Query();
  for (size_t start = 0; !query.empty() && start <= query.size();) {
    size_t end = std::min(query.find('&', start), query.size());
    std::string_view pair = std::string_view(query).substr(start, end - start);
    size_t eq = pair.find('=');
    std::string name = PercentDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    params.push_back(SpecEncode(name) + "=" + SpecEncode(value));
    start = end + 1;
  }
  std::sort(params.begin(), params.end());

  std::string canonical_headers;
  std::vector<std::string> names;
  for (size_t start = 0; start <= signed_headers.size();) {
    size_t end = std::min(signed_headers.find(';', start), signed_headers.size());
    names.push_back(signed_headers.substr(start, end - start));
    start = end + 1;
  }
  for (const std::string& name : names) {
    canonical_headers += name + ":" + std::string(Trim(r.Header(name))) + "\n";
  }
  for (const char* required : {"host", "x-amz-date", "x-amz-content-sha256"}) {
    if (std::find(names.begin(), names.end(), required) == names.end()) {
      return StrCat(required, " is not signed");
    }
  }
  std::string payload = r.Header("x-amz-content-sha256");
  if (payload != "UNSIGNED-PAYLOAD" && payload != Sha256Hex(r.body)) {
    return "x-amz-content-sha256 is not the body's hash";
  }
  std::string canonical = StrCat(r.method, "\n", r.Path(), "\n", Join(params, "&"), "\n",
                                 canonical_headers, "\n", signed_headers, "\n", payload);
  std::string to_sign =
      StrCat("AWS4-HMAC-SHA256\n", r.Header("x-amz-date"), "\n", scope, "\n", Sha256Hex(canonical));
  std::string key = Hmac(StrCat("AWS4", secret), date);
  key = Hmac(key, region);
  key = Hmac(key, "s3");
  key = Hmac(key, "aws4_request");
  std::string expected = HexEncode(Hmac(key, to_sign));
  if (expected != signature) return StrCat("signature mismatch; canonical request:\n", canonical);
  return "";
}

S3Options FakeOptions(const FakeHttpServer& server) {
  S3Options options;
  options.endpoint = server.endpoint();
  options.path_style = true;
  options.access_key_id = kKeyId;
  options.secret_access_key = kSecret;
  options.region = "eu-west-3";
  options.initial_backoff = std::chrono::milliseconds(100);
  options.max_retries = 3;
  return options;
}

std::unique_ptr<ObjectStore> OpenOrDie(const std::string& uri, const S3Options& options) {
  auto store = Open(uri, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

RawResponse ErrorXml(int status, std::string_view code, std::string_view message) {
  RawResponse r;
  r.status = status;
  r.body = StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>", code,
                  "</Code><Message>", message, "</Message></Error>");
  return r;
}

// ---- Against s3rver.

TEST(S3StoreTest, UnknownAccessKeyIsPermissionDenied) {
  auto server = SharedS3rver();
  ASSERT_TRUE(server.ok()) << server.status();
  // s3rver checks the access key id but does not verify V4 signatures, so a
  // wrong secret alone goes unnoticed there; SignsRequestsWithSigV4 below
  // checks the signatures themselves.
  S3Options options = S3rverOptions(**server);
  options.access_key_id = "NOT-A-KEY";
  options.secret_access_key = "very-secret-value";
  auto store = OpenOrDie(std::string("s3://") + kBucket + "/denied", options);
  absl::Status st = store->Put("x", "data");
  EXPECT_TRUE(absl::IsPermissionDenied(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("InvalidAccessKeyId"));
  EXPECT_THAT(st.message(), HasSubstr("HTTP 403"));
  EXPECT_THAT(st.message(), Not(HasSubstr("very-secret-value")));
  EXPECT_TRUE(absl::IsPermissionDenied(store->Get("x").status()));
  EXPECT_TRUE(absl::IsPermissionDenied(store->List("").status()));
}

TEST(S3StoreTest, MissingBucketIsFailedPrecondition) {
  auto server = SharedS3rver();
  ASSERT_TRUE(server.ok()) << server.status();
  auto store = OpenOrDie("s3://no-such-bucket/p", S3rverOptions(**server));
  for (absl::Status st : {store->Put("x", "v"), store->Get("x").status(), store->List("").status(),
                          store->Delete("x")}) {
    EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
    EXPECT_THAT(st.message(), HasSubstr("NoSuchBucket"));
  }
}

TEST(S3StoreTest, ConnectionRefusedIsUnavailableAfterRetries) {
  int port;
  {
    FakeHttpServer gone([](const RawRequest&) { return RawResponse{}; });
    port = gone.port();
  }
  S3Options options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(port);
  options.path_style = true;
  options.access_key_id = kKeyId;
  options.secret_access_key = kSecret;
  options.max_retries = 2;
  std::vector<std::chrono::milliseconds> sleeps;
  options.sleep_for = [&](std::chrono::milliseconds d) { sleeps.push_back(d); };
  auto store = OpenOrDie("s3://b", options);
  absl::Status st = store->Put("x", "v");
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("gave up after 2 retries"));
  EXPECT_EQ(sleeps.size(), 2u);
}

// ---- Against a scripted server.

TEST(S3StoreTest, RetriesServerErrorsWithExponentialBackoff) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const RawRequest&) {
    int n = calls++;
    // A drop on a fresh connection (libcurl itself retries one on a reused
    // connection, so it would not reach our retry loop).
    if (n == 0) return RawResponse{.drop_connection = true};
    if (n == 1) return ErrorXml(503, "SlowDown", "Please reduce your request rate.");
    if (n == 2) return ErrorXml(429, "TooManyRequests", "Later.");
    RawResponse ok;
    ok.body = "payload";
    return ok;
  });
  S3Options options = FakeOptions(server);
  std::vector<std::chrono::milliseconds> sleeps;
  options.sleep_for = [&](std::chrono::milliseconds d) { sleeps.push_back(d); };
  auto store = OpenOrDie("s3://bucket/pre", options);
  auto got = store->Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "payload");
  EXPECT_EQ(calls.load(), 4);
  // Delays double from initial_backoff, each jittered into [d/2, d].
  ASSERT_EQ(sleeps.size(), 3u);
  for (size_t i = 0; i < sleeps.size(); ++i) {
    auto full = options.initial_backoff * (1 << i);
    EXPECT_GE(sleeps[i], full / 2) << i;
    EXPECT_LE(sleeps[i], full) << i;
  }
  for (const RawRequest& r : server.requests()) EXPECT_EQ(r.Path(), "/bucket/pre/k");
}

TEST(S3StoreTest, DoesNotRetryClientErrors) {
  FakeHttpServer server(
      [](const RawRequest&) { return ErrorXml(400, "InvalidArgument", "Bad thing."); });
  S3Options options = FakeOptions(server);
  int slept = 0;
  options.sleep_for = [&](std::chrono::milliseconds) { ++slept; };
  auto store = OpenOrDie("s3://bucket", options);
  absl::Status st = store->Put("k", "v");
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("HTTP 400 InvalidArgument: Bad thing."));
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(slept, 0);
}

TEST(S3StoreTest, GivesUpAfterMaxRetries) {
  FakeHttpServer server([](const RawRequest&) { return ErrorXml(500, "InternalError", "Oops."); });
  S3Options options = FakeOptions(server);
  options.sleep_for = [](std::chrono::milliseconds) {};
  auto store = OpenOrDie("s3://bucket", options);
  absl::Status st = store->Get("k").status();
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("InternalError"));
  EXPECT_EQ(server.requests().size(), 4u);  // 1 + max_retries
}

TEST(S3StoreTest, RetriedDownloadStartsTheFileOver) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const RawRequest&) {
    if (calls++ == 0) return ErrorXml(503, "SlowDown", "");
    RawResponse ok;
    ok.body = "whole object";
    return ok;
  });
  S3Options options = FakeOptions(server);
  options.sleep_for = [](std::chrono::milliseconds) {};
  auto store = OpenOrDie("s3://bucket", options);
  std::string dir = MakeTempDir();
  ASSERT_TRUE(store->GetToFile("k", dir + "/out").ok());
  std::ifstream in(dir + "/out", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "whole object");
  std::filesystem::remove_all(dir);
}

TEST(S3StoreTest, SignsRequestsWithSigV4) {
  FakeHttpServer server([](const RawRequest& r) {
    RawResponse ok;
    if (r.Query().find("list-type=2") != std::string::npos) {
      ok.body = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    }
    return ok;
  });
  S3Options options = FakeOptions(server);
  options.session_token = "session-token/with+chars=";
  auto store = OpenOrDie("s3://bucket/base", options);
  const std::string key = "a b/c+d=€~.txt";
  ASSERT_TRUE(store->Put(key, "body bytes").ok());
  ASSERT_TRUE(store->Get(key).ok());
  ASSERT_TRUE(store->Head(key).ok());
  ASSERT_TRUE(store->Delete(key).ok());
  ASSERT_TRUE(store->List("a b/ü&=").ok());

  std::vector<RawRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  for (const RawRequest& r : requests) {
    EXPECT_EQ(CheckSigV4(r, kSecret), "") << r.method << " " << r.target;
    EXPECT_EQ(CheckSigV4(r, "wrong-secret").empty(), false);
    EXPECT_THAT(r.Header("authorization"), HasSubstr("/eu-west-3/s3/aws4_request"));
    EXPECT_THAT(r.Header("authorization"), HasSubstr("x-amz-security-token"));
    EXPECT_EQ(r.Header("x-amz-security-token"), "session-token/with+chars=");
  }
  // Keys are percent-encoded once, '/' kept; the payload hash is the body's.
  EXPECT_EQ(requests[0].target, "/bucket/base/a%20b/c%2Bd%3D%E2%82%AC~.txt");
  EXPECT_EQ(requests[0].Header("x-amz-content-sha256"), Sha256Hex("body bytes"));
  EXPECT_EQ(requests[0].body, "body bytes");
  EXPECT_EQ(requests[2].method, "HEAD");
  EXPECT_EQ(requests[3].method, "DELETE");
  EXPECT_EQ(requests[4].target,
            "/bucket?list-type=2&max-keys=1000&prefix=base%2Fa%20b%2F%C3%BC%26%3D");
}

TEST(S3StoreTest, MultipartUploadAbortsWhenAPartFails) {
  std::atomic<int> parts{0};
  FakeHttpServer server([&](const RawRequest& r) {
    RawResponse ok;
    if (r.method == "POST" && r.Query() == "uploads=") {
      ok.body =
          "<InitiateMultipartUploadResult><UploadId>up-1</UploadId>"
          "</InitiateMultipartUploadResult>";
    } else if (r.method == "PUT" && ++parts == 2) {
      return ErrorXml(400, "InvalidPart", "No.");
    } else if (r.method == "PUT") {
      ok.headers.emplace_back("ETag", "\"etag-" + std::to_string(parts.load()) + "\"");
    }
    return ok;
  });
  S3Options options = FakeOptions(server);
  options.multipart_threshold = 6ull << 20;
  options.part_size = 5ull << 20;
  auto store = OpenOrDie("s3://bucket", options);
  std::string dir = MakeTempDir();
  std::string path = dir + "/big";
  std::ofstream(path, std::ios::binary) << TestBytes(11ull << 20, 4);
  absl::Status st = store->PutFile("big.parquet", path);
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("UploadPart"));
  std::vector<std::string> seen;
  for (const RawRequest& r : server.requests()) seen.push_back(r.method + " " + r.target);
  EXPECT_THAT(seen, ElementsAre("POST /bucket/big.parquet?uploads=",
                                "PUT /bucket/big.parquet?partNumber=1&uploadId=up-1",
                                "PUT /bucket/big.parquet?partNumber=2&uploadId=up-1",
                                "DELETE /bucket/big.parquet?uploadId=up-1"));
  for (const RawRequest& r : server.requests()) EXPECT_EQ(CheckSigV4(r, kSecret), "");
  std::filesystem::remove_all(dir);
}

TEST(S3StoreTest, MultipartUploadSendsPartsThenCompletes) {
  std::atomic<int> parts{0};
  FakeHttpServer server([&](const RawRequest& r) {
    RawResponse ok;
    if (r.method == "POST" && r.Query() == "uploads=") {
      ok.body =
          "<InitiateMultipartUploadResult><UploadId>u/1+</UploadId>"
          "</InitiateMultipartUploadResult>";
    } else if (r.method == "PUT") {
      ok.headers.emplace_back("ETag", "\"e" + std::to_string(++parts) + "\"");
    } else if (r.method == "POST") {
      ok.body = "<CompleteMultipartUploadResult/>";
    }
    return ok;
  });
  S3Options options = FakeOptions(server);
  options.multipart_threshold = 6ull << 20;
  options.part_size = 5ull << 20;
  auto store = OpenOrDie("s3://bucket", options);
  std::string dir = MakeTempDir();
  std::string data = TestBytes(12ull << 20, 5);
  std::ofstream(dir + "/big", std::ios::binary) << data;
  ASSERT_TRUE(store->PutFile("big", dir + "/big").ok());
  std::vector<RawRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[1].target, "/bucket/big?partNumber=1&uploadId=u%2F1%2B");
  EXPECT_EQ(requests[1].Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_TRUE(requests[1].body + requests[2].body + requests[3].body == data);
  EXPECT_EQ(requests[3].body.size(), 2ull << 20);
  EXPECT_EQ(requests[4].method, "POST");
  EXPECT_THAT(requests[4].body, HasSubstr("<Part><PartNumber>3</PartNumber><ETag>\"e3\"</ETag>"));
  for (const RawRequest& r : requests) EXPECT_EQ(CheckSigV4(r, kSecret), "");
  std::filesystem::remove_all(dir);
}

TEST(S3StoreTest, CompleteAnsweringOkWithAnErrorBodyFails) {
  FakeHttpServer server([](const RawRequest& r) {
    RawResponse ok;
    if (r.Query() == "uploads=") {
      ok.body =
          "<InitiateMultipartUploadResult><UploadId>u</UploadId>"
          "</InitiateMultipartUploadResult>";
    } else if (r.method == "PUT") {
      ok.headers.emplace_back("ETag", "\"e\"");
    } else if (r.method == "POST") {
      ok.body = "<Error><Code>InternalError</Code><Message>Try again.</Message></Error>";
    }
    return ok;
  });
  S3Options options = FakeOptions(server);
  options.multipart_threshold = 1;
  options.part_size = 5ull << 20;
  auto store = OpenOrDie("s3://bucket", options);
  std::string dir = MakeTempDir();
  std::ofstream(dir + "/f", std::ios::binary) << "some data";
  absl::Status st = store->PutFile("k", dir + "/f");
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_EQ(server.requests().back().method, "DELETE");  // aborted
  std::filesystem::remove_all(dir);
}

TEST(S3StoreTest, FallsBackToAwsEnvironment) {
  FakeHttpServer server([](const RawRequest&) { return RawResponse{}; });
  ::setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
  ::setenv("AWS_SESSION_TOKEN", "env-token", 1);
  ::setenv("AWS_REGION", "ap-south-2", 1);
  ::setenv("AWS_ENDPOINT_URL", server.endpoint().c_str(), 1);
  S3Options options;
  options.path_style = true;
  auto store = OpenOrDie("s3://envbucket", options);
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                           "AWS_REGION", "AWS_ENDPOINT_URL"}) {
    ::unsetenv(name);
  }
  ASSERT_TRUE(store->Put("k", "v").ok());
  RawRequest r = server.requests().at(0);
  EXPECT_EQ(r.target, "/envbucket/k");
  EXPECT_THAT(r.Header("authorization"), HasSubstr("Credential=ENVKEY/"));
  EXPECT_THAT(r.Header("authorization"), HasSubstr("/ap-south-2/s3/aws4_request"));
  EXPECT_EQ(r.Header("x-amz-security-token"), "env-token");
  EXPECT_EQ(CheckSigV4(r, kSecret), "");
}

TEST(S3StoreTest, RejectsBadOptions) {
  S3Options options;
  options.endpoint = "http://127.0.0.1:1";
  options.access_key_id = "only-the-id";
  EXPECT_TRUE(absl::IsInvalidArgument(Open("s3://b", options).status()));
  options.secret_access_key = "s";
  options.part_size = 1 << 20;
  EXPECT_TRUE(absl::IsInvalidArgument(Open("s3://b", options).status()));
  options.part_size = 5 << 20;
  options.endpoint = "ftp://host";
  EXPECT_TRUE(absl::IsInvalidArgument(Open("s3://b", options).status()));
}

}  // namespace
}  // namespace signaldb::objstore::testing
