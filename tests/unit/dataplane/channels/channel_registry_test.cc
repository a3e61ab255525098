#include "dataplane/channels/channel_registry.h"

#include <gtest/gtest.h>

namespace sockudo::dataplane::channels {
namespace {

TEST(ChannelRegistryTest, OccupiedAndVacatedTransitions) {
  ChannelRegistry r;
  EXPECT_TRUE(r.Add("app", "c"));
  EXPECT_FALSE(r.Add("app", "c"));
  EXPECT_EQ(r.Count("app", "c"), 2u);
  EXPECT_FALSE(r.Remove("app", "c"));
  EXPECT_TRUE(r.Remove("app", "c"));
  EXPECT_FALSE(r.Remove("app", "c"));
  EXPECT_EQ(r.TotalSubscriptions(), 0u);
}

TEST(ChannelRegistryTest, ListFiltersByPrefixPerApp) {
  ChannelRegistry r;
  r.Add("app", "presence-a");
  r.Add("app", "news");
  r.Add("other", "presence-b");
  auto list = r.List("app", "presence-");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].first, "presence-a");
  EXPECT_EQ(r.List("app", "").size(), 2u);
}

// A presence socket waiting for the cluster's member lists makes the channel reachable for
// delivery without counting as a subscriber.
TEST(ChannelRegistryTest, JoiningSocketsAreReachableButNotCounted) {
  ChannelRegistry r;
  EXPECT_FALSE(r.Reachable("app", "presence-a"));
  r.AddJoining("app", "presence-a");
  EXPECT_TRUE(r.Reachable("app", "presence-a"));
  EXPECT_FALSE(r.Reachable("other", "presence-a"));
  EXPECT_EQ(r.Count("app", "presence-a"), 0u);
  EXPECT_TRUE(r.List("app", "").empty());
  EXPECT_EQ(r.TotalSubscriptions(), 0u);
  // It enters (counted first, then no longer joining): reachable throughout.
  EXPECT_TRUE(r.Add("app", "presence-a"));
  r.RemoveJoining("app", "presence-a");
  EXPECT_TRUE(r.Reachable("app", "presence-a"));
  EXPECT_TRUE(r.Remove("app", "presence-a"));
  EXPECT_FALSE(r.Reachable("app", "presence-a"));
  // One that leaves before it entered.
  r.AddJoining("app", "presence-a");
  r.AddJoining("app", "presence-a");
  r.RemoveJoining("app", "presence-a");
  EXPECT_TRUE(r.Reachable("app", "presence-a"));
  r.RemoveJoining("app", "presence-a");
  EXPECT_FALSE(r.Reachable("app", "presence-a"));
  r.RemoveJoining("app", "presence-a");  // unbalanced: ignored
  EXPECT_FALSE(r.Reachable("app", "presence-a"));
}

}  // namespace
}  // namespace sockudo::dataplane::channels
