// The ObjectStore contract, run against every implementation: local files,
// memory, and S3 (a real s3rver process, path-style and virtual-hosted).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/object_store.h"
#include "objstore/test_util.h"

namespace signaldb::objstore::testing {

absl::StatusOr<S3rverProcess*> SharedS3rver() {
  static absl::StatusOr<std::unique_ptr<S3rverProcess>>* server =
      new absl::StatusOr<std::unique_ptr<S3rverProcess>>(S3rverProcess::Start({kBucket}));
  // Stop the server at exit (the child would die with us anyway).
  static struct Stopper {
    ~Stopper() {
      if (server->ok()) server->value().reset();
    }
  } stopper;
  if (!server->ok()) return server->status();
  return server->value().get();
}

S3Options S3rverOptions(const S3rverProcess& server) {
  S3Options options;
  options.endpoint = server.endpoint();
  options.path_style = true;
  options.access_key_id = S3rverProcess::kAccessKeyId;
  options.secret_access_key = S3rverProcess::kSecretAccessKey;
  options.max_retries = 2;
  options.initial_backoff = std::chrono::milliseconds(10);
  return options;
}

std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "objstore-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

std::string UniqueName() {
  static std::atomic<int> counter{0};
  return "t" + std::to_string(counter++) + "-" + std::to_string(::getpid());
}

std::string TestBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    // Every 7th byte a NUL; the rest any byte value.
    out[i] = i % 7 == 0 ? '\0' : static_cast<char>(rng() & 0xff);
  }
  return out;
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Keys(const std::vector<ObjectInfo>& infos) {
  std::vector<std::string> keys;
  for (const ObjectInfo& info : infos) keys.push_back(info.key);
  return keys;
}

void WriteLocalFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good());
}

std::string ReadLocalFile(const std::string& path) {
  absl::StatusOr<std::string> data = DefaultFileSystem()->ReadFile(path);
  EXPECT_TRUE(data.ok()) << data.status();
  return data.ok() ? *data : "";
}

class ObjectStoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    const std::string& kind = GetParam();
    if (kind == "file") {
      uri_ = "file://" + dir_ + "/store";
    } else if (kind == "memory") {
      uri_ = "memory://" + UniqueName();
    } else {
      absl::StatusOr<S3rverProcess*> server = SharedS3rver();
      ASSERT_TRUE(server.ok()) << server.status();
      options_ = S3rverOptions(**server);
      if (kind == "s3_vhost") {
        // <bucket>.s3.localhost resolves to loopback inside libcurl.
        options_.endpoint = "http://s3.localhost:" + std::to_string((*server)->port());
        options_.path_style = false;
      }
      uri_ = std::string("s3://") + kBucket + "/" + UniqueName();
    }
    Reopen();
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Reopen() {
    auto store = Open(uri_, options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
  }

  std::string dir_;
  std::string uri_;
  S3Options options_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreContract, PutGetOverwrite) {
  ASSERT_TRUE(store_->Put("t/a.bin", "first").ok());
  EXPECT_EQ(*store_->Get("t/a.bin"), "first");
  ASSERT_TRUE(store_->Put("t/a.bin", "second, longer").ok());
  EXPECT_EQ(*store_->Get("t/a.bin"), "second, longer");
  ASSERT_TRUE(store_->Put("t/a.bin", "3").ok());
  EXPECT_EQ(*store_->Get("t/a.bin"), "3");
}

TEST_P(ObjectStoreContract, GetMissingIsNotFound) {
  absl::StatusOr<std::string> got = store_->Get("no/such.bin");
  EXPECT_TRUE(absl::IsNotFound(got.status())) << got.status();
  std::string local = dir_ + "/out.bin";
  absl::Status to_file = store_->GetToFile("no/such.bin", local);
  EXPECT_TRUE(absl::IsNotFound(to_file)) << to_file;
  EXPECT_FALSE(std::filesystem::exists(local));
}

TEST_P(ObjectStoreContract, HeadReportsSizeAndTime) {
  auto before = std::chrono::system_clock::now() - std::chrono::hours(1);
  ASSERT_TRUE(store_->Put("h/x.parquet", std::string(1234, 'x')).ok());
  auto info = store_->Head("h/x.parquet");
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_TRUE(info->has_value());
  EXPECT_EQ((*info)->key, "h/x.parquet");
  EXPECT_EQ((*info)->size, 1234u);
  EXPECT_GT((*info)->modified, before);
  auto missing = store_->Head("h/y.parquet");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());
}

TEST_P(ObjectStoreContract, DeleteIsIdempotent) {
  ASSERT_TRUE(store_->Put("d/x", "data").ok());
  ASSERT_TRUE(store_->Delete("d/x").ok());
  EXPECT_TRUE(absl::IsNotFound(store_->Get("d/x").status()));
  EXPECT_FALSE(store_->Head("d/x")->has_value());
  EXPECT_TRUE(store_->Delete("d/x").ok());
  EXPECT_TRUE(store_->Delete("never/existed").ok());
}

TEST_P(ObjectStoreContract, ListFiltersByPrefixAndSorts) {
  for (const char* key : {"t/data/b.parquet", "t/meta/v1.json", "t/data/a.parquet",
                          "u/data/c.parquet", "t/data2/d.parquet", "t/data/sub/e.parquet"}) {
    ASSERT_TRUE(store_->Put(key, key).ok()) << key;
  }
  auto all = store_->List("");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Keys(*all),
              ElementsAre("t/data/a.parquet", "t/data/b.parquet", "t/data/sub/e.parquet",
                          "t/data2/d.parquet", "t/meta/v1.json", "u/data/c.parquet"));
  EXPECT_THAT(Keys(*store_->List("t/data/")),
              ElementsAre("t/data/a.parquet", "t/data/b.parquet", "t/data/sub/e.parquet"));
  // A prefix need not end at a '/'.
  EXPECT_THAT(Keys(*store_->List("t/data")),
              ElementsAre("t/data/a.parquet", "t/data/b.parquet", "t/data/sub/e.parquet",
                          "t/data2/d.parquet"));
  EXPECT_THAT(Keys(*store_->List("t/data/a")), ElementsAre("t/data/a.parquet"));
  EXPECT_TRUE(store_->List("nothing/")->empty());
  EXPECT_TRUE(store_->List("../")->empty());
  auto one = store_->List("t/meta/");
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].size, std::string("t/meta/v1.json").size());
}

TEST_P(ObjectStoreContract, ListPaginatesPastAThousandKeys) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1001; ++i) keys.push_back("many/" + std::to_string(i * 7919 % 1001));
  ASSERT_TRUE(store_->Put("manz", "outside the prefix").ok());
  for (const std::string& key : keys) ASSERT_TRUE(store_->Put(key, "v").ok()) << key;
  std::sort(keys.begin(), keys.end());
  auto listed = store_->List("many/");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(Keys(*listed), keys);

  // Many small pages (S3 only; the knob is ignored elsewhere).
  options_.list_page_size = 97;
  Reopen();
  auto paged = store_->List("many/");
  ASSERT_TRUE(paged.ok()) << paged.status();
  EXPECT_EQ(Keys(*paged), keys);
}

TEST_P(ObjectStoreContract, AwkwardKeysRoundTrip) {
  const std::vector<std::string> keys = {"sp ace/file name.txt",
                                         "plus+and=equals/a+b=c",
                                         "ünïcødé/€uro/日本語.parquet",
                                         "percent%20literal/100%.bin",
                                         "punct/semi;colon&amp,comma!'()*@$",
                                         "tilde~/dash-under_dot.x"};
  for (const std::string& key : keys) {
    ASSERT_TRUE(store_->Put(key, "value of " + key).ok()) << key;
  }
  for (const std::string& key : keys) {
    auto got = store_->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status();
    EXPECT_EQ(*got, "value of " + key);
    auto info = store_->Head(key);
    ASSERT_TRUE(info.ok() && info->has_value()) << key;
    EXPECT_EQ((*info)->size, ("value of " + key).size());
    EXPECT_EQ(store_->KeyOf(store_->Uri(key)), key);
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Keys(*store_->List("")), sorted);
  EXPECT_THAT(Keys(*store_->List("sp ace/")), ElementsAre("sp ace/file name.txt"));
  EXPECT_THAT(Keys(*store_->List("plus+and=")), ElementsAre("plus+and=equals/a+b=c"));
  EXPECT_THAT(Keys(*store_->List("ünïcødé/€")), ElementsAre("ünïcødé/€uro/日本語.parquet"));
  for (const std::string& key : keys) ASSERT_TRUE(store_->Delete(key).ok()) << key;
  EXPECT_TRUE(store_->List("")->empty());
}

TEST_P(ObjectStoreContract, EmptyAndBinaryObjects) {
  ASSERT_TRUE(store_->Put("empty", "").ok());
  EXPECT_EQ(*store_->Get("empty"), "");
  EXPECT_EQ((*store_->Head("empty"))->size, 0u);
  std::string local = dir_ + "/empty.out";
  ASSERT_TRUE(store_->GetToFile("empty", local).ok());
  EXPECT_EQ(ReadLocalFile(local), "");

  std::string binary = TestBytes(100000, 1);
  binary += std::string("\0\0\xff\x00", 4);
  ASSERT_TRUE(store_->Put("bin/nul.bin", binary).ok());
  auto got = store_->Get("bin/nul.bin");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == binary);
}

TEST_P(ObjectStoreContract, PutFileAndGetToFileSmall) {
  std::string data = TestBytes(70000, 2);
  std::string in = dir_ + "/small.in";
  WriteLocalFile(in, data);
  ASSERT_TRUE(store_->PutFile("f/small.parquet", in).ok());
  EXPECT_TRUE(*store_->Get("f/small.parquet") == data);
  std::string out = dir_ + "/nested/dir/small.out";
  ASSERT_TRUE(store_->GetToFile("f/small.parquet", out).ok());
  EXPECT_TRUE(ReadLocalFile(out) == data);
  // Overwrites an existing local file.
  ASSERT_TRUE(store_->Put("f/small.parquet", "tiny").ok());
  ASSERT_TRUE(store_->GetToFile("f/small.parquet", out).ok());
  EXPECT_EQ(ReadLocalFile(out), "tiny");
  EXPECT_FALSE(store_->PutFile("f/x", dir_ + "/no-such-file").ok());
}

TEST_P(ObjectStoreContract, PutFileAboveMultipartThresholdRoundTrips) {
  options_.multipart_threshold = 6ull << 20;
  options_.part_size = 5ull << 20;
  Reopen();
  std::string data = TestBytes(12ull << 20, 3);
  std::string in = dir_ + "/big.in";
  WriteLocalFile(in, data);
  ASSERT_TRUE(store_->PutFile("big/file.parquet", in).ok());
  auto info = store_->Head("big/file.parquet");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->size, data.size());
  std::string out = dir_ + "/big.out";
  ASSERT_TRUE(store_->GetToFile("big/file.parquet", out).ok());
  EXPECT_TRUE(ReadLocalFile(out) == data);
}

TEST_P(ObjectStoreContract, UriAndKeyOfRoundTrip) {
  for (const char* key : {"a", "t/data/x.parquet", "sp ace/ü"}) {
    std::string uri = store_->Uri(key);
    EXPECT_EQ(store_->KeyOf(uri), key) << uri;
  }
  EXPECT_THAT(store_->Uri("t/x.parquet"), ::testing::EndsWith("/t/x.parquet"));
  EXPECT_EQ(store_->KeyOf("other://bucket/x"), std::nullopt);
  EXPECT_EQ(store_->KeyOf(store_->Uri("x") + "/../../y").has_value(), false);
  // Another store's URI does not belong to this one.
  auto other = Open("memory://" + UniqueName());
  EXPECT_EQ(store_->KeyOf((*other)->Uri("x")), std::nullopt);
}

TEST_P(ObjectStoreContract, RejectsKeysThatEscapeTheRoot) {
  for (const char* key : {"../x", "a/../../x", "/abs", "", "a//b", "./x"}) {
    absl::Status st = store_->Put(key, "x");
    EXPECT_TRUE(absl::IsInvalidArgument(st)) << "'" << key << "': " << st;
    EXPECT_TRUE(absl::IsInvalidArgument(store_->Get(key).status())) << key;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x"));
}

TEST_P(ObjectStoreContract, SameUriSharesObjects) {
  ASSERT_TRUE(store_->Put("shared/x", "seen by both").ok());
  auto again = Open(uri_, options_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->Get("shared/x"), "seen by both");
}

TEST_P(ObjectStoreContract, LocalPathOnlyForFiles) {
  ASSERT_TRUE(store_->Put("lp/x.parquet", "local").ok());
  std::optional<std::string> path = store_->LocalPath("lp/x.parquet");
  if (GetParam() == "file") {
    ASSERT_TRUE(path.has_value());
    EXPECT_EQ(ReadLocalFile(*path), "local");
    EXPECT_EQ(store_->LocalPath("../x"), std::nullopt);
  } else {
    EXPECT_EQ(path, std::nullopt);
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, ObjectStoreContract,
                         ::testing::Values("file", "memory", "s3", "s3_vhost"),
                         [](const auto& info) { return info.param; });

TEST(OpenTest, RejectsUnknownUris) {
  for (const char* uri : {"ftp://x", "relative/dir", "file://relative", "memory://", "s3://",
                          "memory://a/b", "s3:///x"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(Open(uri).status())) << uri;
  }
}

TEST(OpenTest, PlainPathIsAFileStore) {
  std::string dir = MakeTempDir();
  auto store = Open(dir + "/plain/");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Uri("k"), "file://" + dir + "/plain/k");
  EXPECT_EQ((*store)->KeyOf(dir + "/plain/k"), "k");
  ASSERT_TRUE((*store)->Put("k", "v").ok());
  EXPECT_EQ(ReadLocalFile(dir + "/plain/k"), "v");
  std::filesystem::remove_all(dir);
}

TEST(LocalStoreTest, ListSkipsInFlightTempFiles) {
  std::string dir = MakeTempDir();
  auto store = Open("file://" + dir);
  ASSERT_TRUE((*store)->Put("t/x", "v").ok());
  WriteLocalFile(dir + "/t/.sdb-tmp-y.abcdef", "partial");
  EXPECT_THAT(Keys(*(*store)->List("")), ElementsAre("t/x"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace signaldb::objstore::testing
