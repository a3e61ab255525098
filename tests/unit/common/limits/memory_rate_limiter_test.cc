// The `memory` rate limiter (spec/backends.md §4.2) at fixed times: token buckets refill
// continuously and answer Retry-After; fixed windows count, reset after their window, and are
// swept once expired.
#include "common/limits/memory_rate_limiter.h"

#include <gtest/gtest.h>

namespace sockudo::limits {
namespace {

using Clock = MemoryRateLimiter::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(MemoryRateLimiterTest, TokenBucketRefillsContinuouslyAndAnswersRetryAfter) {
  MemoryRateLimiter limiter;
  const Clock::time_point t0 = Clock::now();
  RateDecision d = limiter.TakeTokensAt("app:1:backend_events", 10, 4, t0);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.limit, 10);
  EXPECT_EQ(d.remaining, 6);
  d = limiter.TakeTokensAt("app:1:backend_events", 10, 6, t0);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  d = limiter.TakeTokensAt("app:1:backend_events", 10, 1, t0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reset_seconds, 1);
  // 10 tokens per second: 300 ms gives 3 back.
  d = limiter.TakeTokensAt("app:1:backend_events", 10, 3, t0 + milliseconds(300));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  // A cost above the capacity is never allowed.
  d = limiter.TakeTokensAt("app:1:backend_events", 10, 11, t0 + seconds(5));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reset_seconds, 1);
  // Another key has its own bucket.
  EXPECT_TRUE(limiter.TakeTokensAt("app:2:backend_events", 10, 10, t0).allowed);
}

TEST(MemoryRateLimiterTest, FixedWindowCountsResetsAndIsSwept) {
  MemoryRateLimiter limiter;
  const Clock::time_point t0 = Clock::now();
  for (int i = 1; i <= 3; ++i) {
    RateDecision d = limiter.HitAt("api:203.0.113.7", 3, 60, t0 + seconds(i));
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 3 - i);
    EXPECT_EQ(d.reset_seconds, 61 - i);  // the window began at t0 + 1 s
  }
  RateDecision denied = limiter.HitAt("api:203.0.113.7", 3, 60, t0 + seconds(30));
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0);
  EXPECT_EQ(denied.reset_seconds, 31);
  EXPECT_TRUE(limiter.HitAt("api:198.51.100.1", 3, 60, t0 + seconds(30)).allowed);
  // After the window a new one starts.
  RateDecision again = limiter.HitAt("api:203.0.113.7", 3, 60, t0 + seconds(61));
  EXPECT_TRUE(again.allowed);
  EXPECT_EQ(again.remaining, 2);
  EXPECT_EQ(limiter.windows(), 2u);
  // Expired windows are swept (at most every 10 s, during a hit).
  limiter.HitAt("other", 3, 60, t0 + seconds(200));
  EXPECT_EQ(limiter.windows(), 1u);
}

TEST(MemoryRateLimiterTest, AnswersInline) {
  MemoryRateLimiter limiter;
  bool ran = false;
  limiter.Hit("k", 1, 1, [&](RateDecision d) { ran = d.allowed; });
  EXPECT_TRUE(ran);
  EXPECT_TRUE(limiter.answers_inline());
}

}  // namespace
}  // namespace sockudo::limits
