#include "common/protocol/frame.h"

#include <gtest/gtest.h>

namespace sockudo::protocol {
namespace {

TEST(FrameTest, OutboundShapes) {
  EXPECT_EQ(
      ConnectionEstablishedFrame("1.2", 120),
      R"({"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"})");
  EXPECT_EQ(ErrorFrame(std::nullopt, "Invalid JSON"),
            R"({"event":"pusher:error","data":{"code":null,"message":"Invalid JSON"}})");
  EXPECT_EQ(
      ErrorFrame(4301, "no", "private-a"),
      R"({"event":"pusher:error","channel":"private-a","data":{"code":4301,"message":"no"}})");
  EXPECT_EQ(SubscriptionSucceededFrame("a", "{}"),
            R"({"event":"pusher_internal:subscription_succeeded","channel":"a","data":"{}"})");
  EXPECT_EQ(
      SubscriptionErrorFrame("private-a", "AuthError", "bad", 401),
      R"({"event":"pusher:subscription_error","channel":"private-a","data":{"type":"AuthError","error":"bad","status":401}})");
  EXPECT_EQ(
      MemberAddedFrame("presence-a", "1", R"({"n":"x"})"),
      R"({"event":"pusher_internal:member_added","channel":"presence-a","data":"{\"user_id\":1,\"user_info\":{\"n\":\"x\"}}"})");
  EXPECT_EQ(
      MemberRemovedFrame("presence-a", R"("u")"),
      R"({"event":"pusher_internal:member_removed","channel":"presence-a","data":"{\"user_id\":\"u\"}"})");
  EXPECT_EQ(CacheMissFrame("cache-a"), R"({"event":"pusher:cache_miss","channel":"cache-a"})");
  EXPECT_EQ(ChannelEventFrame("e", "c", "h\xC3\xA9\n"),
            "{\"event\":\"e\",\"channel\":\"c\",\"data\":\"h\xC3\xA9\\n\"}");
  EXPECT_EQ(ClientEventFrame("client-t", "presence-a", R"({"x":1})", R"("u1")"),
            R"({"event":"client-t","channel":"presence-a","data":{"x":1},"user_id":"u1"})");
  EXPECT_EQ(ClientEventFrame("client-t", "private-a", R"("s")", std::nullopt),
            R"({"event":"client-t","channel":"private-a","data":"s"})");
  EXPECT_EQ(SigninSuccessFrame(R"({"id":"1"})"),
            R"({"event":"pusher:signin_success","data":{"user_data":"{\"id\":\"1\"}"}})");
  EXPECT_EQ(
      WatchlistEventsFrame({"a"}, {}),
      R"({"event":"pusher_internal:watchlist_events","data":"{\"events\":[{\"name\":\"online\",\"user_ids\":[\"a\"]}]}"})");
}

TEST(FrameTest, InboundParsing) {
  auto ok = ParseInbound(R"({"event":"pusher:ping","data":{}})");
  ASSERT_TRUE(std::holds_alternative<InboundFrame>(ok));
  EXPECT_EQ(std::get<InboundFrame>(ok).event, "pusher:ping");
  for (const char* bad : {"not json", "[]", "42", "\"x\"", "", "{\"event\":5}", "{\"data\":{}}"}) {
    auto r = ParseInbound(bad);
    ASSERT_TRUE(std::holds_alternative<ParseError>(r)) << bad;
    EXPECT_NE(std::get<ParseError>(r).error_frame.find("\"code\":null"), std::string::npos);
  }
  EXPECT_TRUE(std::holds_alternative<ParseError>(
      ParseInbound(std::string(100, '[') + std::string(100, ']'))));
  EXPECT_TRUE(std::holds_alternative<ParseError>(ParseInbound("{\"event\":\"\xFF\"}")));
}

}  // namespace
}  // namespace sockudo::protocol
