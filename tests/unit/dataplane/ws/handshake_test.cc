#include "dataplane/ws/handshake.h"

#include <gtest/gtest.h>

namespace sockudo::dataplane::ws {
namespace {

TEST(HandshakeTest, AcceptKeyOfTheRfcExample) {
  EXPECT_EQ(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455 §1.3
}

TEST(HandshakeTest, AcceptsSixteenBytesOfBase64AndVersion13) {
  EXPECT_EQ(UpgradeProblem("dGhlIHNhbXBsZSBub25jZQ==", "13"), std::nullopt);
  EXPECT_EQ(UpgradeProblem(" dGhlIHNhbXBsZSBub25jZQ== ", " 13"), std::nullopt);
}

TEST(HandshakeTest, RefusesMissingOrWrongHeaders) {
  EXPECT_NE(UpgradeProblem(std::nullopt, "13"), std::nullopt);
  EXPECT_NE(UpgradeProblem("dGhlIHNhbXBsZSBub25jZQ==", std::nullopt), std::nullopt);
  EXPECT_NE(UpgradeProblem("dGhlIHNhbXBsZSBub25jZQ==", "8"), std::nullopt);
  EXPECT_NE(UpgradeProblem("dGhlIHNhbXBsZSBub25jZQ==", "13, 8"), std::nullopt);
  for (const char* key : {"", "abc", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=",
                          "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub25j*Q==",
                          "dGhlIHNhbXBsZSBub25jZQ==dGhl", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    EXPECT_NE(UpgradeProblem(key, "13"), std::nullopt) << key;
  }
}

}  // namespace
}  // namespace sockudo::dataplane::ws
