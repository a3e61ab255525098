// File: redis_rate_limiter.h
// The `redis` and `redis-cluster` rate-limiter drivers: the limits live in Redis, so every node
// counts against the same buckets and windows. Each check is one Lua script on one key (token
// bucket: a hash; sliding-window log: a sorted set), keyed `{prefix}:rl:{key}`, run by a
// BlockingRedisPool (its own threads: a worker thread of the node never waits for Redis; cluster
// redirections followed; flushed scripts reloaded).
//
// Failing open: when Redis does not answer within the timeout, refuses, or too many checks wait,
// the request is allowed, `errors` is incremented and the first failure of an outage is logged
// (then the 2nd, 4th, 8th...).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/base/failure_streak.h"
#include "common/bus/redis/blocking_pool.h"
#include "common/limits/rate_limiter.h"

namespace sockudo::limits {

struct RedisRateLimiterOptions {
  bus::redis::BlockingPoolOptions pool;
  std::string prefix = "sockudo_rl:";
  std::atomic<int64_t>* errors = nullptr;  // rate_limit_backend_errors_total; may be null
};

class RedisRateLimiter : public RateLimiter {
 public:
  explicit RedisRateLimiter(RedisRateLimiterOptions options);

  void TakeTokens(const std::string& key, int64_t per_second, int64_t cost, RateDone done) override;
  void Hit(const std::string& key, int64_t max, int64_t window_seconds, RateDone done) override;
  bool answers_inline() const override { return false; }
  void Shutdown() override { pool_.Shutdown(); }

 private:
  // Logs and counts a store failure; the caller allows the request.
  void Failed(const absl::Status& why);

  const std::string prefix_;
  std::atomic<int64_t>* const errors_;
  base::FailureStreak failures_;
  std::atomic<uint64_t> sequence_{0};
  uint64_t random_;
  // Last: its threads stop (answering what is queued) before the members above go.
  bus::redis::BlockingRedisPool pool_;
};

}  // namespace sockudo::limits
