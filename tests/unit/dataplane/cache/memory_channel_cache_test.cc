#include "dataplane/cache/memory_channel_cache.h"

#include <gtest/gtest.h>

namespace sockudo::dataplane::cache {
namespace {

TEST(ChannelCacheTest, KeepsLastEventPerChannel) {
  MemoryChannelCache cache(100, 3600);
  EXPECT_FALSE(cache.Find("a", "cache-x").has_value());
  cache.Put("a", "cache-x", "e1", "d1");
  cache.Put("a", "cache-x", "e2", "d2");
  auto got = cache.Find("a", "cache-x");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->event, "e2");
  EXPECT_EQ(got->data, "d2");
  EXPECT_GT(got->ttl_seconds, 3590);
  EXPECT_FALSE(cache.Find("b", "cache-x").has_value());
}

TEST(ChannelCacheTest, EvictsOldestBeyondCapacity) {
  MemoryChannelCache cache(2, 0);
  cache.Put("a", "c1", "e", "1");
  cache.Put("a", "c2", "e", "2");
  cache.Put("a", "c3", "e", "3");
  EXPECT_FALSE(cache.Find("a", "c1").has_value());
  EXPECT_TRUE(cache.Find("a", "c3").has_value());
  EXPECT_EQ(cache.Find("a", "c3")->ttl_seconds, -1);
}

}  // namespace
}  // namespace sockudo::dataplane::cache
