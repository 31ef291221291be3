#include "config/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "gmock/gmock.h"

namespace signaldb {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sdb_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsWithoutFileOrEnvironment) {
  ConfigSources src;
  src.working_dir = dir_.string();
  auto c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->acceptor.grpc_addr, "0.0.0.0:4317");
  EXPECT_EQ(c->acceptor.http_addr, "0.0.0.0:4318");
  EXPECT_EQ(c->router.http_addr, "0.0.0.0:3000");
  EXPECT_TRUE(std::filesystem::path(c->data_dir).is_absolute());
  EXPECT_EQ(c->WalDir(), c->data_dir + "/wal");
  EXPECT_EQ(c->StorageDir(), c->data_dir + "/storage");
  EXPECT_LE(c->writer.flush_interval.count(), 10000);
  EXPECT_EQ(c->storage.parquet_writer, "native");
}

TEST_F(ConfigTest, FileThenEnvironmentOverride) {
  ConfigSources src;
  src.file = Write("a.toml", "data_dir = \"/tmp/x\"\n[acceptor]\ngrpc_addr = \"127.0.0.1:5317\"\n"
                             "[wal]\nsegment_size = \"8MiB\"\nflush_interval = \"2ms\"\nspare_segments = 0\n");
  src.env = {{"SIGNALDB_ACCEPTOR__GRPC_ADDR", "127.0.0.1:6317"}, {"SIGNALDB_LOG__LEVEL", "debug"}};
  auto c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "/tmp/x");
  EXPECT_EQ(c->acceptor.grpc_addr, "127.0.0.1:6317");
  EXPECT_EQ(c->wal.segment_size, 8u << 20);
  EXPECT_EQ(c->wal.flush_interval.count(), 2);
  EXPECT_EQ(c->wal.spare_segments, 0);
  EXPECT_EQ(c->log.level, "debug");
}

TEST_F(ConfigTest, PicksUpSignaldbTomlInWorkingDirectory) {
  Write("signaldb.toml", "[router]\nhttp_addr = \"127.0.0.1:3999\"\n");
  ConfigSources src;
  src.working_dir = dir_.string();
  auto c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->router.http_addr, "127.0.0.1:3999");
}

TEST_F(ConfigTest, UnknownKeysAndBadValuesNameTheKey) {
  ConfigSources src;
  src.file = Write("b.toml", "[acceptor]\ngrcp_addr = \"x:1\"\n");
  auto c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("acceptor.grcp_addr"));

  src.file = Write("c.toml", "[router]\nhttp_addr = \"localhost:99999\"\n");
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("router.http_addr"));

  src.file = Write("d.toml", "[writer]\nflush_interval = \"soon\"\n");
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("writer.flush_interval"));

  src.file = Write("f.toml", "[storage]\ncompression_level = 23\n");
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("storage.compression_level"));

  src.file = Write("g.toml", "[storage]\ncompression_level = 9\n");
  c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->storage.compression_level, 9);

  src.file = Write("g2.toml", "[storage]\nparquet_writer = \"arrow\"\n");
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("storage.parquet_writer"));

  src.file = Write("g3.toml", "[storage]\nparquet_writer = \"duckdb\"\n");
  c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->storage.parquet_writer, "duckdb");

  src.file = Write("h.toml", "[storage]\nsnapshots_kept = 0\n");
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("storage.snapshots_kept"));

  src.file = Write("i.toml", "[storage]\nsnapshots_kept = 5\nsnapshot_max_age = \"2h\"\n");
  c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->storage.snapshots_kept, 5u);
  EXPECT_EQ(c->storage.snapshot_max_age, std::chrono::hours(2));

  src.file = Write("e.toml", "[writer\n");
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("e.toml:1"));

  src.file.reset();
  src.env = {{"SIGNALDB_WAL__SEGMENT_SIZE", "lots"}};
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("SIGNALDB_WAL__SEGMENT_SIZE"));

  src.env = {{"SIGNALDB_NOPE", "1"}};
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("'nope'"));
}

// Compaction and retention settings, with retention overrides per tenant
// and per dataset from the file and the environment.
TEST_F(ConfigTest, CompactorAndRetentionOverrides) {
  ConfigSources src;
  src.file = Write("c.toml",
                   "[compactor]\nenabled = false\ninterval = \"30s\"\ntarget_file_size = \"64MiB\"\n"
                   "min_input_files = 6\n[compactor.retention]\ndefault = \"7d\"\n"
                   "[compactor.retention.tenants]\nacme = \"30d\"\n"
                   "[compactor.retention.datasets.acme]\ndebug = \"12h\"\n"
                   "[compactor.orphan_cleanup]\ngrace = \"1h\"\n");
  src.env = {{"SIGNALDB_COMPACTOR__RETENTION__TENANTS__BETA", "2d"}};
  auto c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->compactor.enabled);
  EXPECT_EQ(c->compactor.interval.count(), 30000);
  EXPECT_EQ(c->compactor.target_file_size, 64u << 20);
  EXPECT_EQ(c->compactor.min_input_files, 6u);
  EXPECT_EQ(c->compactor.retention.count(), 7LL * 86400000);
  EXPECT_EQ(c->compactor.orphan_grace.count(), 3600000);
  std::map<std::string, std::chrono::milliseconds> want{{"acme", std::chrono::hours(24 * 30)},
                                                        {"acme/debug", std::chrono::hours(12)},
                                                        {"beta", std::chrono::hours(48)}};
  EXPECT_EQ(c->compactor.retention_overrides, want);

  src.env = {{"SIGNALDB_COMPACTOR__RETENTION__TENANTS__ACME", "soon"}};
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("compactor.retention.tenants.acme"));
  src.env = {{"SIGNALDB_COMPACTOR__RETENTION__DATASETS__ACME", "1d"}};  // no dataset named
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("unknown configuration key"));
  src.env = {{"SIGNALDB_COMPACTOR__MIN_INPUT_FILES", "1"}};
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("compactor.min_input_files"));
}

TEST_F(ConfigTest, CatalogUriIsEmptyAPostgresUriOrAPath) {
  ConfigSources src;
  src.working_dir = dir_.string();
  auto c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->schema.catalog_uri, "");  // SQLite under the storage dir

  for (const char* uri : {"postgresql://sdb:pw@db.internal:5432/signaldb", "postgres://db/signaldb"}) {
    src.env = {{"SIGNALDB_SCHEMA__CATALOG_URI", uri}};
    c = LoadConfig(src);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->schema.catalog_uri, uri);
  }

  // A relative SQLite path becomes absolute, like every other path.
  src.env = {{"SIGNALDB_SCHEMA__CATALOG_URI", "cat/catalog.db"}};
  c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(std::filesystem::path(c->schema.catalog_uri).is_absolute());
  EXPECT_THAT(c->schema.catalog_uri, ::testing::EndsWith("/cat/catalog.db"));

  // Other schemes are refused, and the error does not repeat the password.
  src.env = {{"SIGNALDB_SCHEMA__CATALOG_URI", "mysql://sdb:Secr3t@db/signaldb"}};
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("SIGNALDB_SCHEMA__CATALOG_URI"));
  EXPECT_THAT(c.status().message(), HasSubstr("'mysql'"));
  EXPECT_THAT(c.status().message(), ::testing::Not(HasSubstr("Secr3t")));
}

TEST_F(ConfigTest, RemoteStorageAndPerDatasetOverrides) {
  ConfigSources src;
  src.file = Write("s.toml",
                   "[storage]\ndsn = \"s3://lake/signaldb\"\ncache_size = \"2GiB\"\n"
                   "[storage.s3]\nendpoint = \"http://127.0.0.1:9000\"\npath_style = true\n"
                   "[storage.datasets.acme]\narchive = \"memory://acme\"\n");
  src.env = {{"SIGNALDB_STORAGE__S3__REGION", "eu-west-1"}};
  auto c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->storage.dsn, "s3://lake/signaldb");
  EXPECT_EQ(c->StorageDir(), c->data_dir + "/storage");  // local staging and cache
  EXPECT_EQ(c->storage.cache_size, 2ull << 30);
  EXPECT_EQ(c->storage.s3.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c->storage.s3.region, "eu-west-1");
  EXPECT_TRUE(c->storage.s3.path_style);
  EXPECT_EQ(c->storage.dataset_dsn, (std::map<std::string, std::string>{{"acme/archive", "memory://acme"}}));
  for (const char* bad : {"s3://", "ftp://x", "memory://", "/plain/path"}) {
    src.env = {{"SIGNALDB_STORAGE__DSN", bad}};
    c = LoadConfig(src);
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) {
      EXPECT_THAT(c.status().message(), HasSubstr("storage.dsn"));
    }
  }
  src.env = {{"SIGNALDB_STORAGE__DATASETS__ACME__ARCHIVE", "gopher://x"}};
  c = LoadConfig(src);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("storage.datasets.acme.archive"));
}

TEST(ConfigParseTest, DurationsAndSizes) {
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_EQ(ParseDuration("5s")->count(), 5000);
  EXPECT_EQ(ParseDuration("2")->count(), 2000);
  EXPECT_EQ(ParseDuration("1m")->count(), 60000);
  EXPECT_FALSE(ParseDuration("-1s").ok());
  EXPECT_EQ(*ParseSize("64MiB"), 64u << 20);
  EXPECT_EQ(*ParseSize("1024"), 1024u);
  EXPECT_FALSE(ParseSize("12 parsecs").ok());
}

// [auth] and [[auth.tenants]] as the seed's example writes them.
TEST(ConfigAuthTest, TenantsDatasetsAndKeys) {
  auto dir = std::filesystem::temp_directory_path() / ("sdb_config_auth_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& text) {
    std::ofstream(dir / "signaldb.toml") << text;
    ConfigSources src;
    src.file = (dir / "signaldb.toml").string();
    return LoadConfig(src);
  };
  auto c = write(R"(
[auth]
enabled = true
admin_api_key = "sk-admin-key"

[[auth.tenants]]
id = "acme"
slug = "acme"
name = "Acme Corporation"
default_dataset = "production"

[[auth.tenants.datasets]]
id = "production"
slug = "prod"
is_default = true

[[auth.tenants.datasets]]
id = "archive"
slug = "archive"
[auth.tenants.datasets.storage]
dsn = "s3://acme-archive/signals"

[[auth.tenants.api_keys]]
key = "sk-acme-prod-key-123"
name = "Production Key"

[[auth.tenants]]
id = "globex"
ingest_bytes_per_second = "10MiB"
ingest_records_per_second = 5000
max_query_range = "24h"
attribute_limit_action = "reject"

[limits]
max_attributes_per_record = 64
query_concurrency = 4

[database]
dsn = "postgresql://signaldb@db.internal/signaldb"
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->auth.enabled);
  EXPECT_EQ(c->auth.admin_api_key, "sk-admin-key");
  ASSERT_EQ(c->auth.tenants.size(), 2u);
  const auto& acme = c->auth.tenants[0];
  EXPECT_EQ(acme.name, "Acme Corporation");
  EXPECT_EQ(acme.default_dataset, "production");
  ASSERT_EQ(acme.datasets.size(), 2u);
  EXPECT_EQ(acme.datasets[0].slug, "prod");
  EXPECT_TRUE(acme.datasets[0].is_default);
  EXPECT_EQ(acme.datasets[1].storage_dsn, "s3://acme-archive/signals");
  ASSERT_EQ(acme.api_keys.size(), 1u);
  EXPECT_EQ(acme.api_keys[0].key, "sk-acme-prod-key-123");
  EXPECT_EQ(c->auth.tenants[1].slug, "globex");  // the id when not given
  EXPECT_TRUE(acme.limits.empty());
  auto limits = ResolveLimits(c->limits, c->auth.tenants[1].limits);
  ASSERT_TRUE(limits.ok()) << limits.status();
  EXPECT_EQ(limits->ingest_bytes_per_second, 10u << 20);
  EXPECT_EQ(limits->ingest_records_per_second, 5000u);
  EXPECT_EQ(limits->max_query_range, std::chrono::hours(24));
  EXPECT_TRUE(limits->reject_over_limit_attributes);
  EXPECT_EQ(limits->max_attributes_per_record, 64u);  // [limits], not overridden
  EXPECT_EQ(limits->query_concurrency, 4u);
  EXPECT_FALSE(c->limits.reject_over_limit_attributes);
  EXPECT_EQ(c->limits.max_attribute_value_length, 1u << 20);  // the default
  EXPECT_EQ(c->database.dsn, "postgresql://signaldb@db.internal/signaldb");

  // Errors name the field.
  auto bad = [&](const std::string& text) {
    auto r = write(text);
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"Acme\"\n"), HasSubstr("auth.tenants[0].id"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"../x\"\n"), HasSubstr("auth.tenants[0].id"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\ncolour = \"red\"\n"), HasSubstr("unknown field 'colour'"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\ndefault_dataset = \"x\"\n"), HasSubstr("default_dataset"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\n[[auth.tenants.api_keys]]\nkey = \"short\"\n"),
              HasSubstr("api_keys[0].key"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\n[[auth.tenants]]\nid = \"a\"\n"), HasSubstr("appears twice"));
  EXPECT_THAT(bad("[auth]\nenabled = \"maybe\"\n"), HasSubstr("auth.enabled"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\ningest_records_per_second = -3\n"),
              HasSubstr("ingest_records_per_second"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\ningest_bytes_per_second = \"lots\"\n"),
              HasSubstr("ingest_bytes_per_second"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\nattribute_limit_action = \"sideways\"\n"),
              HasSubstr("auth.tenants[0].attribute_limit_action"));
  EXPECT_THAT(bad("[limits]\nmax_query_range = \"soon\"\n"), HasSubstr("limits.max_query_range"));
  EXPECT_THAT(bad("[database]\ndsn = \"mysql://x\"\n"), HasSubstr("database.dsn"));
  const std::string key = "[[auth.tenants.api_keys]]\nkey = \"sk-shared-key-1\"\n";
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\n" + key + "[[auth.tenants]]\nid = \"b\"\n" + key),
              HasSubstr("is also tenant 'a''s"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\n[[auth.tenants]]\nid = \"b\"\nslug = \"a\"\n"),
              HasSubstr("names another tenant"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\n[[auth.tenants.datasets]]\nid = \"x\"\nis_default = true\n"
                  "[[auth.tenants.datasets]]\nid = \"y\"\nis_default = true\n"),
              HasSubstr("more than one is_default"));
  EXPECT_THAT(bad("[[auth.tenants]]\nid = \"a\"\n[[auth.tenants.datasets]]\nid = \"x\"\n"
                  "[[auth.tenants.datasets]]\nid = \"y\"\nslug = \"x\"\n"),
              HasSubstr("names two datasets"));
  std::filesystem::remove_all(dir);
}

// The example file must document every key, and every key it documents must
// load back as a valid configuration.
TEST(ConfigExampleTest, ExampleDocumentsEveryKey) {
  std::string path = std::string(SIGNALDB_SOURCE_DIR) + "/signaldb.example.toml";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& key : KnownKeys()) {
    std::string leaf = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
    EXPECT_THAT(text, HasSubstr(leaf + " =")) << key;
  }
  ConfigSources src;
  src.file = path;
  auto c = LoadConfig(src);
  EXPECT_TRUE(c.ok()) << c.status();
}

}  // namespace
}  // namespace signaldb
