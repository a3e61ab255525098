#include "common/config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace sockudo::config {
namespace {

using ::testing::HasSubstr;

class ConfigLoaderTest : public ::testing::Test {
 protected:
  // Writes `json` to a temporary file and loads it with `env`.
  absl::StatusOr<LoadedConfig> LoadFile(const std::string& json,
                                        std::map<std::string, std::string> env = {}) {
    // ctest runs every test in its own process, two at a time: one file per process.
    path_ = ::testing::TempDir() + "/sockudo_config_test." + std::to_string(::getpid()) + ".json";
    std::ofstream(path_) << json;
    return LoadConfig({.config_path = path_, .env = MapEnv(std::move(env))});
  }
  absl::StatusOr<LoadedConfig> LoadEnv(std::map<std::string, std::string> env) {
    return LoadConfig({.config_path = std::nullopt, .env = MapEnv(std::move(env))});
  }
  void TearDown() override {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  std::string path_;
};

TEST_F(ConfigLoaderTest, DefaultsGiveTheEmbeddedApp) {
  auto loaded = LoadEnv({});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = loaded->config;
  EXPECT_EQ(c.port, 6001);
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.metrics.port, 9601);
  EXPECT_EQ(c.activity_timeout, 120);
  EXPECT_EQ(c.adapter.driver, "local");
  EXPECT_EQ(c.limits.max_channel_name_length, 164);
  ASSERT_EQ(c.app_manager.apps.size(), 1u);
  EXPECT_EQ(c.app_manager.apps[0].id, "app-id");
  EXPECT_EQ(c.app_manager.apps[0].key, "app-key");
  EXPECT_EQ(c.app_manager.apps[0].secret, "app-secret");
  EXPECT_TRUE(c.app_manager.apps[0].enable_client_messages);
  EXPECT_FALSE(c.process_id.empty());
}

TEST_F(ConfigLoaderTest, EnvOverridesFile) {
  auto loaded = LoadFile(R"({"port": 7000, "metrics": {"port": 9700}, "debug": false})",
                         {{"PORT", "7001"}, {"DEBUG", "yes"}, {"INSTANCE_PROCESS_ID", "node-1"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.port, 7001);
  EXPECT_EQ(loaded->config.metrics.port, 9700);
  EXPECT_TRUE(loaded->config.debug);
  EXPECT_EQ(loaded->config.EffectiveLogLevel(), "debug");
  EXPECT_EQ(loaded->config.process_id, "node-1");
}

TEST_F(ConfigLoaderTest, InterpolatesVariables) {
  auto loaded =
      LoadFile(R"({"port": ${MY_PORT}, "host": "${MY_HOST:-127.0.0.2}"})", {{"MY_PORT", "7100"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.port, 7100);
  EXPECT_EQ(loaded->config.host, "127.0.0.2");
  auto missing = LoadFile(R"({"port": ${NOPE_A}, "host": "${NOPE_B}"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("NOPE_A"));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("NOPE_B"));
}

TEST_F(ConfigLoaderTest, BadValuesNameTheKeyAndValue) {
  struct Case {
    std::map<std::string, std::string> env;
    std::string expected;
  };
  const Case cases[] = {
      {{{"PORT", "70000"}}, "PORT: must be between 1 and 65535, got 70000"},
      {{{"PORT", "abc"}}, "PORT: expected integer, got \"abc\""},
      {{{"DEBUG", "maybe"}}, "DEBUG: expected boolean, got \"maybe\""},
      {{{"ADAPTER_DRIVER", "kafka"}}, "adapter.driver: \"kafka\" is not supported by this server"},
      {{{"ADAPTER_DRIVER", "zeromq"}},
       "adapter.driver: unknown driver \"zeromq\" (expected local, redis, redis-cluster, nats)"},
      {{{"ACTIVITY_TIMEOUT", "0"}}, "ACTIVITY_TIMEOUT: must be >= 1, got 0"},
      {{{"METRICS_PORT", "6001"}}, "metrics.port: conflicts with port 6001"},
      {{{"SOCKUDO_DEFAULT_APP_ID", "x"}}, "SOCKUDO_DEFAULT_APP_SECRET: required"},
      {{{"SSL_ENABLED", "true"}, {"SSL_CERT_PATH", "/nonexistent.pem"}},
       "ssl.cert_path: file not readable"},
      {{{"UNIX_SOCKET_ENABLED", "1"}, {"UNIX_SOCKET_PATH", "relative.sock"}},
       "unix_socket.path: must be an absolute path"},
      {{{"UNIX_SOCKET_PERMISSION_MODE", "999"}},
       "unix_socket.permission_mode: expected an octal mode"},
      {{{"CORS_ORIGINS", "a*b*c"}}, "cors.origin: invalid pattern \"a*b*c\""},
      {{{"LOG_LEVEL", "loud"}}, "LOG_LEVEL: unknown value \"loud\""},
      {{{"SOCKUDO_SERVER_ROLE", "api"}}, "server_role: \"api\" is not supported"},
      {{{"ADAPTER_CLUSTER_HEALTH_NODE_TIMEOUT_MS", "30s"}},
       "ADAPTER_CLUSTER_HEALTH_NODE_TIMEOUT_MS: expected integer, got \"30s\""},
      {{{"ADAPTER_CLUSTER_HEALTH_HEARTBEAT_INTERVAL_MS", "15000"}},
       "adapter.cluster_health.heartbeat_interval_ms: 15000 must be <= node_timeout_ms/3 = 10000"},
  };
  for (const Case& c : cases) {
    auto loaded = LoadEnv(c.env);
    ASSERT_FALSE(loaded.ok()) << c.expected;
    EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("config error: " + c.expected));
  }
}

TEST_F(ConfigLoaderTest, FileTypeErrorsAndAllErrorsTogether) {
  auto loaded = LoadFile(R"({"port": "6001", "activity_timeout": 0, "ssl": {"enabled": "yes"}})");
  ASSERT_FALSE(loaded.ok());
  const std::string message(loaded.status().message());
  EXPECT_THAT(message, HasSubstr("port: expected an integer, got \"6001\""));
  EXPECT_THAT(message, HasSubstr("activity_timeout: must be >= 1, got 0"));
  EXPECT_THAT(message, HasSubstr("ssl.enabled: expected a boolean"));
}

TEST_F(ConfigLoaderTest, InvalidJsonAndMissingFileAreErrors) {
  EXPECT_FALSE(LoadFile("{not json").ok());
  EXPECT_FALSE(LoadFile("[1,2]").ok());
  auto missing = LoadConfig({.config_path = "/nonexistent/config.json", .env = MapEnv({})});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("cannot read file"));
}

TEST_F(ConfigLoaderTest, UnknownAndIgnoredKeysWarn) {
  auto loaded = LoadFile(
      R"({"bogus": 1, "metrics": {"bogus2": true}, "delta_compression": {}, "queue": {"driver": "memory"}})");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(loaded->warnings, ::testing::Contains(HasSubstr("bogus: unknown key")));
  EXPECT_THAT(loaded->warnings, ::testing::Contains(HasSubstr("metrics.bogus2: unknown key")));
  EXPECT_THAT(loaded->warnings, ::testing::Contains(HasSubstr("delta_compression: ignored")));
  for (const std::string& w : loaded->warnings) EXPECT_THAT(w, ::testing::Not(HasSubstr("queue")));
}

TEST_F(ConfigLoaderTest, InlineAppsAndDefaultAppRules) {
  const std::string file = R"({"app_manager": {"array": {"apps": [
      {"id": 40000, "key": "k1", "secret": "s1", "maxConnections": "5", "enable_client_messages": true},
      {"id": "a2", "key": "k2", "secret": "s2", "enabled": false}]}}})";
  auto loaded = LoadFile(file);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->config.app_manager.apps.size(), 2u);
  EXPECT_EQ(loaded->config.app_manager.apps[0].id, "40000");
  EXPECT_EQ(loaded->config.app_manager.apps[0].max_connections, 5);
  EXPECT_FALSE(loaded->config.app_manager.apps[1].enabled);

  // Env app replaces the inline list.
  auto env_app = LoadFile(file, {{"SOCKUDO_DEFAULT_APP_ID", "e"},
                                 {"SOCKUDO_DEFAULT_APP_KEY", "ek"},
                                 {"SOCKUDO_DEFAULT_APP_SECRET", "es"},
                                 {"SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS", "3"}});
  ASSERT_TRUE(env_app.ok()) << env_app.status();
  ASSERT_EQ(env_app->config.app_manager.apps.size(), 1u);
  EXPECT_EQ(env_app->config.app_manager.apps[0].key, "ek");
  EXPECT_EQ(env_app->config.app_manager.apps[0].max_connections, 3);

  // ENABLED=false: no app at all.
  auto none = LoadFile(file, {{"SOCKUDO_DEFAULT_APP_ENABLED", "false"}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->config.app_manager.apps.empty());

  // A bad app names the app and field.
  auto bad = LoadFile(R"({"app_manager": {"array": {"apps": [{"id": "x", "key": "k"}]}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("app_manager.array.apps[0]: secret: required"));
}

TEST_F(ConfigLoaderTest, LegacyAliases) {
  auto loaded = LoadFile(R"({"cluster_health": {"node_timeout_ms": 60000}, "app_manager": {"apps": [
      {"id": "a", "key": "k", "secret": "s"}]}, "adapter": {"driver": "LOCAL "}})");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.adapter.cluster_health.node_timeout_ms, 60000);
  EXPECT_EQ(loaded->config.adapter.driver, "local");
  ASSERT_EQ(loaded->config.app_manager.apps.size(), 1u);
  EXPECT_EQ(loaded->config.app_manager.apps[0].key, "k");
}

TEST_F(ConfigLoaderTest, BufferLimitsFromEnv) {
  auto loaded = LoadEnv({{"WEBSOCKET_MAX_MESSAGES", "none"}, {"WEBSOCKET_MAX_BYTES", "65536"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->config.websocket.max_messages.has_value());
  EXPECT_EQ(loaded->config.websocket.max_bytes, 65536);
}

TEST_F(ConfigLoaderTest, PrintMasksSecrets) {
  auto loaded = LoadEnv({{"CONTROL_PLANE_TOKEN", "tok-123"}});
  ASSERT_TRUE(loaded.ok());
  const std::string printed = PrintConfig(loaded->config);
  EXPECT_THAT(printed, ::testing::Not(HasSubstr("app-secret")));
  EXPECT_THAT(printed, ::testing::Not(HasSubstr("tok-123")));
  EXPECT_THAT(printed, HasSubstr("\"port\": 6001"));
  EXPECT_THAT(printed, HasSubstr("\"key\": \"app-key\""));
}

// Found by tests/fuzz/config_fuzz: --check-config aborted on an environment value that is not
// UTF-8 (nlohmann's dump throws on it).
TEST_F(ConfigLoaderTest, PrintingAValueThatIsNotUtf8DoesNotThrow) {
  auto ok = LoadEnv({{"INSTANCE_PROCESS_ID", "node-\xd8"}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_THAT(PrintConfig(ok->config), HasSubstr("node-\xEF\xBF\xBD"));
}

TEST_F(ConfigLoaderTest, ReadsConfigTextAndRefusesDeepNesting) {
  auto loaded = LoadConfig({.config_text = R"({"port": 7000})", .env = MapEnv({})});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.port, 7000);
  auto deep =
      LoadConfig({.config_text = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}",
                  .env = MapEnv({})});
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.status().message(), HasSubstr("not a valid JSON object"));
}

}  // namespace
}  // namespace sockudo::config
