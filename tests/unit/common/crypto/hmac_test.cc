#include "common/crypto/hmac.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace sockudo::crypto {
namespace {

// RFC 4231 test cases 1, 2 and 6, plus a key of exactly one block and the empty key.
TEST(HmacTest, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HmacSha256Hex(std::string(64, 'k'), "exactly one block of key"),
            "baa93ea4ccc7062ed6870c5e7937dbd35ad7791df4e29df9addeb429ff491acf");
  EXPECT_EQ(HmacSha256Hex("", ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacTest, Md5) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

// Every worker thread hashes with its own context.
TEST(HmacTest, ThreadsHashIndependently) {
  std::string a, b;
  std::thread t1([&] {
    for (int i = 0; i < 2000; ++i) a = HmacSha256Hex("Jefe", "what do ya want for nothing?");
  });
  std::thread t2([&] {
    for (int i = 0; i < 2000; ++i) b = Md5Hex("abc");
  });
  t1.join();
  t2.join();
  EXPECT_EQ(a, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(b, "900150983cd24fb0d6963f7d28e17f72");
}

TEST(HmacTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(HmacTest, SecureRandomStaysBelowBound) {
  for (int i = 0; i < 1000; ++i) EXPECT_LT(SecureRandom(10), 10u);
}

}  // namespace
}  // namespace sockudo::crypto
