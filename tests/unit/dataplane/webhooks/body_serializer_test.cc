#include "dataplane/webhooks/body_serializer.h"

#include <gtest/gtest.h>

#include "common/crypto/hmac.h"
#include "dataplane/webhooks/webhook_event.h"

namespace sockudo::dataplane::webhooks {
namespace {

base::Json Parse(const std::string& text) { return *base::ParseJson(text); }

TEST(WebhookBodyTest, SpecExampleBytesAndSignature) {
  base::Json events = base::Json::array();
  events.push_back(ChannelOccupied("my-channel").object);
  const std::string body = WebhookBody(1700000000000, events);
  EXPECT_EQ(body,
            R"({"time_ms":1700000000000,"events":[{"name":"channel_occupied","channel":"my-channel"}]})");
  EXPECT_EQ(crypto::HmacSha256Hex("app-secret", body),
            "fec9fff324b82111ea03affc886e951bec5ee7a9e365bfd05cf254414c990a1a");
}

TEST(WebhookBodyTest, StringsEscapeOnlyWhatJavaScriptEscapes) {
  base::Json v = std::string("a\"b\\c/d\x01\x1f\n\t\b\f\r é \xe2\x80\xa8");
  EXPECT_EQ(SerializeJs(v), "\"a\\\"b\\\\c/d\\u0001\\u001f\\n\\t\\b\\f\\r é \xe2\x80\xa8\"");
}

TEST(WebhookBodyTest, NumbersFollowJavaScript) {
  EXPECT_EQ(JsNumber(1e21), "1e+21");
  EXPECT_EQ(JsNumber(1.5e-7), "1.5e-7");
  EXPECT_EQ(JsNumber(1.0), "1");
  EXPECT_EQ(JsNumber(-0.0), "0");
  EXPECT_EQ(JsNumber(0.1), "0.1");
  EXPECT_EQ(JsNumber(123.456), "123.456");
  EXPECT_EQ(JsNumber(1e20), "100000000000000000000");
  EXPECT_EQ(JsNumber(0.000001), "0.000001");
  EXPECT_EQ(JsNumber(-2.5e-7), "-2.5e-7");
  EXPECT_EQ(JsNumber(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(SerializeJs(Parse("[1.0, -0.0, 9007199254740993, 12, -5, 2.50]")),
            "[1,0,9007199254740992,12,-5,2.5]");
}

TEST(WebhookBodyTest, ArrayIndexKeysFirstThenInsertionOrder) {
  EXPECT_EQ(SerializeJs(Parse(R"({"b":1,"10":2,"a":3,"2":4,"01":5,"4294967295":6})")),
            R"({"2":4,"10":2,"b":1,"a":3,"01":5,"4294967295":6})");
}

TEST(WebhookBodyTest, ClientEventKeepsDataAsValueAndUserIdType) {
  base::Json data = Parse(R"({"message":"hi","n":1})");
  WebhookEvent e = ClientEvent("presence-room", "client-x", &data, "1.2", "2");
  EXPECT_EQ(SerializeJs(e.object),
            R"({"name":"client_event","channel":"presence-room","event":"client-x",)"
            R"("data":{"message":"hi","n":1},"socket_id":"1.2","user_id":2})");
  WebhookEvent s = MemberAdded("presence-room", "\"u1\"");
  EXPECT_EQ(SerializeJs(s.object),
            R"({"name":"member_added","channel":"presence-room","user_id":"u1"})");
}

}  // namespace
}  // namespace sockudo::dataplane::webhooks
