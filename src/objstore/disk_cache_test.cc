#include "objstore/disk_cache.h"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/test_util.h"

namespace signaldb::objstore::testing {
namespace {

// Forwards to a memory store, counting downloads; can hold downloads until
// released.
class CountingStore final : public ObjectStore {
 public:
  explicit CountingStore(std::unique_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  int downloads() const { return downloads_.load(); }
  void HoldDownloads() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void ReleaseDownloads() {
    {
      std::lock_guard lock(mu_);
      hold_ = false;
    }
    cv_.notify_all();
  }

  std::string Uri(std::string_view key) const override { return inner_->Uri(key); }
  std::optional<std::string> KeyOf(std::string_view uri) const override {
    return inner_->KeyOf(uri);
  }
  absl::Status Put(std::string_view key, std::string_view data) override {
    return inner_->Put(key, data);
  }
  absl::Status PutFile(std::string_view key, const std::string& path) override {
    return inner_->PutFile(key, path);
  }
  absl::StatusOr<std::string> Get(std::string_view key) override { return inner_->Get(key); }
  absl::Status GetToFile(std::string_view key, const std::string& path) override {
    downloads_++;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !hold_; });
    lock.unlock();
    return inner_->GetToFile(key, path);
  }
  absl::Status Delete(std::string_view key) override { return inner_->Delete(key); }
  absl::StatusOr<std::optional<ObjectInfo>> Head(std::string_view key) override {
    return inner_->Head(key);
  }
  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    return inner_->List(prefix);
  }
  std::optional<std::string> LocalPath(std::string_view key) const override {
    return inner_->LocalPath(key);
  }

 private:
  std::unique_ptr<ObjectStore> inner_;
  std::atomic<int> downloads_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
};

std::string ReadFile(const std::string& path) {
  auto data = DefaultFileSystem()->ReadFile(path);
  return data.ok() ? *data : "<" + std::string(data.status().message()) + ">";
}

class DiskCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    store_ = std::make_unique<CountingStore>(*Open("memory://" + UniqueName()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<DiskCache> OpenCache(uint64_t capacity) {
    auto cache = DiskCache::Open(dir_ + "/cache", capacity);
    EXPECT_TRUE(cache.ok()) << cache.status();
    return cache.ok() ? std::move(cache).value() : nullptr;
  }

  std::string dir_;
  std::unique_ptr<CountingStore> store_;
};

TEST_F(DiskCacheTest, MissDownloadsThenHitsServeTheSameFile) {
  ASSERT_TRUE(store_->Put("t/a.parquet", "contents of a").ok());
  auto cache = OpenCache(1 << 20);
  std::string path;
  {
    auto first = cache->Fetch(store_.get(), "t/a.parquet");
    ASSERT_TRUE(first.ok()) << first.status();
    path = first->path();
    EXPECT_EQ(ReadFile(path), "contents of a");
    EXPECT_THAT(path, ::testing::EndsWith(".parquet"));
    EXPECT_THAT(path, ::testing::StartsWith(dir_ + "/cache/"));
  }
  auto second = cache->Fetch(store_.get(), "t/a.parquet");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->path(), path);
  EXPECT_EQ(store_->downloads(), 1);
  DiskCache::Stats stats = cache->stats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.bytes, 13u);
  EXPECT_EQ(stats.files, 1u);
}

TEST_F(DiskCacheTest, MissingObjectIsNotFoundAndNotCached) {
  auto cache = OpenCache(1 << 20);
  EXPECT_TRUE(absl::IsNotFound(cache->Fetch(store_.get(), "nope").status()));
  ASSERT_TRUE(store_->Put("nope", "now it exists").ok());
  auto fetched = cache->Fetch(store_.get(), "nope");
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(ReadFile(fetched->path()), "now it exists");
}

TEST_F(DiskCacheTest, EvictsLeastRecentlyFetchedToStayUnderCapacity) {
  for (const char* key : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(store_->Put(key, std::string(100, key[0])).ok());
  }
  auto cache = OpenCache(250);
  std::string path_a = cache->Fetch(store_.get(), "a")->path();
  std::string path_b = cache->Fetch(store_.get(), "b")->path();
  ASSERT_TRUE(cache->Fetch(store_.get(), "a").ok());  // a is now more recent than b
  std::string path_c = cache->Fetch(store_.get(), "c")->path();
  EXPECT_FALSE(std::filesystem::exists(path_b));
  EXPECT_TRUE(std::filesystem::exists(path_a));
  EXPECT_TRUE(std::filesystem::exists(path_c));
  DiskCache::Stats stats = cache->stats();
  EXPECT_EQ(stats.evictions, 1u);
  EXPECT_EQ(stats.bytes, 200u);
  EXPECT_LE(stats.bytes, 250u);
  // b comes back by downloading again.
  ASSERT_EQ(ReadFile(cache->Fetch(store_.get(), "b")->path()), std::string(100, 'b'));
  EXPECT_EQ(store_->downloads(), 4);
  EXPECT_LE(cache->stats().bytes, 250u);
}

TEST_F(DiskCacheTest, PinnedFilesAreNotEvicted) {
  for (const char* key : {"a", "b", "c"}) {
    ASSERT_TRUE(store_->Put(key, std::string(100, key[0])).ok());
  }
  auto cache = OpenCache(150);
  auto a = cache->Fetch(store_.get(), "a");
  auto b = cache->Fetch(store_.get(), "b");
  ASSERT_TRUE(a.ok() && b.ok());
  // Both pinned: over capacity for now, and both still readable.
  EXPECT_EQ(cache->stats().bytes, 200u);
  EXPECT_EQ(ReadFile(a->path()), std::string(100, 'a'));
  EXPECT_EQ(ReadFile(b->path()), std::string(100, 'b'));
  std::string a_path = a->path();
  *a = CachedFile();  // unpin a: evicted right away
  EXPECT_FALSE(std::filesystem::exists(a_path));
  auto c = cache->Fetch(store_.get(), "c");
  ASSERT_TRUE(c.ok());
  // b is pinned still, so c's arrival cannot evict it.
  EXPECT_EQ(ReadFile(b->path()), std::string(100, 'b'));
  EXPECT_EQ(cache->stats().bytes, 200u);
}

TEST_F(DiskCacheTest, ConcurrentFetchesDownloadOnce) {
  ASSERT_TRUE(store_->Put("hot.parquet", "hot data").ok());
  auto cache = OpenCache(1 << 20);
  store_->HoldDownloads();
  constexpr int kThreads = 8;
  std::vector<std::string> paths(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto f = cache->Fetch(store_.get(), "hot.parquet");
      paths[i] = f.ok() ? ReadFile(f->path()) : std::string(f.status().message());
    });
  }
  // Hold the one download until every other caller waits for it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (cache->stats().waits < kThreads - 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(cache->stats().waits, static_cast<uint64_t>(kThreads - 1));
  store_->ReleaseDownloads();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(store_->downloads(), 1);
  for (const std::string& p : paths) EXPECT_EQ(p, "hot data");
}

TEST_F(DiskCacheTest, ReopenAdoptsCachedFilesAndDropsPartials) {
  ASSERT_TRUE(store_->Put("x.parquet", "xx").ok());
  std::string path;
  {
    auto cache = OpenCache(1 << 20);
    path = cache->Fetch(store_.get(), "x.parquet")->path();
  }
  std::string partial = dir_ + "/cache/.sdb-tmp-abc.parquet.123456";
  std::ofstream(partial) << "half";
  auto cache = OpenCache(1 << 20);
  EXPECT_FALSE(std::filesystem::exists(partial));
  EXPECT_EQ(cache->stats().files, 1u);
  auto again = cache->Fetch(store_.get(), "x.parquet");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->path(), path);
  EXPECT_EQ(store_->downloads(), 1);
  EXPECT_EQ(cache->stats().hits, 1u);
}

TEST_F(DiskCacheTest, FileStoresAreServedInPlace) {
  auto files = Open("file://" + dir_ + "/files");
  ASSERT_TRUE((*files)->Put("t/x.parquet", "local").ok());
  auto cache = OpenCache(1 << 20);
  auto fetched = cache->Fetch(files->get(), "t/x.parquet");
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(fetched->path(), dir_ + "/files/t/x.parquet");
  EXPECT_EQ(cache->stats().files, 0u);
  EXPECT_TRUE(absl::IsNotFound(cache->Fetch(files->get(), "t/none").status()));
}

TEST_F(DiskCacheTest, CachesS3Objects) {
  auto server = SharedS3rver();
  ASSERT_TRUE(server.ok()) << server.status();
  auto s3 = Open(std::string("s3://") + kBucket + "/" + UniqueName(), S3rverOptions(**server));
  ASSERT_TRUE(s3.ok()) << s3.status();
  std::string data = TestBytes(300000, 9);
  ASSERT_TRUE((*s3)->Put("d/f.parquet", data).ok());
  auto cache = OpenCache(1 << 20);
  auto fetched = cache->Fetch(s3->get(), "d/f.parquet");
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_TRUE(ReadFile(fetched->path()) == data);
}

}  // namespace
}  // namespace signaldb::objstore::testing
