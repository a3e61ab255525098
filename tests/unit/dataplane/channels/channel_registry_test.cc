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

}  // namespace
}  // namespace sockudo::dataplane::channels
