// The `redis` and `redis-cluster` rate limiters (spec/backends.md §4) against a real
// redis-server and a real Redis Cluster: two limiters (two nodes) share one token bucket and one
// sliding window; decisions arrive on the limiter's threads; a Redis outage fails open and is
// counted, and counting resumes after Redis is back; flushed scripts are loaded again; in a
// cluster, keys of every slot are reached from one seed through MOVED redirections.
#include "common/limits/redis_rate_limiter.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/bus/redis/blocking_redis.h"
#include "tests/testutil/redis_cluster.h"
#include "tests/testutil/redis_server.h"

namespace sockudo::limits {
namespace {

// Waits for one decision of the async limiter (bounded).
struct Waiter {
  std::promise<std::pair<RateDecision, std::thread::id>> promise;
  RateDone Done() {
    return [this](RateDecision d) { promise.set_value({d, std::this_thread::get_id()}); };
  }
  RateDecision Get() {
    auto f = promise.get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return f.get().first;
  }
};

RateDecision Take(RateLimiter& l, const std::string& key, int64_t per_second, int64_t cost) {
  Waiter w;
  l.TakeTokens(key, per_second, cost, w.Done());
  return w.Get();
}

RateDecision Hit(RateLimiter& l, const std::string& key, int64_t max, int64_t window) {
  Waiter w;
  l.Hit(key, max, window, w.Done());
  return w.Get();
}

RedisRateLimiterOptions Direct(const testutil::RedisServer& redis, std::atomic<int64_t>* errors) {
  RedisRateLimiterOptions o;
  o.pool = redis.PoolOptions();
  o.errors = errors;
  return o;
}

TEST(RedisRateLimiterTest, TwoNodesShareOneBucketAndOneWindow) {
  testutil::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  std::atomic<int64_t> errors{0};
  RedisRateLimiter a(Direct(redis, &errors));
  RedisRateLimiter b(Direct(redis, &errors));
  EXPECT_FALSE(a.answers_inline());

  RateDecision d = Take(a, "app:shared:backend_events", 10, 6);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.limit, 10);
  EXPECT_EQ(d.remaining, 4);
  d = Take(b, "app:shared:backend_events", 10, 5);  // only ~4 left, whichever node asks
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reset_seconds, 1);
  EXPECT_TRUE(Take(b, "app:shared:backend_events", 10, 4).allowed);

  // Sliding-window log: 3 per minute across both.
  EXPECT_TRUE(Hit(a, "api:203.0.113.7", 3, 60).allowed);
  EXPECT_TRUE(Hit(b, "api:203.0.113.7", 3, 60).allowed);
  d = Hit(a, "api:203.0.113.7", 3, 60);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.reset_seconds, 60);
  EXPECT_FALSE(Hit(b, "api:203.0.113.7", 3, 60).allowed);
  EXPECT_TRUE(Hit(b, "api:198.51.100.1", 3, 60).allowed);
  EXPECT_EQ(errors.load(), 0);

  // The keys on the wire: {prefix}:rl:{key}, the bucket expiring, the window with its TTL.
  config::RedisTarget target;
  target.port = redis.port();
  auto c = bus::redis::DialBlocking(target, std::chrono::seconds(1), "test");
  ASSERT_TRUE(c.ok());
  auto ttl = bus::redis::CommandBlocking(*c, {"PTTL", "sockudo_rl::rl:app:shared:backend_events"});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 2000);
  auto card = bus::redis::CommandBlocking(*c, {"ZCARD", "sockudo_rl::rl:api:203.0.113.7"});
  ASSERT_TRUE(card.ok());
  EXPECT_EQ(card->integer, 3);
  // Flushed scripts (a restarted Redis without persistence) are loaded again.
  ASSERT_TRUE(bus::redis::CommandBlocking(*c, {"SCRIPT", "FLUSH"}).ok());
  redisFree(*c);
  EXPECT_TRUE(Hit(a, "api:192.0.2.1", 3, 60).allowed);
  EXPECT_TRUE(Take(a, "app:other:read_requests", 5, 1).allowed);
  EXPECT_EQ(errors.load(), 0);
}

TEST(RedisRateLimiterTest, AnOutageFailsOpenIsCountedAndCountingResumes) {
  testutil::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  std::atomic<int64_t> errors{0};
  RedisRateLimiter limiter(Direct(redis, &errors));
  ASSERT_TRUE(Hit(limiter, "api:x", 1, 60).allowed);
  EXPECT_FALSE(Hit(limiter, "api:x", 1, 60).allowed);

  redis.Kill();
  // Denied before, allowed now: nothing to count against.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Hit(limiter, "api:x", 1, 60).allowed) << i;
  EXPECT_GE(errors.load(), 5);

  ASSERT_TRUE(redis.Start().ok());  // same port, empty (no persistence)
  // Within a second or so the limiter dials again and counts.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const int64_t before = errors.load();
  bool counted = false;
  while (!counted && std::chrono::steady_clock::now() < deadline) {
    RateDecision first = Hit(limiter, "api:y", 1, 60);
    counted = first.allowed && !Hit(limiter, "api:y", 1, 60).allowed;
    if (!counted) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval
  }
  EXPECT_TRUE(counted);
  EXPECT_GE(errors.load(), before);
}

TEST(RedisRateLimiterTest, ClusterFollowsRedirectionsToEverySlot) {
  testutil::RedisCluster cluster;
  ASSERT_TRUE(cluster.Start().ok());
  std::atomic<int64_t> errors{0};
  RedisRateLimiterOptions o;
  for (size_t i = 0; i < 3; ++i) {
    config::RedisTarget t;
    t.port = cluster.port(i);
    o.pool.endpoints.push_back(t);
  }
  o.pool.cluster = true;
  o.errors = &errors;
  RedisRateLimiter a(o);
  RedisRateLimiter b(o);
  // 30 keys spread over the three masters' slots: each bucket is shared and exact.
  for (int i = 0; i < 30; ++i) {
    const std::string key = absl::StrCat("app:app-", i, ":backend_events");
    EXPECT_TRUE(Take(a, key, 2, 2).allowed) << key;
    EXPECT_FALSE(Take(b, key, 2, 1).allowed) << key;
  }
  EXPECT_EQ(errors.load(), 0);
}

}  // namespace
}  // namespace sockudo::limits
