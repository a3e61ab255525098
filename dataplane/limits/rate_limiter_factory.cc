#include "dataplane/limits/rate_limiter_factory.h"

#include "absl/strings/str_cat.h"
#include "dataplane/limits/memory_rate_limiter.h"
#include "dataplane/limits/redis_rate_limiter.h"

namespace sockudo::dataplane::limits {

absl::StatusOr<std::unique_ptr<RateLimiter>> MakeRateLimiter(const config::Config& config,
                                                             std::atomic<int64_t>* errors) {
  const std::string& driver = config.rate_limiter.driver;
  if (driver == "none") return std::unique_ptr<RateLimiter>();
  if (driver == "memory") return std::make_unique<MemoryRateLimiter>();
  RedisRateLimiterOptions o;
  o.prefix = config.rate_limiter.redis_prefix.value_or(absl::StrCat(config.redis.key_prefix, "rl:"));
  o.errors = errors;
  if (driver == "redis") {
    const config::RedisTarget& target = config.app_manager.redis;  // database.redis, REDIS_URL
    if (target.tls || !target.sentinels.empty()) {
      return absl::UnimplementedError(
          "rate_limiter.driver: \"redis\" over TLS or Sentinel is not available in this build "
          "(use a direct redis:// endpoint)");
    }
    o.endpoints = {target};
  } else if (driver == "redis-cluster") {
    const auto& seeds = config.adapter.cluster.nodes;
    if (seeds.empty()) {
      return absl::InvalidArgumentError(
          "adapter.cluster.nodes: no Redis Cluster seed nodes configured");
    }
    if (config.adapter.cluster.tls) {
      return absl::UnimplementedError(
          "rate_limiter.driver: \"redis-cluster\" over TLS is not available in this build");
    }
    const auto& db = config.redis;
    for (const config::RedisSeed& seed : seeds) {
      config::RedisTarget t;
      t.host = seed.host;
      t.port = seed.port;
      t.username = seed.username ? seed.username : db.cluster.username ? db.cluster.username : db.username;
      t.password = seed.password ? seed.password : db.cluster.password ? db.cluster.password : db.password;
      o.endpoints.push_back(std::move(t));
    }
    o.cluster = true;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("rate_limiter.driver: unknown driver \"", driver,
                                                   "\" (expected memory, redis, redis-cluster, none)"));
  }
  return std::unique_ptr<RateLimiter>(std::make_unique<RedisRateLimiter>(std::move(o)));
}

}  // namespace sockudo::dataplane::limits
