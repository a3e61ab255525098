// File: config_loader.h
// Builds the Config (config.h) in this order: defaults, the JSON file (with ${VAR} interpolation
// and legacy aliases), environment variables, then validation. Every error is collected; the
// returned status lists them one per line as "config error: <key>: <reason>".
//
//   LoadOptions options{.config_path = flag_value, .env = ProcessEnv()};
//   absl::StatusOr<LoadedConfig> loaded = LoadConfig(options);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/config/env_reader.h"

namespace sockudo::config {

struct LoadOptions {
  std::optional<std::string> config_path;  // the --config flag
  std::optional<std::string> config_text;  // the file's text itself, instead of any file
  EnvReader env = ProcessEnv();
};

struct LoadedConfig {
  Config config;
  std::vector<std::string> warnings;  // unknown keys, ignored keys, unusual combinations
};

absl::StatusOr<LoadedConfig> LoadConfig(const LoadOptions& options);

// Replaces ${VAR} and ${VAR:-default} in raw file text (single pass). Unresolved names are all
// reported in one error.
absl::StatusOr<std::string> InterpolateEnv(const std::string& text, const EnvReader& env);

// The effective configuration as indented JSON with secrets masked (for --check-config).
std::string PrintConfig(const Config& config);

// A Redis endpoint as a URL for logs: redis[s]://[user[:***]@]host:port/db,
// or redis+sentinel://[user][:***@]h1:p1,h2:p2/<name>/<db>[?password=***&username=<user>].
// Passwords are "***" unless `mask_secrets` is false (then percent-encoded).
std::string RedisTargetUrl(const RedisTarget& target, bool mask_secrets = true);
// A cluster seed as redis[s]://[user[:***]@]host:port.
std::string RedisSeedUrl(const RedisSeed& seed, bool mask_secrets = true);

}  // namespace sockudo::config
