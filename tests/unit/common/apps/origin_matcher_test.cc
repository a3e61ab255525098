#include "common/apps/origin_matcher.h"

#include <gtest/gtest.h>

namespace sockudo::apps {
namespace {

TEST(OriginMatcherTest, PatternForms) {
  EXPECT_TRUE(OriginMatches("*", "https://x.y"));
  EXPECT_TRUE(OriginMatches("any", ""));
  EXPECT_TRUE(OriginMatches("https://App.example.com", "https://app.EXAMPLE.com"));
  EXPECT_FALSE(OriginMatches("https://app.example.com", "http://app.example.com"));
  EXPECT_TRUE(OriginMatches("app.example.com", "http://app.example.com"));
  EXPECT_TRUE(OriginMatches("*.example.com", "https://example.com"));
  EXPECT_TRUE(OriginMatches("*.example.com", "https://a.b.example.com"));
  EXPECT_FALSE(OriginMatches("*.example.com", "https://badexample.com"));
  EXPECT_TRUE(OriginMatches("https://*.example.com", "https://a.example.com"));
  EXPECT_FALSE(OriginMatches("https://*.example.com", "http://a.example.com"));
  EXPECT_FALSE(OriginMatches("https://app.example.com", ""));
}

TEST(OriginMatcherTest, Validation) {
  EXPECT_TRUE(ValidateOriginPattern("*.x.com").ok());
  EXPECT_FALSE(ValidateOriginPattern("").ok());
  EXPECT_FALSE(ValidateOriginPattern("*.*.com").ok());
}

}  // namespace
}  // namespace sockudo::apps
