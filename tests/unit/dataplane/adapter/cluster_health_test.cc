// The heartbeat table of spec/cluster.md §10: new nodes, dead detection by local receive time
// and node_timeout, the cleanup leader (smallest id among the live), and the recently-dead set
// of §10.3. Pure bookkeeping: the test owns the clock.
#include "dataplane/adapter/cluster_health.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace sockudo::dataplane::adapter {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Clock = ClusterHealth::Clock;

const Clock::time_point t0{std::chrono::hours(1)};
constexpr milliseconds kTimeout(30000);

TEST(ClusterHealthTest, FirstHeartbeatOfANodeIsNewLaterOnesAreNot) {
  ClusterHealth health("node-m");
  EXPECT_EQ(health.peers(), 0u);
  EXPECT_TRUE(health.OnHeartbeat("node-b", t0, base::Json{{"connections", 3}}));
  EXPECT_FALSE(health.OnHeartbeat("node-b", t0 + milliseconds(10), base::Json{{"connections", 4}}));
  EXPECT_TRUE(health.OnHeartbeat("node-c", t0, base::Json()));
  EXPECT_EQ(health.peers(), 2u);
  EXPECT_TRUE(health.Knows("node-b"));
  EXPECT_FALSE(health.Knows("node-z"));
  // The table keeps the receive time and metadata of the last heartbeat.
  const auto& b = health.table().at("node-b");
  EXPECT_EQ(b.last_seen, t0 + milliseconds(10));
  EXPECT_EQ(b.metadata["connections"], 4);
}

TEST(ClusterHealthTest, APeerIsDeadWhenItsLastHeartbeatIsOlderThanTheTimeout) {
  ClusterHealth health("node-m");
  health.OnHeartbeat("node-b", t0, base::Json());
  health.OnHeartbeat("node-c", t0, base::Json());
  EXPECT_THAT(health.Expired(t0 + kTimeout, kTimeout), IsEmpty());  // not older yet
  health.OnHeartbeat("node-c", t0 + milliseconds(20000), base::Json());
  EXPECT_THAT(health.Expired(t0 + kTimeout + milliseconds(1), kTimeout), ElementsAre("node-b"));
  EXPECT_THAT(health.Expired(t0 + milliseconds(50001), kTimeout), ElementsAre("node-b", "node-c"));
  // Expired only reports: the table is unchanged until Remove.
  EXPECT_EQ(health.peers(), 2u);
}

TEST(ClusterHealthTest, LeaderIsTheSmallestIdAmongTheLiving) {
  ClusterHealth health("node-m");
  EXPECT_EQ(health.Leader({}), "node-m");  // alone
  health.OnHeartbeat("node-x", t0, base::Json());
  EXPECT_EQ(health.Leader({}), "node-m");
  EXPECT_TRUE(health.IsLeader({}));
  health.OnHeartbeat("node-c", t0, base::Json());
  health.OnHeartbeat("node-b", t0, base::Json());
  EXPECT_EQ(health.Leader({}), "node-b");
  EXPECT_FALSE(health.IsLeader({}));
  // Dead nodes never lead: the next one in byte-wise order does.
  EXPECT_EQ(health.Leader({"node-b"}), "node-c");
  EXPECT_EQ(health.Leader({"node-b", "node-c"}), "node-m");
  EXPECT_TRUE(health.IsLeader({"node-b", "node-c"}));
  EXPECT_EQ(health.Leader({"node-z"}), "node-b");  // unknown dead ids change nothing
}

TEST(ClusterHealthTest, LeaderUsesByteWiseOrderOfUuids) {
  ClusterHealth health("9f000000-0000-4000-8000-000000000000");
  health.OnHeartbeat("a0000000-0000-4000-8000-000000000000", t0, base::Json());
  health.OnHeartbeat("0a000000-0000-4000-8000-000000000000", t0, base::Json());
  EXPECT_EQ(health.Leader({}), "0a000000-0000-4000-8000-000000000000");
  EXPECT_EQ(health.Leader({"0a000000-0000-4000-8000-000000000000"}),
            "9f000000-0000-4000-8000-000000000000");
}

TEST(ClusterHealthTest, RemovedNodesAreRecentlyDeadForTenMinutes) {
  ClusterHealth health("node-m");
  health.OnHeartbeat("node-b", t0, base::Json());
  health.Remove("node-b", t0);
  EXPECT_EQ(health.peers(), 0u);
  EXPECT_FALSE(health.Knows("node-b"));
  // Taken once: the node is then treated as new.
  EXPECT_TRUE(health.TakeRecentlyDead("node-b", t0 + std::chrono::minutes(9)));
  EXPECT_FALSE(health.TakeRecentlyDead("node-b", t0 + std::chrono::minutes(9)));
  EXPECT_FALSE(health.TakeRecentlyDead("node-never-seen", t0));

  health.Remove("node-c", t0);
  EXPECT_FALSE(health.TakeRecentlyDead("node-c", t0 + std::chrono::minutes(10) + milliseconds(1)));
}

TEST(ClusterHealthTest, OldRecentlyDeadEntriesArePurgedOnLaterRemovals) {
  ClusterHealth health("node-m");
  health.Remove("node-b", t0);
  health.Remove("node-c", t0 + std::chrono::minutes(11));  // purges node-b
  EXPECT_FALSE(health.TakeRecentlyDead("node-b", t0 + std::chrono::minutes(11)));
  EXPECT_TRUE(health.TakeRecentlyDead("node-c", t0 + std::chrono::minutes(11)));
}

TEST(ClusterHealthTest, AHeartbeatAfterRemovalMakesTheNodeNewAgain) {
  ClusterHealth health("node-m");
  health.OnHeartbeat("node-b", t0, base::Json());
  health.Remove("node-b", t0);
  EXPECT_TRUE(health.OnHeartbeat("node-b", t0 + milliseconds(5), base::Json()));
  EXPECT_EQ(health.peers(), 1u);
}

}  // namespace
}  // namespace sockudo::dataplane::adapter
