#include "common/protocol/channel_name.h"

#include <gtest/gtest.h>

#include <string>

namespace sockudo::protocol {
namespace {

TEST(ChannelNameTest, PrefixTableFirstMatchWins) {
  EXPECT_EQ(ClassifyChannel("news").type, ChannelType::kPublic);
  EXPECT_FALSE(ClassifyChannel("news").cache);
  EXPECT_TRUE(ClassifyChannel("cache-x").cache);
  EXPECT_FALSE(ClassifyChannel("my-cache-x").cache);  // prefix only
  EXPECT_EQ(ClassifyChannel("private-x").type, ChannelType::kPrivate);
  EXPECT_TRUE(ClassifyChannel("private-cache-x").cache);
  EXPECT_EQ(ClassifyChannel("private-encrypted-x").type, ChannelType::kPrivateEncrypted);
  EXPECT_TRUE(ClassifyChannel("private-encrypted-cache-x").cache);
  EXPECT_EQ(ClassifyChannel("presence-x").type, ChannelType::kPresence);
  EXPECT_TRUE(ClassifyChannel("presence-cache-x").cache);
  EXPECT_EQ(ClassifyChannel("#server-to-user-1").type, ChannelType::kServerToUser);
  EXPECT_FALSE(ClassifyChannel("private-encrypted-x").AllowsClientEvents());
  EXPECT_TRUE(ClassifyChannel("presence-x").AllowsClientEvents());
  EXPECT_FALSE(ClassifyChannel("cache-x").AllowsClientEvents());
}

TEST(ChannelNameTest, LengthAndCharacters) {
  EXPECT_EQ(CheckChannelName(std::string(164, 'a'), 164), NameCheck::kOk);
  EXPECT_EQ(CheckChannelName(std::string(165, 'a'), 164), NameCheck::kTooLong);
  EXPECT_EQ(CheckChannelName("", 164), NameCheck::kInvalid);
  EXPECT_EQ(CheckChannelName("A-z_0=9@,.;", 164), NameCheck::kOk);
  EXPECT_EQ(CheckChannelName("ns:chan", 164), NameCheck::kInvalid);
  EXPECT_EQ(CheckChannelName("with space", 164), NameCheck::kInvalid);
  EXPECT_EQ(CheckChannelName("caf\xC3\xA9", 164), NameCheck::kInvalid);
  EXPECT_EQ(CheckChannelName("#server-to-user-42", 164), NameCheck::kOk);
  EXPECT_EQ(CheckChannelName("#server-to-user-", 164), NameCheck::kInvalid);
  EXPECT_EQ(CheckChannelName("#other", 164), NameCheck::kInvalid);
  EXPECT_EQ(ServerToUserId("#server-to-user-42"), "42");
  EXPECT_FALSE(ServerToUserId("private-x").has_value());
}

}  // namespace
}  // namespace sockudo::protocol
