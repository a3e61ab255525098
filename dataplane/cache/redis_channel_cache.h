// File: redis_channel_cache.h
// The `redis` and `redis-cluster` cache drivers for cache channels: every node reads and writes the
// same keys, so a subscriber on one node gets the last event published through another. Key
// `{prefix}:app:{app_id}:channel:{channel}:cache_miss` holds the exact Pusher frame of the last
// event ({"event":…,"channel":…,"data":"…"}), with the channel cache TTL as its expiry. Commands
// run on a BlockingRedisPool (never on a worker thread). A failing store is a miss for reads and
// drops writes, counted in `errors` and logged without flooding (the 1st, 2nd, 4th... failure in a
// row).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/base/failure_streak.h"
#include "common/bus/redis/blocking_pool.h"
#include "dataplane/cache/channel_cache.h"

namespace sockudo::dataplane::cache {

struct RedisChannelCacheOptions {
  bus::redis::BlockingPoolOptions pool;
  std::string prefix = "sockudo_cache:";
  int64_t ttl_seconds = 3600;  // 0: no expiry
  std::atomic<int64_t>* errors = nullptr;  // cache_backend_errors_total; may be null
};

class RedisChannelCache : public ChannelCache {
 public:
  explicit RedisChannelCache(RedisChannelCacheOptions options);

  void Put(const std::string& app_id, const std::string& channel, std::string event,
           std::string data) override;
  void Get(const std::string& app_id, const std::string& channel, CacheDone done) override;
  bool answers_inline() const override { return false; }
  void Shutdown() override { pool_.Shutdown(); }

 private:
  std::string Key(const std::string& app_id, const std::string& channel) const;
  void Failed(const absl::Status& why);

  const std::string prefix_;
  const int64_t ttl_seconds_;
  std::atomic<int64_t>* const errors_;
  base::FailureStreak failures_;
  bus::redis::BlockingRedisPool pool_;  // last: stops first
};

}  // namespace sockudo::dataplane::cache
