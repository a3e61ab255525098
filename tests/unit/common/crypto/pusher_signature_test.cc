#include "common/crypto/pusher_signature.h"

#include <gtest/gtest.h>

#include "common/crypto/hmac.h"

namespace sockudo::crypto {
namespace {

// The worked examples of spec/pusher-protocol.md §6.
TEST(ClientAuthTest, MatchesSpecExamples) {
  EXPECT_EQ(ClientAuth("app-key", "app-secret", "123.456:private-foo"),
            "app-key:c53bc505cb3d68dc9905dea8d5ed3c42f9e24aeed9453b7b9b200ff759958c02");
  EXPECT_EQ(ClientAuth("app-key", "app-secret",
                       R"(123.456:presence-foo:{"user_id":"1","user_info":{"name":"John"}})"),
            "app-key:dbfa2cff7cd40fe97cc2c2e99b5308283e6ed738ab2b71506d4cdded6e219afc");
  EXPECT_EQ(ClientAuth("app-key", "app-secret",
                       R"(123.456::user::{"id":"1","user_info":{"name":"John"}})"),
            "app-key:b11099046ec2f32901e4942f92c1e63b23eb4d096a3a12ac1f010e54cbead79a");
}

TEST(ClientAuthTest, VerifyRejectsWrongKeySecretSocketAndShape) {
  const std::string good = ClientAuth("app-key", "app-secret", "123.456:private-foo");
  EXPECT_TRUE(VerifyClientAuth("app-key", "app-secret", good, "123.456:private-foo"));
  EXPECT_FALSE(VerifyClientAuth("app-key", "other-secret", good, "123.456:private-foo"));
  EXPECT_FALSE(VerifyClientAuth("app-key", "app-secret", good, "123.457:private-foo"));
  EXPECT_FALSE(VerifyClientAuth("app-key", "app-secret", good, "123.456:private-bar"));
  EXPECT_FALSE(VerifyClientAuth("other-key", "app-secret", good, "123.456:private-foo"));
  EXPECT_FALSE(VerifyClientAuth("app-key", "app-secret", "", "123.456:private-foo"));
  EXPECT_FALSE(VerifyClientAuth("app-key", "app-secret", "app-key:abc", "123.456:private-foo"));
  EXPECT_FALSE(VerifyClientAuth("app-key", "app-secret", good.substr(8), "123.456:private-foo"));
}

// The worked examples of spec/http-api.md §2.1.
TEST(HttpSignatureTest, MatchesSpecExamples) {
  const std::string body =
      R"({"name":"greeting","data":"{\"message\":\"hello\"}","channels":["my-channel"]})";
  EXPECT_EQ(Md5Hex(body), "e6451fe999e3e4bb296b1e271d77d497");
  QueryParams post = {{"auth_key", "app-key"},
                      {"auth_timestamp", "1700000000"},
                      {"auth_version", "1.0"},
                      {"body_md5", Md5Hex(body)}};
  EXPECT_EQ(SignHttpRequest("app-secret", "POST", "/apps/app-id/events", post),
            "25e1d1647aef6a1abf6284e2bcfdbc2407468cc3b3a18505cd0294d4c0dc9c6b");
  QueryParams get = {{"filter_by_prefix", "presence-"}, {"info", "user_count"},
                     {"auth_key", "app-key"},           {"auth_timestamp", "1700000000"},
                     {"auth_version", "1.0"},           {"auth_signature", "ignored"}};
  EXPECT_EQ(CanonicalQuery(get),
            "auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0&filter_by_prefix=presence-"
            "&info=user_count");
  EXPECT_EQ(SignHttpRequest("app-secret", "GET", "/apps/app-id/channels", get),
            "fd5a1b38d92aee2b7913a8cf43136cffab888ee5a097536910d6239f08eb68a2");
}

TEST(HttpSignatureTest, CanonicalQueryLowercasesKeysAndKeepsLastRepeat) {
  EXPECT_EQ(CanonicalQuery({{"B", "1"}, {"a", "x"}, {"b", "2"}}), "a=x&b=2");
}

}  // namespace
}  // namespace sockudo::crypto
