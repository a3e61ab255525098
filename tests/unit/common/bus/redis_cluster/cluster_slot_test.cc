#include "common/bus/redis_cluster/cluster_slot.h"

#include <string>

#include "gtest/gtest.h"

namespace sockudo::bus::redis_cluster {
namespace {

TEST(ClusterSlotTest, Crc16XmodemVectors) {
  EXPECT_EQ(Crc16("123456789"), 0x31C3);  // the check value of CRC-16/XMODEM
  EXPECT_EQ(Crc16(""), 0);
  EXPECT_EQ(Crc16("A"), 0x58E5);
  EXPECT_EQ(Crc16(std::string("\0", 1)), 0);
}

TEST(ClusterSlotTest, KeySlotsMatchRedis) {
  // Values from `CLUSTER KEYSLOT` on Redis 7.
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot("123456789"), 0x31C3 % 16384);
  for (const char* key : {"", "a", "sockudo_adapter::#broadcast", "\xff\xfe binary"}) {
    EXPECT_LT(KeySlot(key), kSlotCount) << key;
  }
}

TEST(ClusterSlotTest, HashTags) {
  // Only the bytes between the first '{' and the first '}' after it count...
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("{user1000}.followers"), KeySlot("{user1000}.following"));
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  // ...when at least one byte is between them; otherwise the whole key is hashed.
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") % 16384);
  EXPECT_EQ(KeySlot("{}"), Crc16("{}") % 16384);
  EXPECT_EQ(KeySlot("foo{bar"), Crc16("foo{bar") % 16384);
  EXPECT_EQ(KeySlot("foo}bar{"), Crc16("foo}bar{") % 16384);
}

}  // namespace
}  // namespace sockudo::bus::redis_cluster
