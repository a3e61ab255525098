// Cluster settings of the configuration (spec/config.md §3.2-§3.4, §4, §5, §6, §17, §19):
// adapter.redis / adapter.cluster / adapter.nats, database.redis, database_pooling.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/base/json.h"
#include "common/config/config_loader.h"

namespace sockudo::config {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class ConfigClusterTest : public ::testing::Test {
 protected:
  absl::StatusOr<LoadedConfig> Load(const std::string& json,
                                    std::map<std::string, std::string> env = {}) {
    return LoadConfig(
        {.config_path = std::nullopt, .config_text = json, .env = MapEnv(std::move(env))});
  }
  absl::StatusOr<LoadedConfig> LoadEnv(std::map<std::string, std::string> env) {
    return Load("{}", std::move(env));
  }
  // The error text of a load that must fail.
  std::string Errors(const std::string& json, std::map<std::string, std::string> env = {}) {
    auto loaded = Load(json, std::move(env));
    EXPECT_FALSE(loaded.ok()) << json;
    return loaded.ok() ? "" : std::string(loaded.status().message());
  }
  // A readable file under the test temp dir (removed in TearDown).
  std::string TempFile(const std::string& name) {
    std::string path =
        ::testing::TempDir() + "/sockudo_cluster_cfg." + std::to_string(::getpid()) + "." + name;
    std::ofstream(path) << "x";
    files_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& f : files_) std::remove(f.c_str());
  }
  std::vector<std::string> files_;
};

// ---- defaults ----

TEST_F(ConfigClusterTest, Defaults) {
  auto loaded = LoadEnv({});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.adapter.redis.requests_timeout, 5000);
  EXPECT_EQ(c.adapter.redis.prefix, "sockudo_adapter:");
  EXPECT_FALSE(c.adapter.redis.cluster_mode);
  EXPECT_EQ(c.adapter.redis.pub.host, "127.0.0.1");
  EXPECT_EQ(c.adapter.redis.pub.port, 6379);
  EXPECT_EQ(c.adapter.redis.pub.db, 0);
  EXPECT_FALSE(c.adapter.redis.pub.tls);
  EXPECT_TRUE(c.adapter.redis.pub.sentinels.empty());
  EXPECT_EQ(c.adapter.redis.sub.host, "127.0.0.1");
  EXPECT_TRUE(c.adapter.cluster.nodes.empty());
  EXPECT_EQ(c.adapter.cluster.request_timeout_ms, 1000);
  EXPECT_TRUE(c.adapter.cluster.use_connection_manager);
  EXPECT_FALSE(c.adapter.cluster.use_sharded_pubsub);
  EXPECT_FALSE(c.adapter.cluster.tls);
  EXPECT_THAT(c.adapter.nats.servers, ElementsAre("nats://localhost:4222"));
  EXPECT_EQ(c.adapter.nats.prefix, "sockudo_adapter:");
  EXPECT_EQ(c.adapter.nats.request_timeout_ms, 5000);
  EXPECT_EQ(c.adapter.nats.connection_timeout_ms, 5000);
  EXPECT_TRUE(c.adapter.nats.no_echo);
  EXPECT_FALSE(c.adapter.nats.tls.enabled);
  EXPECT_FALSE(c.adapter.nats.nodes_number.has_value());
  EXPECT_FALSE(c.adapter.nats.max_reconnects.has_value());
  EXPECT_EQ(c.redis.host, "127.0.0.1");
  EXPECT_EQ(c.redis.key_prefix, "sockudo:");
  EXPECT_EQ(c.redis.name, "mymaster");
  EXPECT_FALSE(c.redis.master_tls.enabled);
  EXPECT_TRUE(c.database_pooling.enabled);
  EXPECT_EQ(c.database_pooling.min, 2);
  EXPECT_EQ(c.database_pooling.max, 10);
  EXPECT_EQ(c.RedisPoolSize(), 10);
  EXPECT_FALSE(c.adapter.UsesRedisCluster());
  EXPECT_TRUE(loaded->warnings.empty()) << loaded->warnings[0];
}

// ---- plain keys: file, env, ranges ----

TEST_F(ConfigClusterTest, PlainKeysFromFileAndEnv) {
  auto loaded = Load(R"({
    "adapter": {
      "redis": {"requests_timeout": 7000, "prefix": "file:", "cluster_mode": false},
      "cluster": {"prefix": "c:", "request_timeout_ms": 1500, "use_sharded_pubsub": false},
      "nats": {"request_timeout_ms": 100, "no_echo": false, "max_reconnects": 0,
               "subscription_capacity": 10, "presence_sync_chunk_size": 50}
    },
    "database": {"redis": {"host": "redis-file", "port": 6380, "db": 3, "username": "fu",
                           "password": "fp", "key_prefix": "kp:", "connection_pool_size": 4,
                           "name": "primary"}},
    "database_pooling": {"enabled": true, "min": 1, "max": 8}
  })",
                     {{"ADAPTER_REDIS_PREFIX", "env:"},
                      {"ADAPTER_CLUSTER_USE_SHARDED_PUBSUB", "yes"},
                      {"NATS_PREFIX", "events"},
                      {"NATS_CONNECTION_TIMEOUT_MS", "2500"},
                      {"NATS_NODES_NUMBER", "3"},
                      {"DATABASE_REDIS_PORT", "6390"},
                      {"DATABASE_REDIS_DB", "5"},
                      {"DATABASE_POOL_MAX", "12"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.adapter.redis.requests_timeout, 7000);
  EXPECT_EQ(c.adapter.redis.prefix, "env:");
  EXPECT_EQ(c.adapter.cluster.prefix, "c:");
  EXPECT_EQ(c.adapter.cluster.request_timeout_ms, 1500);
  EXPECT_TRUE(c.adapter.cluster.use_sharded_pubsub);
  EXPECT_EQ(c.adapter.nats.prefix, "events");
  EXPECT_EQ(c.adapter.nats.request_timeout_ms, 100);
  EXPECT_EQ(c.adapter.nats.connection_timeout_ms, 2500);
  EXPECT_EQ(c.adapter.nats.nodes_number, 3);
  EXPECT_EQ(c.adapter.nats.max_reconnects, 0);
  EXPECT_EQ(c.adapter.nats.subscription_capacity, 10);
  EXPECT_EQ(c.adapter.nats.presence_sync_chunk_size, 50);
  EXPECT_FALSE(c.adapter.nats.no_echo);
  EXPECT_EQ(c.redis.host, "redis-file");
  EXPECT_EQ(c.redis.port, 6390);
  EXPECT_EQ(c.redis.db, 5);
  EXPECT_EQ(c.redis.username, "fu");
  EXPECT_EQ(c.redis.password, "fp");
  EXPECT_EQ(c.redis.key_prefix, "kp:");
  EXPECT_EQ(c.redis.name, "primary");
  EXPECT_EQ(c.redis.connection_pool_size, 4);
  EXPECT_EQ(c.database_pooling.min, 1);
  EXPECT_EQ(c.database_pooling.max, 12);
  EXPECT_EQ(c.RedisPoolSize(), 4);
  // The adapter's endpoint falls back to database.redis.
  EXPECT_EQ(c.adapter.redis.pub.host, "redis-file");
  EXPECT_EQ(c.adapter.redis.pub.port, 6390);
  EXPECT_EQ(c.adapter.redis.pub.db, 5);
  EXPECT_EQ(c.adapter.redis.pub.username, "fu");
  EXPECT_EQ(c.adapter.redis.pub.password, "fp");
  EXPECT_EQ(c.adapter.redis.sub.host, "redis-file");
}

TEST_F(ConfigClusterTest, PoolSizeIsOneWithoutPooling) {
  auto loaded = LoadEnv({{"DATABASE_POOLING_ENABLED", "false"}, {"DATABASE_POOL_MIN", "0"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.RedisPoolSize(), 1);
}

TEST_F(ConfigClusterTest, EmptyEnvClearsOnlyWhereTheSpecSaysSo) {
  const std::string file = R"({"database": {"redis": {"username": "u", "password": "p",
      "sentinel_password": "sp", "master_tls": {"ca_path": "/nonexistent/ca.pem"}}}})";
  auto loaded = Load(file, {{"DATABASE_REDIS_USERNAME", ""},
                            {"DATABASE_REDIS_PASSWORD", ""},
                            {"DATABASE_REDIS_SENTINEL_PASSWORD", ""},
                            {"DATABASE_REDIS_MASTER_TLS_CA_PATH", ""}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->config.redis.username.has_value());           // empty → null
  EXPECT_EQ(loaded->config.redis.password, "p");                     // empty = unset
  EXPECT_FALSE(loaded->config.redis.sentinel_password.has_value());  // empty → null
  EXPECT_FALSE(loaded->config.redis.master_tls.ca_path.has_value());
}

TEST_F(ConfigClusterTest, RangesAndTypes) {
  struct Case {
    std::string json;
    std::map<std::string, std::string> env;
    std::string expected;
  };
  const Case cases[] = {
      {R"({"adapter": {"redis": {"requests_timeout": 0}}})",
       {},
       "adapter.redis.requests_timeout: must be > 0, got 0"},
      {R"({"adapter": {"cluster": {"request_timeout_ms": 0}}})",
       {},
       "adapter.cluster.request_timeout_ms: must be > 0, got 0"},
      {"{}", {{"NATS_REQUEST_TIMEOUT_MS", "0"}}, "NATS_REQUEST_TIMEOUT_MS: must be > 0, got 0"},
      {R"({"adapter": {"nats": {"connection_timeout_ms": -5}}})",
       {},
       "adapter.nats.connection_timeout_ms: must be > 0, got -5"},
      {R"({"adapter": {"nats": {"presence_sync_chunk_size": 0}}})",
       {},
       "adapter.nats.presence_sync_chunk_size: must be > 0, got 0"},
      {"{}",
       {{"NATS_PRESENCE_SYNC_CHUNK_SIZE", "0"}},
       "NATS_PRESENCE_SYNC_CHUNK_SIZE: must be > 0, got 0"},
      {R"({"adapter": {"nats": {"nodes_number": 0}}})",
       {},
       "adapter.nats.nodes_number: must be > 0, got 0"},
      {"{}", {{"NATS_NODES_NUMBER", "0"}}, "NATS_NODES_NUMBER: must be > 0, got 0"},
      {"{}",
       {{"NATS_SUBSCRIPTION_CAPACITY", "0"}},
       "NATS_SUBSCRIPTION_CAPACITY: must be > 0, got 0"},
      {"{}", {{"NATS_MAX_RECONNECTS", "-1"}}, "NATS_MAX_RECONNECTS: must be >= 0, got -1"},
      {"{}",
       {{"REDIS_CONNECTION_POOL_SIZE", "0"}},
       "REDIS_CONNECTION_POOL_SIZE: must be > 0, got 0"},
      {"{}", {{"DATABASE_POOL_MAX", "0"}}, "DATABASE_POOL_MAX: must be > 0, got 0"},
      {"{}", {{"DATABASE_POOL_MIN", "-1"}}, "DATABASE_POOL_MIN: must be >= 0, got -1"},
      {"{}",
       {{"DATABASE_REDIS_PORT", "0"}},
       "DATABASE_REDIS_PORT: must be between 1 and 65535, got 0"},
      {"{}", {{"DATABASE_REDIS_DB", "x"}}, "DATABASE_REDIS_DB: expected integer, got \"x\""},
      {"{}", {{"NATS_NO_ECHO", "maybe"}}, "NATS_NO_ECHO: expected boolean, got \"maybe\""},
      {R"({"adapter": {"cluster": {"use_sharded_pubsub": "yes"}}})",
       {},
       "adapter.cluster.use_sharded_pubsub: expected a boolean"},
      {R"({"adapter": {"nats": {"servers": "nats://a"}}})",
       {},
       "adapter.nats.servers: expected an array of strings"},
      {R"({"adapter": {"redis": {"redis_pub_options": {"url": 5}}}})",
       {},
       "adapter.redis.redis_pub_options.url: expected a string, got 5"},
      {R"({"adapter": {"cluster": {"nodes": "a:1"}}})",
       {},
       "adapter.cluster.nodes: expected an array"},
      {R"({"database": {"redis": {"sentinels": [{"host": "s", "port": 0}]}}})",
       {},
       "database.redis.sentinels: cannot parse"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Errors(c.json, c.env), HasSubstr("config error: " + c.expected)) << c.expected;
  }
}

// ---- adapter.driver ----

TEST_F(ConfigClusterTest, AdapterDrivers) {
  for (const char* driver : {"local", "redis", "nats", "REDIS", " nats "}) {
    auto loaded = LoadEnv({{"ADAPTER_DRIVER", driver}});
    ASSERT_TRUE(loaded.ok()) << driver << ": " << loaded.status();
  }
  auto cluster = LoadEnv({{"ADAPTER_DRIVER", "redis_cluster"}, {"REDIS_CLUSTER_NODES", "a"}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EXPECT_EQ(cluster->config.adapter.driver, "redis-cluster");
  EXPECT_TRUE(cluster->config.adapter.UsesRedisCluster());

  for (const char* driver : {"kafka", "rabbitmq", "pulsar", "google-pubsub", "iggy"}) {
    EXPECT_THAT(Errors(absl::StrCat(R"({"adapter": {"driver": ")", driver, R"("}})")),
                HasSubstr(absl::StrCat("config error: adapter.driver: \"", driver,
                                       "\" is not supported by this server")));
  }
  EXPECT_THAT(Errors("{}", {{"ADAPTER_DRIVER", "x"}}),
              HasSubstr("config error: adapter.driver: unknown driver \"x\" (expected local, "
                        "redis, redis-cluster, nats)"));
}

// ---- Redis URLs (spec/config.md §5.2) ----

TEST_F(ConfigClusterTest, RedisUrlForms) {
  struct Case {
    std::string url;
    std::string host;
    int64_t port;
    int64_t db;
    std::optional<std::string> username;
    std::optional<std::string> password;
    bool tls;
  };
  const Case cases[] = {
      {"redis://cache", "cache", 6379, 0, std::nullopt, std::nullopt, false},
      {"redis://cache:6380", "cache", 6380, 0, std::nullopt, std::nullopt, false},
      {"redis://cache:6380/", "cache", 6380, 0, std::nullopt, std::nullopt, false},
      {"redis://cache:6380/7", "cache", 6380, 7, std::nullopt, std::nullopt, false},
      {"redis://cache/2", "cache", 6379, 2, std::nullopt, std::nullopt, false},
      {"redis://:secret@cache", "cache", 6379, 0, std::nullopt, "secret", false},
      {"redis://alice@cache", "cache", 6379, 0, "alice", std::nullopt, false},
      {"redis://alice:secret@cache:1/3", "cache", 1, 3, "alice", "secret", false},
      {"redis://al%69ce:p%40ss%3Aw%2Fd%25@cache", "cache", 6379, 0, "alice", "p@ss:w/d%", false},
      {"redis://u:p@ss@cache", "cache", 6379, 0, "u", "p@ss", false},
      {"REDIS://Cache", "Cache", 6379, 0, std::nullopt, std::nullopt, false},
      {"rediss://cache", "cache", 6379, 0, std::nullopt, std::nullopt, true},
      {"rediss://u:p@cache:6390/1", "cache", 6390, 1, "u", "p", true},
      {"redis://[::1]:7000/1", "::1", 7000, 1, std::nullopt, std::nullopt, false},
      {"redis://[fe80::2]", "fe80::2", 6379, 0, std::nullopt, std::nullopt, false},
      {"redis://10.0.0.5:6379/0?protocol=resp3", "10.0.0.5", 6379, 0, std::nullopt, std::nullopt,
       false},
  };
  for (const Case& c : cases) {
    auto loaded = LoadEnv({{"REDIS_URL", c.url}});
    ASSERT_TRUE(loaded.ok()) << c.url << ": " << loaded.status();
    for (const RedisTarget* t :
         {&loaded->config.adapter.redis.pub, &loaded->config.adapter.redis.sub}) {
      EXPECT_EQ(t->host, c.host) << c.url;
      EXPECT_EQ(t->port, c.port) << c.url;
      EXPECT_EQ(t->db, c.db) << c.url;
      EXPECT_EQ(t->username, c.username) << c.url;
      EXPECT_EQ(t->password, c.password) << c.url;
      EXPECT_EQ(t->tls, c.tls) << c.url;
      EXPECT_EQ(t->tls_options.enabled, c.tls) << c.url;
      EXPECT_TRUE(t->sentinels.empty()) << c.url;
    }
  }
}

TEST_F(ConfigClusterTest, UnparsableUrlsNameTheKeyThatCarriedThem) {
  const char* bad[] = {"cache:6379",
                       "http://cache",
                       "redis://",
                       "redis://:p@",
                       "redis://cache:0",
                       "redis://cache:65536",
                       "redis://cache:port",
                       "redis://cache/x",
                       "redis://cache/1/2",
                       "redis://cache#frag",
                       "redis://u:%zz@cache",
                       "redis://::1:6379",
                       "redis://a b",
                       "redis+sentinel://",
                       "redis+sentinel://s/n/0/x",
                       "redis+sentinel://s:1,/n"};
  for (const char* url : bad) {
    EXPECT_THAT(Errors("{}", {{"REDIS_URL", url}}),
                HasSubstr("config error: REDIS_URL: cannot parse"))
        << url;
  }
  EXPECT_THAT(
      Errors(R"({"adapter": {"redis": {"redis_pub_options": {"url": "nope"}}}})"),
      HasSubstr("config error: adapter.redis.redis_pub_options.url: cannot parse \"nope\""));
  EXPECT_THAT(Errors(R"({"adapter": {"redis": {"redis_sub_options": {"url": "nope"}}}})"),
              HasSubstr("config error: adapter.redis.redis_sub_options.url: cannot parse"));
  // The legacy alias reports under its canonical key.
  EXPECT_THAT(Errors(R"({"adapter": {"redis_settings": {"dsn": "nope"}}})"),
              HasSubstr("config error: adapter.redis.redis_pub_options.url: cannot parse"));
  // Credentials of an unparsable URL stay out of the message.
  const std::string message = Errors("{}", {{"REDIS_URL", "redis://u:hunter2@cache:x"}});
  EXPECT_THAT(message, HasSubstr("REDIS_URL: cannot parse \"redis://u:***@cache:x\""));
  EXPECT_THAT(message, Not(HasSubstr("hunter2")));
}

TEST_F(ConfigClusterTest, SentinelUrl) {
  auto loaded =
      Load(R"({"database": {"redis": {"host": "ignored", "username": "dbu",
      "password": "dbp", "sentinel_tls": {"enabled": true}}}})",
           {{"REDIS_URL",
             "redis+sentinel://:s%40pw@s1:26380,s2,[::1]:26381/prim%61ry/4?password=m%26pw&"
             "username=mu"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const RedisTarget& t = loaded->config.adapter.redis.pub;
  ASSERT_EQ(t.sentinels.size(), 3u);
  EXPECT_EQ(t.sentinels[0].host, "s1");
  EXPECT_EQ(t.sentinels[0].port, 26380);
  EXPECT_EQ(t.sentinels[1].host, "s2");
  EXPECT_EQ(t.sentinels[1].port, 26379);
  EXPECT_EQ(t.sentinels[2].host, "::1");
  EXPECT_EQ(t.sentinels[2].port, 26381);
  EXPECT_EQ(t.sentinel_name, "primary");
  EXPECT_EQ(t.db, 4);
  EXPECT_FALSE(t.sentinel_username.has_value());
  EXPECT_EQ(t.sentinel_password, "s@pw");
  EXPECT_EQ(t.password, "m&pw");
  EXPECT_EQ(t.username, "mu");
  EXPECT_TRUE(t.sentinel_tls.enabled);
  EXPECT_FALSE(t.tls);
  EXPECT_EQ(loaded->config.adapter.redis.sub.sentinel_name, "primary");

  // Without name, db and credentials: database.redis.name, db 0, no master credentials, the
  // sentinel credentials of database.redis.
  auto bare = Load(R"({"database": {"redis": {"name": "cfgname", "password": "dbp",
      "sentinel_password": "sp"}}})",
                   {{"REDIS_URL", "redis+sentinel://s1"}});
  ASSERT_TRUE(bare.ok()) << bare.status();
  const RedisTarget& b = bare->config.adapter.redis.pub;
  ASSERT_EQ(b.sentinels.size(), 1u);
  EXPECT_EQ(b.sentinels[0].port, 26379);
  EXPECT_EQ(b.sentinel_name, "cfgname");
  EXPECT_EQ(b.db, 0);
  EXPECT_FALSE(b.password.has_value());
  EXPECT_EQ(b.sentinel_password, "sp");
}

TEST_F(ConfigClusterTest, RedissKeepsMasterTlsFiles) {
  const std::string ca = TempFile("ca.pem");
  auto loaded = LoadEnv({{"REDIS_URL", "rediss://cache"},
                         {"DATABASE_REDIS_MASTER_TLS_CA_PATH", ca},
                         {"DATABASE_REDIS_MASTER_TLS_ACCEPT_INVALID_CERTS", "true"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const RedisTarget& t = loaded->config.adapter.redis.pub;
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.tls_options.ca_path, ca);
  EXPECT_TRUE(t.tls_options.accept_invalid_certs);
  EXPECT_THAT(loaded->warnings,
              Contains(HasSubstr("database.redis.master_tls.accept_invalid_certs: certificate "
                                 "verification is disabled")));

  // master_tls.enabled turns TLS on for a redis:// URL and for database.redis.
  auto enabled = LoadEnv({{"DATABASE_REDIS_MASTER_TLS_ENABLED", "1"}});
  ASSERT_TRUE(enabled.ok());
  EXPECT_TRUE(enabled->config.adapter.redis.pub.tls);
  auto url = LoadEnv({{"DATABASE_REDIS_MASTER_TLS_ENABLED", "1"}, {"REDIS_URL", "redis://c"}});
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->config.adapter.redis.pub.tls);
}

// ---- precedence (spec/config.md §1, §5.1) ----

TEST_F(ConfigClusterTest, PubAndSubUrls) {
  auto both = Load(R"({"adapter": {"redis": {
      "redis_pub_options": {"url": "redis://pub:1/1"},
      "redis_sub_options": {"url": "redis://sub:2/2"}}}})");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->config.adapter.redis.pub.host, "pub");
  EXPECT_EQ(both->config.adapter.redis.sub.host, "sub");
  EXPECT_EQ(both->config.adapter.redis.sub.db, 2);

  // The subscriber defaults to the publisher's URL, not to database.redis.
  auto pub_only = Load(R"({"adapter": {"redis": {"redis_pub_options": {"url": "redis://pub"}}},
      "database": {"redis": {"host": "db"}}})");
  ASSERT_TRUE(pub_only.ok());
  EXPECT_EQ(pub_only->config.adapter.redis.sub.host, "pub");

  // Only a sub URL: the publisher uses database.redis.
  auto sub_only = Load(R"({"adapter": {"redis": {"redis_sub_options": {"url": "redis://sub"}}},
      "database": {"redis": {"host": "db"}}})");
  ASSERT_TRUE(sub_only.ok());
  EXPECT_EQ(sub_only->config.adapter.redis.pub.host, "db");
  EXPECT_EQ(sub_only->config.adapter.redis.sub.host, "sub");
}

TEST_F(ConfigClusterTest, PrecedenceFileEnvRedisUrl) {
  const std::string file = R"({"database": {"redis": {"host": "file-host", "port": 7000,
      "password": "file-pw", "sentinels": [{"host": "s1"}]}}})";
  // file < env: DATABASE_REDIS_* beat the file.
  auto env = Load(R"({"database": {"redis": {"host": "file-host", "port": 7000}}})",
                  {{"DATABASE_REDIS_HOST", "env-host"}, {"DATABASE_REDIS_PORT", "7001"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->config.adapter.redis.pub.host, "env-host");
  EXPECT_EQ(env->config.adapter.redis.pub.port, 7001);

  // Sentinel beats the direct host when no URL is set.
  auto sentinel = Load(file);
  ASSERT_TRUE(sentinel.ok()) << sentinel.status();
  ASSERT_EQ(sentinel->config.adapter.redis.pub.sentinels.size(), 1u);
  EXPECT_EQ(sentinel->config.adapter.redis.pub.sentinels[0].port, 26379);
  EXPECT_EQ(sentinel->config.adapter.redis.pub.password, "file-pw");

  // The url option beats Sentinel and database.redis.
  auto option = Load(R"({"adapter": {"redis": {"redis_pub_options": {"url": "redis://opt"}}},
      "database": {"redis": {"host": "file-host", "sentinels": [{"host": "s1"}]}}})");
  ASSERT_TRUE(option.ok());
  EXPECT_EQ(option->config.adapter.redis.pub.host, "opt");
  EXPECT_TRUE(option->config.adapter.redis.pub.sentinels.empty());
  EXPECT_FALSE(option->config.adapter.redis.pub.password.has_value());

  // REDIS_URL beats everything, url options included, for pub and sub.
  auto redis_url =
      Load(R"({"adapter": {"redis": {
      "redis_pub_options": {"url": "redis://opt"}, "redis_sub_options": {"url": "redis://opt2"}}},
      "database": {"redis": {"host": "file-host", "password": "file-pw",
                             "sentinels": [{"host": "s1"}]}}})",
           {{"REDIS_URL", "redis://winner:6000/9"}, {"DATABASE_REDIS_HOST", "env-host"}});
  ASSERT_TRUE(redis_url.ok()) << redis_url.status();
  for (const RedisTarget* t :
       {&redis_url->config.adapter.redis.pub, &redis_url->config.adapter.redis.sub}) {
    EXPECT_EQ(t->host, "winner");
    EXPECT_EQ(t->port, 6000);
    EXPECT_EQ(t->db, 9);
    EXPECT_FALSE(t->password.has_value());
    EXPECT_TRUE(t->sentinels.empty());
  }
  // database.redis itself keeps its values (other consumers, cluster seeds).
  EXPECT_EQ(redis_url->config.redis.host, "env-host");
}

TEST_F(ConfigClusterTest, LegacyDsnAlias) {
  auto loaded = Load(R"({"adapter": {"redis_settings": {"dsn": "redis://legacy:6390"}}})");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.adapter.redis.pub.host, "legacy");
  EXPECT_EQ(loaded->config.adapter.redis.sub.host, "legacy");
  EXPECT_TRUE(loaded->warnings.empty());

  auto conflict = Load(R"({"adapter": {"redis_settings": {"dsn": "redis://legacy"},
      "redis": {"redis_pub_options": {"url": "redis://canonical"}}}})");
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->config.adapter.redis.pub.host, "canonical");
  EXPECT_EQ(conflict->config.adapter.redis.sub.host, "canonical");
  EXPECT_THAT(conflict->warnings,
              Contains("adapter.redis.redis_pub_options.url and adapter.redis_settings.dsn differ; "
                       "using adapter.redis.redis_pub_options.url"));

  auto overridden = Load(R"({"adapter": {"redis_settings": {"dsn": "redis://legacy"}}})",
                         {{"REDIS_URL", "redis://env"}});
  ASSERT_TRUE(overridden.ok());
  EXPECT_EQ(overridden->config.adapter.redis.pub.host, "env");
}

// ---- database.redis host, sentinels ----

TEST_F(ConfigClusterTest, HostMayCarryAScheme) {
  auto tls = Load(R"({"database": {"redis": {"host": "rediss://secure.example", "port": 6390}}})");
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(tls->config.redis.host, "secure.example");
  EXPECT_EQ(tls->config.redis.port, 6390);
  EXPECT_TRUE(tls->config.redis.master_tls.enabled);
  EXPECT_TRUE(tls->config.adapter.redis.pub.tls);
  EXPECT_EQ(tls->config.adapter.redis.pub.host, "secure.example");

  auto plain = LoadEnv({{"DATABASE_REDIS_HOST", "redis://plain:6400"}});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->config.redis.host, "plain");
  EXPECT_EQ(plain->config.redis.port, 6400);
  EXPECT_FALSE(plain->config.adapter.redis.pub.tls);

  EXPECT_THAT(Errors(R"({"database": {"redis": {"host": "ftp://x"}}})"),
              HasSubstr("config error: database.redis.host: cannot parse \"ftp://x\""));
}

TEST_F(ConfigClusterTest, Sentinels) {
  auto file = Load(R"({"database": {"redis": {
      "sentinels": [{"host": "s1", "port": 26380}, {"host": "s2"}, "s3:1234"],
      "name": "mm", "db": 2, "username": "u", "password": "p",
      "sentinel_username": "su", "sentinel_password": "sp",
      "sentinel_tls": {"enabled": true, "acceptInvalidCerts": true}}}})");
  ASSERT_TRUE(file.ok()) << file.status();
  const RedisTarget& t = file->config.adapter.redis.pub;
  ASSERT_EQ(t.sentinels.size(), 3u);
  EXPECT_EQ(t.sentinels[0].host, "s1");
  EXPECT_EQ(t.sentinels[0].port, 26380);
  EXPECT_EQ(t.sentinels[1].port, 26379);
  EXPECT_EQ(t.sentinels[2].port, 1234);
  EXPECT_EQ(t.sentinel_name, "mm");
  EXPECT_EQ(t.db, 2);
  EXPECT_EQ(t.username, "u");
  EXPECT_EQ(t.password, "p");
  EXPECT_EQ(t.sentinel_username, "su");
  EXPECT_EQ(t.sentinel_password, "sp");
  EXPECT_TRUE(t.sentinel_tls.enabled);
  EXPECT_TRUE(t.sentinel_tls.accept_invalid_certs);  // acceptInvalidCerts alias

  auto env = Load(R"({"database": {"redis": {"sentinels": [{"host": "file"}]}}})",
                  {{"DATABASE_REDIS_SENTINELS", "e1, e2:26390 ,"}, {"DATABASE_REDIS_NAME", "n"}});
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_EQ(env->config.redis.sentinels.size(), 2u);
  EXPECT_EQ(env->config.redis.sentinels[0].host, "e1");
  EXPECT_EQ(env->config.redis.sentinels[1].port, 26390);
  EXPECT_EQ(env->config.adapter.redis.pub.sentinel_name, "n");

  EXPECT_THAT(Errors("{}", {{"DATABASE_REDIS_SENTINELS", "ok,bad:port"}}),
              HasSubstr("config error: DATABASE_REDIS_SENTINELS: cannot parse \"bad:port\""));
}

// ---- cluster seeds (spec/config.md §5.3) ----

TEST_F(ConfigClusterTest, SeedForms) {
  auto loaded = LoadEnv({{"ADAPTER_DRIVER", "redis-cluster"},
                         {"REDIS_CLUSTER_NODES",
                          "a, b:7001,[::1]:7002,[::2],fe80::3,redis://u:p%40w@c:7003,redis://d,"
                          "redis://e:7004/0"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const auto& nodes = loaded->config.adapter.cluster.nodes;
  ASSERT_EQ(nodes.size(), 8u);
  EXPECT_EQ(nodes[0].host, "a");
  EXPECT_EQ(nodes[0].port, 6379);
  EXPECT_EQ(nodes[1].host, "b");
  EXPECT_EQ(nodes[1].port, 7001);
  EXPECT_EQ(nodes[2].host, "::1");
  EXPECT_EQ(nodes[2].port, 7002);
  EXPECT_EQ(nodes[3].host, "::2");
  EXPECT_EQ(nodes[3].port, 6379);
  EXPECT_EQ(nodes[4].host, "fe80::3");
  EXPECT_EQ(nodes[4].port, 6379);
  EXPECT_EQ(nodes[5].host, "c");
  EXPECT_EQ(nodes[5].port, 7003);
  EXPECT_EQ(nodes[5].username, "u");
  EXPECT_EQ(nodes[5].password, "p@w");
  EXPECT_EQ(nodes[6].host, "d");
  EXPECT_EQ(nodes[6].port, 6379);
  EXPECT_EQ(nodes[7].port, 7004);
  for (const RedisSeed& seed : nodes) EXPECT_FALSE(seed.tls);
  EXPECT_FALSE(loaded->config.adapter.cluster.tls);
  // The env list sets database.redis.cluster.nodes as well.
  EXPECT_EQ(loaded->config.redis.cluster.nodes.size(), 8u);

  for (const char* bad : {"a:0", "a:b", "http://x", "redis://", "[::1", "a b", "redis://x/y"}) {
    EXPECT_THAT(Errors("{}", {{"REDIS_CLUSTER_NODES", bad}}),
                HasSubstr("config error: REDIS_CLUSTER_NODES: cannot parse"))
        << bad;
  }
  EXPECT_THAT(Errors(R"({"adapter": {"cluster": {"nodes": ["ok", "bad:port"]}}})"),
              HasSubstr("config error: adapter.cluster.nodes: cannot parse \"bad:port\""));
  EXPECT_THAT(
      Errors(R"({"database": {"redis": {"cluster": {"nodes": [{"host": "h", "port": 99999}]}}}})"),
      HasSubstr("config error: database.redis.cluster.nodes: port must be between 1 and 65535"));
  EXPECT_THAT(Errors(R"({"database": {"redis": {"cluster_nodes": [5]}}})"),
              HasSubstr("config error: database.redis.cluster_nodes: expected a seed URL"));
}

TEST_F(ConfigClusterTest, SeedSourcesAndFallbacks) {
  // adapter.cluster.nodes first.
  auto adapter = Load(R"({"adapter": {"cluster": {"nodes": ["x:1"]}},
      "database": {"redis": {"cluster": {"nodes": [{"host": "y", "port": 2}]},
                             "cluster_nodes": [{"host": "z", "port": 3}]}}})");
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  ASSERT_EQ(adapter->config.adapter.cluster.nodes.size(), 1u);
  EXPECT_EQ(adapter->config.adapter.cluster.nodes[0].host, "x");
  ASSERT_EQ(adapter->config.redis.cluster.nodes.size(), 1u);
  EXPECT_EQ(adapter->config.redis.cluster.nodes[0].host, "y");
  EXPECT_EQ(adapter->config.redis.cluster.nodes[0].port, 2);

  // Then database.redis.cluster.nodes ({host, port} objects, host may be a URL).
  auto db = Load(R"({"database": {"redis": {"cluster": {"nodes": [
      {"host": "y", "port": 2}, {"host": "rediss://w:9"}, {"host": "v"}]}}}})");
  ASSERT_TRUE(db.ok()) << db.status();
  const auto& nodes = db->config.adapter.cluster.nodes;
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].host, "y");
  EXPECT_EQ(nodes[1].host, "w");
  EXPECT_EQ(nodes[1].port, 9);
  EXPECT_EQ(nodes[2].port, 6379);
  for (const RedisSeed& seed : nodes) EXPECT_TRUE(seed.tls);  // one rediss:// seed
  EXPECT_TRUE(db->config.adapter.cluster.tls);
  EXPECT_TRUE(db->config.adapter.cluster.tls_options.enabled);

  // Then the legacy cluster_nodes.
  auto legacy = Load(R"({"database": {"redis": {"cluster_nodes": [{"host": "z", "port": 3}]}}})");
  ASSERT_TRUE(legacy.ok());
  ASSERT_EQ(legacy->config.adapter.cluster.nodes.size(), 1u);
  EXPECT_EQ(legacy->config.adapter.cluster.nodes[0].host, "z");
  ASSERT_EQ(legacy->config.redis.cluster.nodes.size(), 1u);

  // Legacy adapter.redis_cluster_settings.dsns (array or comma list).
  auto dsns = Load(R"({"adapter": {"redis_cluster_settings": {"dsns": "p:1, q:2"}}})");
  ASSERT_TRUE(dsns.ok()) << dsns.status();
  ASSERT_EQ(dsns->config.adapter.cluster.nodes.size(), 2u);
  EXPECT_EQ(dsns->config.adapter.cluster.nodes[1].host, "q");

  // Env beats the file; DATABASE_REDIS_CLUSTER_NODES beats REDIS_CLUSTER_NODES.
  auto env = Load(R"({"adapter": {"cluster": {"nodes": ["x:1"]}}})",
                  {{"REDIS_CLUSTER_NODES", "r1"}, {"DATABASE_REDIS_CLUSTER_NODES", "d1,d2"}});
  ASSERT_TRUE(env.ok());
  ASSERT_EQ(env->config.adapter.cluster.nodes.size(), 2u);
  EXPECT_EQ(env->config.adapter.cluster.nodes[0].host, "d1");
  auto generic =
      Load(R"({"adapter": {"cluster": {"nodes": ["x:1"]}}})", {{"REDIS_CLUSTER_NODES", "r1"}});
  ASSERT_TRUE(generic.ok());
  ASSERT_EQ(generic->config.adapter.cluster.nodes.size(), 1u);
  EXPECT_EQ(generic->config.adapter.cluster.nodes[0].host, "r1");
}

TEST_F(ConfigClusterTest, SeedCredentialsAndTls) {
  // Embedded credentials win, else cluster.username/password, else database.redis.
  auto cluster_creds = Load(R"({"database": {"redis": {"username": "dbu", "password": "dbp",
      "cluster": {"username": "cu", "password": "cp",
                  "nodes": ["plain:1", "redis://eu:ep@emb:2", "redis://:only@pw:3"]}}}})");
  ASSERT_TRUE(cluster_creds.ok()) << cluster_creds.status();
  const auto& n = cluster_creds->config.adapter.cluster.nodes;
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0].username, "cu");
  EXPECT_EQ(n[0].password, "cp");
  EXPECT_EQ(n[1].username, "eu");
  EXPECT_EQ(n[1].password, "ep");
  EXPECT_FALSE(n[2].username.has_value());
  EXPECT_EQ(n[2].password, "only");

  auto db_creds = Load(R"({"database": {"redis": {"username": "dbu", "password": "dbp",
      "cluster": {"nodes": ["plain:1"]}}}})",
                       {{"DATABASE_REDIS_CLUSTER_PASSWORD", "envcp"}});
  ASSERT_TRUE(db_creds.ok());
  EXPECT_EQ(db_creds->config.adapter.cluster.nodes[0].username, "dbu");
  EXPECT_EQ(db_creds->config.adapter.cluster.nodes[0].password, "envcp");

  // TLS from cluster.use_tls (and its useTLS alias), or master_tls.enabled.
  for (const std::string file : {
           R"({"database": {"redis": {"cluster": {"use_tls": true}}}})",
           R"({"database": {"redis": {"cluster": {"useTLS": true}}}})",
           R"({"database": {"redis": {"master_tls": {"enabled": true}}}})",
       }) {
    auto loaded = Load(file, {{"REDIS_CLUSTER_NODES", "a,b"}});
    ASSERT_TRUE(loaded.ok()) << file << loaded.status();
    EXPECT_TRUE(loaded->config.adapter.cluster.tls) << file;
    EXPECT_TRUE(loaded->config.adapter.cluster.nodes[0].tls) << file;
    EXPECT_TRUE(loaded->config.redis.cluster.nodes[1].tls) << file;
  }
  auto env_tls = LoadEnv({{"REDIS_CLUSTER_NODES", "a"}, {"DATABASE_REDIS_CLUSTER_USE_TLS", "on"}});
  ASSERT_TRUE(env_tls.ok());
  EXPECT_TRUE(env_tls->config.adapter.cluster.tls);
  // REDIS_URL never affects the seeds.
  auto url = LoadEnv({{"REDIS_CLUSTER_NODES", "a"}, {"REDIS_URL", "rediss://u:p@x"}});
  ASSERT_TRUE(url.ok());
  EXPECT_FALSE(url->config.adapter.cluster.tls);
  EXPECT_FALSE(url->config.adapter.cluster.nodes[0].password.has_value());
}

TEST_F(ConfigClusterTest, ClusterDriverNeedsSeeds) {
  const std::string expected =
      "config error: adapter.cluster.nodes: no Redis Cluster seed nodes configured";
  EXPECT_THAT(Errors("{}", {{"ADAPTER_DRIVER", "redis-cluster"}}), HasSubstr(expected));
  EXPECT_THAT(Errors(R"({"adapter": {"driver": "redis", "redis": {"cluster_mode": true}}})"),
              HasSubstr(expected));
  // A REDIS_URL is no seed.
  EXPECT_THAT(Errors("{}", {{"ADAPTER_DRIVER", "redis_cluster"}, {"REDIS_URL", "redis://x"}}),
              HasSubstr(expected));
  auto mode = Load(R"({"adapter": {"driver": "redis", "redis": {"cluster_mode": true}}})",
                   {{"DATABASE_REDIS_CLUSTER_NODES", "a:7000"}});
  ASSERT_TRUE(mode.ok()) << mode.status();
  EXPECT_TRUE(mode->config.adapter.UsesRedisCluster());
  EXPECT_THAT(mode->warnings, Contains(HasSubstr("adapter.redis.cluster_mode: the redis driver "
                                                 "runs as redis-cluster")));
}

// ---- NATS (spec/config.md §3.4) ----

TEST_F(ConfigClusterTest, NatsServersAndAliases) {
  auto env = LoadEnv({{"NATS_SERVERS", "nats://a:4222, tls://b:4443"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_THAT(env->config.adapter.nats.servers, ElementsAre("nats://a:4222", "tls://b:4443"));
  EXPECT_TRUE(env->config.adapter.nats.tls.enabled);  // a tls:// server

  auto alias = Load(R"({"adapter": {"nats_settings": {"url": "nats://x:1,nats://y:2",
      "subject_prefix": "sockudo_events"}}})");
  ASSERT_TRUE(alias.ok()) << alias.status();
  EXPECT_THAT(alias->config.adapter.nats.servers, ElementsAre("nats://x:1", "nats://y:2"));
  EXPECT_EQ(alias->config.adapter.nats.prefix, "sockudo_events");
  EXPECT_FALSE(alias->config.adapter.nats.tls.enabled);

  auto conflict = Load(R"({"adapter": {"nats_settings": {"subject_prefix": "old"},
      "nats": {"prefix": "new"}}})");
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->config.adapter.nats.prefix, "new");
  EXPECT_THAT(conflict->warnings,
              Contains("adapter.nats.prefix and adapter.nats_settings.subject_prefix differ; "
                       "using adapter.nats.prefix"));

  EXPECT_THAT(Errors(R"({"adapter": {"nats": {"servers": []}}})"),
              HasSubstr("config error: adapter.nats.servers: must not be empty"));
  EXPECT_THAT(Errors("{}", {{"NATS_SERVERS", "http://u:pw@x"}}),
              HasSubstr("config error: adapter.nats.servers: expected nats:// or tls:// URLs, got "
                        "\"http://u:***@x\""));
}

TEST_F(ConfigClusterTest, NatsAuthentication) {
  auto user = LoadEnv({{"NATS_USERNAME", "u"}, {"NATS_PASSWORD", "p"}});
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->config.adapter.nats.username, "u");
  auto token = LoadEnv({{"NATS_TOKEN", "t"}});
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->config.adapter.nats.token, "t");
  const std::string creds = TempFile("nats.creds");
  auto file = LoadEnv({{"NATS_CREDENTIALS_FILE", creds}});
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->config.adapter.nats.credentials_file, creds);

  EXPECT_THAT(Errors("{}", {{"NATS_USERNAME", "u"}}),
              HasSubstr("config error: adapter.nats.username: requires adapter.nats.password"));
  EXPECT_THAT(Errors(R"({"adapter": {"nats": {"password": "p"}}})"),
              HasSubstr("config error: adapter.nats.password: requires adapter.nats.username"));
  EXPECT_THAT(Errors("{}", {{"NATS_USERNAME", "u"}, {"NATS_PASSWORD", "p"}, {"NATS_TOKEN", "t"}}),
              HasSubstr("config error: adapter.nats: only one authentication method may be "
                        "configured, got adapter.nats.username/password, adapter.nats.token"));
  EXPECT_THAT(Errors("{}", {{"NATS_TOKEN", "t"}, {"NATS_CREDENTIALS_FILE", creds}}),
              HasSubstr("got adapter.nats.token, adapter.nats.credentials_file"));
  EXPECT_THAT(Errors("{}", {{"NATS_CREDENTIALS_FILE", "/nonexistent/x.creds"}}),
              HasSubstr("config error: adapter.nats.credentials_file: file not readable: "
                        "\"/nonexistent/x.creds\""));
  // An empty credential in the file is no credential.
  auto empty = Load(R"({"adapter": {"nats": {"username": "", "password": "", "token": "t"}}})");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_FALSE(empty->config.adapter.nats.username.has_value());
}

TEST_F(ConfigClusterTest, NatsPrefixRules) {
  for (const char* ok : {"sockudo_adapter:", "a.b", "events-1"}) {
    EXPECT_TRUE(LoadEnv({{"NATS_PREFIX", ok}}).ok()) << ok;
  }
  EXPECT_THAT(Errors(R"({"adapter": {"nats": {"prefix": ""}}})"),
              HasSubstr("config error: adapter.nats.prefix: must not be empty"));
  for (const char* bad : {"a b", "a\tb", "a.*", "a.>"}) {
    EXPECT_THAT(Errors("{}", {{"NATS_PREFIX", bad}}),
                HasSubstr("config error: adapter.nats.prefix: must not contain whitespace, '*' or "
                          "'>'"))
        << bad;
  }
  EXPECT_THAT(Errors("{}", {{"NATS_PREFIX", "events."}}),
              HasSubstr("config error: adapter.nats.prefix: must not end with '.'"));
}

TEST_F(ConfigClusterTest, NatsTls) {
  const std::string ca = TempFile("nats-ca.pem");
  const std::string cert = TempFile("nats-cert.pem");
  const std::string key = TempFile("nats-key.pem");
  auto loaded = LoadEnv({{"NATS_TLS_CA_PATH", ca},
                         {"NATS_TLS_CLIENT_CERT_PATH", cert},
                         {"NATS_TLS_CLIENT_KEY_PATH", key}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->config.adapter.nats.tls.enabled);
  EXPECT_EQ(loaded->config.adapter.nats.tls.client_key_path, key);

  EXPECT_THAT(Errors("{}", {{"NATS_TLS_CLIENT_CERT_PATH", cert}}),
              HasSubstr("config error: adapter.nats.tls.client_cert_path: requires "
                        "adapter.nats.tls.client_key_path"));
  EXPECT_THAT(Errors(R"({"adapter": {"nats": {"tls": {"client_key_path": ")" + key + R"("}}}})"),
              HasSubstr("config error: adapter.nats.tls.client_key_path: requires "
                        "adapter.nats.tls.client_cert_path"));
  EXPECT_THAT(Errors("{}", {{"NATS_TLS_CA_PATH", "/nonexistent/ca.pem"}}),
              HasSubstr("config error: adapter.nats.tls.ca_path: file not readable: "
                        "\"/nonexistent/ca.pem\""));

  auto insecure = Load(R"({"adapter": {"nats": {"tls": {"acceptInvalidCerts": true}}}})");
  ASSERT_TRUE(insecure.ok()) << insecure.status();
  EXPECT_TRUE(insecure->config.adapter.nats.tls.accept_invalid_certs);
  EXPECT_THAT(insecure->warnings,
              Contains(HasSubstr("adapter.nats.tls.accept_invalid_certs: certificate verification "
                                 "is disabled")));
}

TEST_F(ConfigClusterTest, NatsDiscoveryKeysAreIgnoredWithAWarning) {
  auto loaded = Load(R"({"adapter": {"nats": {"discovery_max_wait_ms": 10,
      "discovery_idle_wait_ms": 5, "client_capacity": 3}}})",
                     {{"NATS_DISCOVERY_MAX_WAIT_MS", "10"}, {"NATS_CLIENT_CAPACITY", "2"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (const char* w :
       {"adapter.nats.discovery_max_wait_ms: ignored: not supported by this server",
        "adapter.nats.discovery_idle_wait_ms: ignored: not supported by this server",
        "adapter.nats.client_capacity: ignored: not supported by this server",
        "NATS_DISCOVERY_MAX_WAIT_MS: ignored: not supported by this server",
        "NATS_CLIENT_CAPACITY: ignored: not supported by this server"}) {
    EXPECT_THAT(loaded->warnings, Contains(w));
  }
}

// ---- TLS blocks, db, pooling (spec/config.md §19) ----

TEST_F(ConfigClusterTest, RedisTlsBlocks) {
  const std::string cert = TempFile("cert.pem");
  const std::string key = TempFile("key.pem");
  auto ok = LoadEnv({{"DATABASE_REDIS_MASTER_TLS_ENABLED", "true"},
                     {"DATABASE_REDIS_MASTER_TLS_CLIENT_CERT_PATH", cert},
                     {"DATABASE_REDIS_MASTER_TLS_CLIENT_KEY_PATH", key}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->config.adapter.redis.pub.tls_options.client_cert_path, cert);

  EXPECT_THAT(Errors("{}", {{"DATABASE_REDIS_MASTER_TLS_CLIENT_CERT_PATH", cert}}),
              HasSubstr("config error: database.redis.master_tls.client_cert_path: requires "
                        "database.redis.master_tls.client_key_path"));
  EXPECT_THAT(Errors("{}", {{"DATABASE_REDIS_SENTINEL_TLS_CLIENT_KEY_PATH", key}}),
              HasSubstr("config error: database.redis.sentinel_tls.client_key_path: requires "
                        "database.redis.sentinel_tls.client_cert_path"));
  EXPECT_THAT(
      Errors(R"({"database": {"redis": {"sentinel_tls": {"ca_path": "/nonexistent/s.pem"}}}})"),
      HasSubstr("config error: database.redis.sentinel_tls.ca_path: file not readable: "
                "\"/nonexistent/s.pem\""));
  auto insecure = Load(R"({"database": {"redis": {"master_tls": {"acceptInvalidCerts": true}}}})");
  ASSERT_TRUE(insecure.ok()) << insecure.status();
  EXPECT_TRUE(insecure->config.redis.master_tls.accept_invalid_certs);
  EXPECT_THAT(insecure->warnings,
              Contains(HasSubstr("database.redis.master_tls.accept_invalid_certs")));
}

TEST_F(ConfigClusterTest, DbAboveFifteenWarns) {
  auto loaded = LoadEnv({{"DATABASE_REDIS_DB", "16"}});
  ASSERT_TRUE(loaded.ok());
  EXPECT_THAT(loaded->warnings, Contains(HasSubstr("database.redis.db: 16 is above 15")));
  auto fifteen = LoadEnv({{"DATABASE_REDIS_DB", "15"}});
  ASSERT_TRUE(fifteen.ok());
  EXPECT_TRUE(fifteen->warnings.empty());
}

TEST_F(ConfigClusterTest, Pooling) {
  EXPECT_THAT(Errors(R"({"database_pooling": {"min": 11, "max": 10}})"),
              HasSubstr("config error: database_pooling.min: must be <= max"));
  EXPECT_THAT(Errors("{}", {{"DATABASE_POOL_MIN", "5"}, {"REDIS_CONNECTION_POOL_SIZE", "4"}}),
              HasSubstr("config error: database_pooling.min: must be <= "
                        "database.redis.connection_pool_size"));
  auto loaded = LoadEnv({{"DATABASE_MYSQL_POOL_MIN", "1"}, {"DATABASE_CONNECTION_POOL_SIZE", "3"}});
  ASSERT_TRUE(loaded.ok());
  EXPECT_THAT(loaded->warnings,
              Contains("DATABASE_MYSQL_POOL_MIN: ignored: not supported by this server"));
  EXPECT_THAT(loaded->warnings,
              Contains("DATABASE_CONNECTION_POOL_SIZE: ignored: not supported by this server"));
}

// ---- unknown keys (the sections are real now) ----

TEST_F(ConfigClusterTest, TyposInClusterSectionsWarn) {
  auto loaded = Load(R"({
    "adapter": {"redis": {"prefx": "x", "redis_pub_options": {"url": "redis://a", "host": "b"}},
                "cluster": {"nodez": []}, "nats": {"sever": []},
                "nats_settings": {"other": 1}},
    "database": {"redis": {"hots": "x", "cluster": {"nodes": [], "pasword": "x"}}},
    "database_pooling": {"maximum": 3},
    "cache": {"redis": {"prefix": "c:"}}, "queue": {"driver": "memory"}
  })");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const auto& w = loaded->warnings;
  for (const char* key : {"adapter.redis.prefx", "adapter.cluster.nodez", "adapter.nats.sever",
                          "adapter.nats_settings", "database.redis.hots",
                          "database.redis.cluster.pasword", "database_pooling.maximum"}) {
    EXPECT_THAT(w, Contains(absl::StrCat(key, ": unknown key")));
  }
  EXPECT_THAT(w,
              Contains("adapter.redis.redis_pub_options.host: ignored (only url is recognised)"));
  for (const std::string& warning : w) {
    EXPECT_THAT(warning, Not(HasSubstr("cache.redis")));
    EXPECT_THAT(warning, Not(HasSubstr("queue")));
    EXPECT_THAT(warning, Not(HasSubstr("redis_pub_options.url")));
  }
}

TEST_F(ConfigClusterTest, NullSectionsAndEmptyRedisUrlMeanDefaults) {
  auto loaded = Load(R"({"adapter": {"redis": {"redis_pub_options": {"url": ""}},
      "cluster": {"nodes": null},
      "nats": {"token": null, "tls": null}},
      "database": {"redis": {"cluster": null, "sentinels": null}}, "database_pooling": null})",
                     {{"REDIS_URL", ""}, {"REDIS_CLUSTER_NODES", ""}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->warnings.empty()) << loaded->warnings[0];
  EXPECT_EQ(loaded->config.adapter.redis.pub.host, "127.0.0.1");
  EXPECT_TRUE(loaded->config.adapter.cluster.nodes.empty());
}

// ---- warnings of a horizontal adapter (spec/config.md §19.2) ----

TEST_F(ConfigClusterTest, HorizontalAdapterWarnings) {
  auto local = LoadEnv({});
  ASSERT_TRUE(local.ok());
  EXPECT_TRUE(local->warnings.empty());

  auto redis = LoadEnv({{"ADAPTER_DRIVER", "redis"}});
  ASSERT_TRUE(redis.ok());
  EXPECT_THAT(redis->warnings,
              Contains("cache.driver: \"memory\" with adapter.driver \"redis\": cache channels and "
                       "the shared app cache level are per node"));
  EXPECT_THAT(redis->warnings,
              Contains("queue.driver: \"memory\" with adapter.driver \"redis\": webhook jobs are "
                       "lost if the node dies"));
  EXPECT_THAT(redis->warnings, Not(Contains(HasSubstr("rate_limiter"))));  // disabled by default

  auto none =
      LoadEnv({{"ADAPTER_DRIVER", "nats"}, {"CACHE_DRIVER", "none"}, {"QUEUE_DRIVER", "redis"}});
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(none->warnings,
              Contains(HasSubstr("cache.driver: \"none\" with adapter.driver \"nats\"")));
  EXPECT_THAT(none->warnings, Not(Contains(HasSubstr("queue.driver"))));

  auto limiter = Load(R"({"adapter": {"driver": "nats"}, "rate_limiter": {"enabled": true},
      "queue": {"driver": "redis"}})");
  ASSERT_TRUE(limiter.ok());
  EXPECT_THAT(limiter->warnings,
              Contains("rate_limiter.driver: \"memory\" with adapter.driver \"nats\": limits are "
                       "enforced per node (effective limit x nodes)"));
  EXPECT_THAT(limiter->warnings, Not(Contains(HasSubstr("queue.driver"))));
  auto limiter_env = LoadEnv({{"ADAPTER_DRIVER", "nats"},
                              {"RATE_LIMITER_ENABLED", "true"},
                              {"RATE_LIMITER_DRIVER", "redis"}});
  ASSERT_TRUE(limiter_env.ok());
  EXPECT_THAT(limiter_env->warnings, Not(Contains(HasSubstr("rate_limiter"))));
}

TEST_F(ConfigClusterTest, ClusterHealthWarnings) {
  const std::string local_only = "cross-node queries will only see local data";
  auto classic = LoadEnv({{"ADAPTER_DRIVER", "redis-cluster"},
                          {"REDIS_CLUSTER_NODES", "a"},
                          {"CLUSTER_HEALTH_ENABLED", "false"}});
  ASSERT_TRUE(classic.ok()) << classic.status();
  EXPECT_THAT(classic->warnings, Contains(HasSubstr(local_only)));
  auto sharded = LoadEnv({{"ADAPTER_DRIVER", "redis-cluster"},
                          {"REDIS_CLUSTER_NODES", "a"},
                          {"ADAPTER_CLUSTER_USE_SHARDED_PUBSUB", "true"},
                          {"CLUSTER_HEALTH_ENABLED", "false"}});
  ASSERT_TRUE(sharded.ok());
  EXPECT_THAT(sharded->warnings, Not(Contains(HasSubstr(local_only))));
  auto nats = LoadEnv({{"ADAPTER_DRIVER", "nats"}, {"ADAPTER_CLUSTER_HEALTH_ENABLED", "0"}});
  ASSERT_TRUE(nats.ok());
  EXPECT_THAT(nats->warnings, Contains(HasSubstr(local_only)));
  auto counted = LoadEnv({{"ADAPTER_DRIVER", "nats"},
                          {"ADAPTER_CLUSTER_HEALTH_ENABLED", "0"},
                          {"NATS_NODES_NUMBER", "3"}});
  ASSERT_TRUE(counted.ok());
  EXPECT_THAT(counted->warnings, Not(Contains(HasSubstr(local_only))));
  auto redis = LoadEnv({{"ADAPTER_DRIVER", "redis"}, {"ADAPTER_CLUSTER_HEALTH_ENABLED", "0"}});
  ASSERT_TRUE(redis.ok());
  EXPECT_THAT(redis->warnings, Not(Contains(HasSubstr(local_only))));

  auto fast = LoadEnv(
      {{"ADAPTER_DRIVER", "redis"}, {"ADAPTER_CLUSTER_HEALTH_HEARTBEAT_INTERVAL_MS", "500"}});
  ASSERT_TRUE(fast.ok());
  EXPECT_THAT(fast->warnings,
              Contains(HasSubstr("adapter.cluster_health.heartbeat_interval_ms: 500 is a high "
                                 "heartbeat frequency")));

  auto manager = Load(R"({"adapter": {"cluster": {"use_connection_manager": false}}})");
  ASSERT_TRUE(manager.ok());
  EXPECT_THAT(
      manager->warnings,
      Contains(HasSubstr("adapter.cluster.use_connection_manager: false is not supported")));
}

// ---- --check-config ----

TEST_F(ConfigClusterTest, PrintMasksClusterSecrets) {
  auto loaded = Load(R"({
    "adapter": {"driver": "redis",
                "redis": {"redis_sub_options": {"url": "redis://subuser:subsecret@sub:1/2"}},
                "cluster": {"nodes": ["redis://seeduser:seedsecret@seed:7000"]},
                "nats": {"servers": ["nats://natsuser:natssecret@n:4222", "nats://tok3n@m:4222"],
                         "username": "nu", "password": "natspw"}},
    "database": {"redis": {"password": "dbsecret", "sentinel_password": "sentsecret",
                           "sentinels": [{"host": "s1", "port": 26379}],
                           "cluster": {"password": "clustersecret", "nodes": ["c1:7000"]}}},
    "database_pooling": {"max": 7}
  })",
                     {{"REDIS_URL", "redis+sentinel://:urlsentinelpw@s9/m/1?password=urlpw"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::string printed = PrintConfig(loaded->config);
  for (const char* secret : {"subsecret", "seedsecret", "natssecret", "tok3n", "natspw", "dbsecret",
                             "sentsecret", "clustersecret", "urlsentinelpw", "urlpw"}) {
    EXPECT_THAT(printed, Not(HasSubstr(secret))) << secret;
  }
  auto json = base::ParseJson(printed);
  ASSERT_TRUE(json.has_value());
  const base::Json& j = *json;
  EXPECT_EQ(j["adapter"]["redis"]["redis_pub_options"]["url"],
            "redis+sentinel://:***@s9:26379/m/1?password=***");
  EXPECT_EQ(j["adapter"]["redis"]["redis_sub_options"]["url"],
            "redis+sentinel://:***@s9:26379/m/1?password=***");
  EXPECT_EQ(j["adapter"]["cluster"]["nodes"][0], "redis://seeduser:***@seed:7000");
  EXPECT_EQ(j["database"]["redis"]["cluster"]["nodes"][0], "redis://:***@c1:7000");
  EXPECT_EQ(j["adapter"]["nats"]["servers"][0], "nats://natsuser:***@n:4222");
  EXPECT_EQ(j["adapter"]["nats"]["servers"][1], "nats://***@m:4222");
  EXPECT_EQ(j["adapter"]["nats"]["username"], "nu");
  EXPECT_EQ(j["adapter"]["nats"]["password"], "********");
  EXPECT_EQ(j["database"]["redis"]["password"], "********");
  EXPECT_EQ(j["database"]["redis"]["sentinel_password"], "********");
  EXPECT_EQ(j["database"]["redis"]["cluster"]["password"], "********");
  EXPECT_EQ(j["database"]["redis"]["sentinels"][0]["host"], "s1");
  EXPECT_EQ(j["database_pooling"]["max"], 7);
  EXPECT_EQ(j["adapter"]["cluster"]["request_timeout_ms"], 1000);
  EXPECT_TRUE(j["adapter"]["nats"]["token"].is_null());
}

TEST_F(ConfigClusterTest, EndpointUrls) {
  auto loaded = LoadEnv({{"REDIS_URL", "rediss://al%20ice:p%40ss@[::1]:7000/3"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const RedisTarget& t = loaded->config.adapter.redis.pub;
  EXPECT_EQ(RedisTargetUrl(t), "rediss://al%20ice:***@[::1]:7000/3");
  EXPECT_EQ(RedisTargetUrl(t, false), "rediss://al%20ice:p%40ss@[::1]:7000/3");

  auto sentinel = Load(R"({"database": {"redis": {"sentinels": [{"host": "s1"}, {"host": "s2",
      "port": 26380}], "name": "mm", "db": 1, "username": "u", "password": "p",
      "sentinel_password": "sp"}}})");
  ASSERT_TRUE(sentinel.ok());
  EXPECT_EQ(RedisTargetUrl(sentinel->config.adapter.redis.pub),
            "redis+sentinel://:***@s1:26379,s2:26380/mm/1?password=***&username=u");
  EXPECT_EQ(RedisTargetUrl(sentinel->config.adapter.redis.pub, false),
            "redis+sentinel://:sp@s1:26379,s2:26380/mm/1?password=p&username=u");

  RedisSeed seed{.host = "h", .port = 1, .username = "u", .password = "p", .tls = true};
  EXPECT_EQ(RedisSeedUrl(seed), "rediss://u:***@h:1");
  EXPECT_EQ(RedisSeedUrl(seed, false), "rediss://u:p@h:1");
}

}  // namespace
}  // namespace sockudo::config
