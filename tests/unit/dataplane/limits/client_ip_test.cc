// The client IP behind trusted proxies: the n-th entry from the right of X-Forwarded-For, then
// X-Real-IP when valid, else the peer.
#include "dataplane/limits/client_ip.h"

#include <gtest/gtest.h>

namespace sockudo::dataplane::limits {
namespace {

TEST(ClientIpTest, TrustedHopsPickFromTheRightOfXForwardedForThenXRealIp) {
  EXPECT_EQ(ClientIp("10.0.0.1", "198.51.100.9", "198.51.100.8", 0), "10.0.0.1");
  EXPECT_EQ(ClientIp("10.0.0.1", "203.0.113.7, 198.51.100.9", "", 1), "198.51.100.9");
  EXPECT_EQ(ClientIp("10.0.0.1", "203.0.113.7, 198.51.100.9", "", 2), "203.0.113.7");
  EXPECT_EQ(ClientIp("10.0.0.1", " 2001:db8::1 ,198.51.100.9", "", 2), "2001:db8::1");
  // Fewer entries than hops, or not an IP: X-Real-IP when valid, else the peer.
  EXPECT_EQ(ClientIp("10.0.0.1", "198.51.100.9", "203.0.113.5", 3), "203.0.113.5");
  EXPECT_EQ(ClientIp("10.0.0.1", "evil, 198.51.100.9", "nope", 2), "10.0.0.1");
  EXPECT_EQ(ClientIp("unix", "", "", 1), "unix");
  EXPECT_TRUE(IsIpAddress("::1"));
  EXPECT_FALSE(IsIpAddress("1.2.3"));
  EXPECT_FALSE(IsIpAddress(""));
}

}  // namespace
}  // namespace sockudo::dataplane::limits
