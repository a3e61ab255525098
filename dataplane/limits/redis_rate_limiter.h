// File: redis_rate_limiter.h
// The `redis` and `redis-cluster` rate-limiter drivers (spec/backends.md §4): the limits live in
// Redis, so every node counts against the same buckets and windows. Each check is one Lua script
// on one key (token bucket: a hash; sliding-window log: a sorted set), keyed
// `{prefix}:rl:{key}`, loaded with SCRIPT LOAD and run with EVALSHA (NOSCRIPT reloads it once).
//
// The checks run on a few threads of their own, each with blocking connections; a worker thread
// of the node never waits for Redis. With `cluster` the first seed is asked and MOVED / ASK
// redirections are followed (the slot's owner is remembered).
//
// Failing open: when Redis does not answer within the timeout, refuses, or the queue of pending
// checks is full, the request is allowed, `errors` is incremented and the first failure of an
// outage is logged (then the 2nd, 4th, 8th...). After a failed dial a thread waits 1 s before
// dialling again, answering "allowed" in the meantime without waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/config/config.h"
#include "dataplane/limits/rate_limiter.h"

namespace sockudo::dataplane::limits {

struct RedisRateLimiterOptions {
  // Where to connect: one server, or (cluster) the seeds, tried in order.
  std::vector<config::RedisTarget> endpoints;
  bool cluster = false;
  std::string prefix = "sockudo_rl:";
  std::chrono::milliseconds timeout{1000};  // connect and reply (spec/backends.md §2)
  int threads = 2;
  size_t max_pending = 10000;
  std::atomic<int64_t>* errors = nullptr;  // rate_limit_backend_errors_total; may be null
};

class RedisRateLimiter : public RateLimiter {
 public:
  explicit RedisRateLimiter(RedisRateLimiterOptions options);
  ~RedisRateLimiter() override;  // answers what is still queued (allowed) and joins the threads

  void TakeTokens(const std::string& key, int64_t per_second, int64_t cost,
                  RateDone done) override;
  void Hit(const std::string& key, int64_t max, int64_t window_seconds, RateDone done) override;
  bool answers_inline() const override { return false; }

 private:
  struct Check {
    bool bucket = true;
    std::string key;       // on the wire
    int64_t limit = 0;     // per_second or max
    int64_t cost = 1;      // bucket cost
    int64_t window = 0;    // window seconds
    std::string member;    // sliding-window log member
    RateDone done;
  };
  class Worker;

  void Enqueue(Check check);
  void Failed(const std::string& why);
  bool Pop(Check* out);

  RedisRateLimiterOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Check> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> failures_{0};  // consecutive, for the log
  std::atomic<uint64_t> sequence_{0};
  uint64_t random_;
  std::vector<std::thread> threads_;
};

}  // namespace sockudo::dataplane::limits
