#include "dataplane/cache/channel_cache_factory.h"

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "dataplane/cache/memory_channel_cache.h"
#include "dataplane/cache/redis_channel_cache.h"

namespace sockudo::dataplane::cache {
namespace {

std::string Prefix(const config::Config& config) {
  return config.cache.redis_prefix.value_or(absl::StrCat(config.redis.key_prefix, "cache:"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChannelCache>> MakeChannelCache(const config::Config& config,
                                                               std::atomic<int64_t>* errors) {
  const std::string& driver = config.cache.driver;
  if (driver == "none") return std::unique_ptr<ChannelCache>();
  if (driver == "memory") {
    return std::unique_ptr<ChannelCache>(std::make_unique<MemoryChannelCache>(
        static_cast<size_t>(config.cache.memory_max_capacity), config.channel_cache_ttl));
  }
  RedisChannelCacheOptions o;
  SOCKUDO_ASSIGN_OR_RETURN(o.pool, bus::redis::PoolOptionsFor(config, driver, "cache.driver"));
  o.pool.timeout = std::chrono::milliseconds(1000);  // per command
  o.prefix = Prefix(config);
  o.ttl_seconds = config.channel_cache_ttl;
  o.errors = errors;
  return std::unique_ptr<ChannelCache>(std::make_unique<RedisChannelCache>(std::move(o)));
}

absl::StatusOr<std::unique_ptr<OccupancyCounter>> MakeOccupancyCounter(
    const config::Config& config, const std::string& node_id, std::atomic<int64_t>* errors) {
  const std::string& driver = config.cache.driver;
  if (driver != "redis" && driver != "redis-cluster") return std::unique_ptr<OccupancyCounter>();
  OccupancyCounterOptions o;
  SOCKUDO_ASSIGN_OR_RETURN(o.pool, bus::redis::PoolOptionsFor(config, driver, "cache.driver"));
  o.pool.timeout = std::chrono::milliseconds(1000);
  o.pool.who = "occupancy counts";
  o.prefix = Prefix(config);
  o.node_id = node_id;
  o.errors = errors;
  return std::make_unique<OccupancyCounter>(std::move(o));
}

}  // namespace sockudo::dataplane::cache
