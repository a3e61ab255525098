// Cluster-wide occupancy counts (spec/cluster.md §8.8) against a real redis-server: two counters
// (two nodes) share one count per channel, answered on the counter's threads; a dead node's share
// is taken out of every count by Reclaim, which names the channels it empties and leaves nothing
// of that node in Redis; a count the store lost answers below 0; an outage answers an error,
// counted.
#include "dataplane/cache/occupancy_counter.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "tests/testutil/redis_server.h"

namespace sockudo::dataplane::cache {
namespace {

OccupancyCounterOptions Options(const testutil::RedisServer& redis, const std::string& node,
                                std::atomic<int64_t>* errors) {
  OccupancyCounterOptions o;
  o.pool = redis.PoolOptions();
  o.node_id = node;
  o.errors = errors;
  return o;
}

absl::StatusOr<int64_t> Change(OccupancyCounter& c, const std::string& channel, int delta) {
  std::promise<absl::StatusOr<int64_t>> p;
  c.Change("app", channel, delta, [&p](absl::StatusOr<int64_t> n) { p.set_value(std::move(n)); });
  auto f = p.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  return f.get();
}

int64_t Keys(const testutil::RedisServer& redis, const std::string& pattern) {
  auto keys = redis.Command({"KEYS", pattern});
  return keys.ok() ? static_cast<int64_t>(keys->elements.size()) : -1;
}

TEST(OccupancyCounterTest, TwoNodesShareOneCountAndADeadNodesShareIsReclaimed) {
  testutil::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  std::atomic<int64_t> errors{0};
  OccupancyCounter a(Options(redis, "node-a", &errors));
  OccupancyCounter b(Options(redis, "node-b", &errors));

  EXPECT_EQ(*Change(a, "news", 1), 1);  // 0 -> 1: occupied
  EXPECT_EQ(*Change(b, "news", 1), 2);
  EXPECT_EQ(*Change(a, "news", -1), 1);
  EXPECT_EQ(*Change(b, "news", -1), 0);  // -> 0: vacated, and the key is gone
  EXPECT_EQ(Keys(redis, "*:sockets"), 0);

  // B dies holding two sockets of `shared` (A holds one) and the only one of `lonely`.
  EXPECT_EQ(*Change(a, "shared", 1), 1);
  EXPECT_EQ(*Change(b, "shared", 1), 2);
  EXPECT_EQ(*Change(b, "shared", 1), 3);
  EXPECT_EQ(*Change(b, "lonely", 1), 1);
  // B's own shares go on other pool threads than its counts: B stops once they have landed, as a
  // node that dies after its last change.
  b.Shutdown(std::chrono::seconds(10));
  auto share = redis.Command({"HGET", "sockudo_cache:occupancy:node-b", "app:lonely"});
  ASSERT_TRUE(share.ok());
  ASSERT_EQ(share->str, "1");
  std::mutex mu;
  std::set<std::pair<std::string, std::string>> vacated;
  std::promise<void> lonely;
  a.Reclaim("node-b", [&](const std::string& app, const std::string& channel) {
    std::lock_guard lock(mu);
    vacated.emplace(app, channel);
    if (vacated.size() == 1) lonely.set_value();
  });
  ASSERT_EQ(lonely.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(*Change(a, "shared", 1), 2);  // A's one socket, plus this one: B's two are out
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(vacated, (std::set<std::pair<std::string, std::string>>{{"app", "lonely"}}));
  }
  // Its hash goes last (polled: it may run on another of the counter's threads).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Keys(redis, "*occupancy:node-b") != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval
  }
  EXPECT_EQ(Keys(redis, "*occupancy:node-b"), 0);
  EXPECT_EQ(errors.load(), 0);

  // A count the store lost (flushed) answers below 0 and is reset.
  ASSERT_TRUE(redis.Command({"FLUSHALL"}).ok());
  EXPECT_LT(*Change(a, "shared", -1), 0);
  EXPECT_EQ(*Change(a, "shared", 1), 1);
}

TEST(OccupancyCounterTest, AnOutageAnswersAnErrorAndIsCounted) {
  testutil::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  std::atomic<int64_t> errors{0};
  OccupancyCounter a(Options(redis, "node-a", &errors));
  EXPECT_EQ(*Change(a, "news", 1), 1);
  redis.Kill();
  EXPECT_FALSE(Change(a, "news", 1).ok());
  EXPECT_GE(errors.load(), 1);
  a.Shutdown(std::chrono::milliseconds(1000));
  EXPECT_FALSE(Change(a, "news", 1).ok());  // after Shutdown: answered at once
}

}  // namespace
}  // namespace sockudo::dataplane::cache
