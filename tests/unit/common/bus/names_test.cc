// The bus addresses of spec/cluster.md §2: Redis / Redis Cluster channel names and NATS subjects
// of the five logical destinations, built by plain concatenation of the prefix.
#include "common/bus/names.h"

#include <gtest/gtest.h>

#include <string>

#include "common/bus/envelope.h"

namespace sockudo::bus {
namespace {

constexpr char kPrefix[] = "sockudo_adapter:";  // the default: Redis names hold "::"
constexpr char kNode[] = "0b6c1c1e-7d1a-4c1e-9a4e-00000000000f";
constexpr char kReplyHex[] = "0123456789abcdef0123456789abcdef";

TEST(NamesTest, RedisChannelsOfTheDefaultPrefix) {
  EXPECT_EQ(RedisChannel(kPrefix, Channel::kBroadcast), "sockudo_adapter::#broadcast");
  EXPECT_EQ(RedisChannel(kPrefix, Channel::kRequests), "sockudo_adapter::#requests");
  EXPECT_EQ(RedisChannel(kPrefix, Channel::kResponses), "sockudo_adapter::#responses");
  EXPECT_EQ(RedisChannel(kPrefix, Channel::kNodeInbox, kNode),
            "sockudo_adapter::#node:0b6c1c1e-7d1a-4c1e-9a4e-00000000000f");
  EXPECT_EQ(RedisChannel(kPrefix, Channel::kReplyInbox, kReplyHex),
            "sockudo_adapter::#reply:0123456789abcdef0123456789abcdef");
}

TEST(NamesTest, NatsSubjectsOfTheDefaultPrefix) {
  EXPECT_EQ(NatsSubject(kPrefix, Channel::kBroadcast), "sockudo_adapter:.broadcast");
  EXPECT_EQ(NatsSubject(kPrefix, Channel::kRequests), "sockudo_adapter:.requests");
  EXPECT_EQ(NatsSubject(kPrefix, Channel::kResponses), "sockudo_adapter:.responses");
  EXPECT_EQ(NatsSubject(kPrefix, Channel::kNodeInbox, kNode),
            "sockudo_adapter:.node.0b6c1c1e-7d1a-4c1e-9a4e-00000000000f");
  // The reply inbox is one wildcard subscription per process, outside the prefix.
  EXPECT_EQ(NatsSubject(kPrefix, Channel::kReplyInbox, kReplyHex),
            "_INBOX.0123456789abcdef0123456789abcdef.*");
}

TEST(NamesTest, OtherPrefixesAreConcatenatedAsGiven) {
  EXPECT_EQ(RedisChannel("app", Channel::kBroadcast), "app:#broadcast");
  EXPECT_EQ(RedisChannel("app", Channel::kNodeInbox, "n1"), "app:#node:n1");
  EXPECT_EQ(RedisChannel("", Channel::kRequests), ":#requests");
  EXPECT_EQ(NatsSubject("app", Channel::kBroadcast), "app.broadcast");
  EXPECT_EQ(NatsSubject("app", Channel::kNodeInbox, "n1"), "app.node.n1");
  EXPECT_EQ(NatsSubject("a.b", Channel::kResponses), "a.b.responses");
}

TEST(NamesTest, NatsRequestInboxUsesTheHexOfTheRequestId) {
  const std::string request_id = "6f1d2c3b-4a59-4b6c-8d7e-8f9a0b1c2d3e";
  EXPECT_EQ(NatsRequestInbox(kReplyHex, request_id),
            "_INBOX.0123456789abcdef0123456789abcdef.6f1d2c3b4a594b6c8d7e8f9a0b1c2d3e");
  // Matched by the process's wildcard subscription.
  const std::string wildcard = NatsSubject(kPrefix, Channel::kReplyInbox, kReplyHex);
  const std::string inbox = NatsRequestInbox(kReplyHex, NewUuid());
  ASSERT_EQ(wildcard.back(), '*');
  EXPECT_EQ(inbox.substr(0, wildcard.size() - 1), wildcard.substr(0, wildcard.size() - 1));
  EXPECT_EQ(inbox.size(), wildcard.size() - 1 + 32);
}

TEST(NamesTest, ChannelNamesForLogsAndMetrics) {
  EXPECT_EQ(ChannelName(Channel::kBroadcast), "broadcast");
  EXPECT_EQ(ChannelName(Channel::kRequests), "requests");
  EXPECT_EQ(ChannelName(Channel::kResponses), "responses");
  EXPECT_EQ(ChannelName(Channel::kNodeInbox), "node");
  EXPECT_EQ(ChannelName(Channel::kReplyInbox), "reply");
}

}  // namespace
}  // namespace sockudo::bus
