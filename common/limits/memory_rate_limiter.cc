#include "common/limits/memory_rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace sockudo::limits {
namespace {

constexpr auto kSweepInterval = std::chrono::seconds(10);

// Tokens refilled over `elapsed_ms`, then `cost` taken when they suffice.
RateDecision BucketDecision(double* tokens, double elapsed_ms, int64_t per_second, int64_t cost) {
  *tokens = std::min<double>(static_cast<double>(per_second),
                             *tokens + std::max(0.0, elapsed_ms) * per_second / 1000.0);
  RateDecision d;
  d.limit = per_second;
  if (*tokens >= static_cast<double>(cost)) {
    *tokens -= static_cast<double>(cost);
  } else {
    d.allowed = false;
    d.reset_seconds = RetryAfterSeconds(*tokens, cost, per_second);
  }
  d.remaining = static_cast<int64_t>(std::floor(*tokens));
  return d;
}

}  // namespace

RateDecision MemoryRateLimiter::TakeTokensAt(const std::string& key, int64_t per_second,
                                             int64_t cost, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{static_cast<double>(per_second), now});
  Bucket& b = it->second;
  const double elapsed_ms = std::chrono::duration<double, std::milli>(now - b.last).count();
  b.last = now;
  return BucketDecision(&b.tokens, elapsed_ms, per_second, cost);
}

RateDecision MemoryRateLimiter::HitAt(const std::string& key, int64_t max, int64_t window_seconds,
                                      Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (now >= next_sweep_) {
    std::erase_if(windows_, [now](const auto& entry) { return entry.second.end <= now; });
    next_sweep_ = now + kSweepInterval;
  }
  Window& w = windows_[key];
  if (w.count == 0 || now >= w.end) {
    w.count = 0;
    w.end = now + std::chrono::seconds(window_seconds);
  }
  w.count += 1;
  RateDecision d;
  d.allowed = w.count <= max;
  d.limit = max;
  d.remaining = std::max<int64_t>(0, max - w.count);
  const double left = std::chrono::duration<double>(w.end - now).count();
  d.reset_seconds = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(left)));
  return d;
}

void MemoryRateLimiter::TakeTokens(const std::string& key, int64_t per_second, int64_t cost,
                                   RateDone done) {
  done(TakeTokensAt(key, per_second, cost, Clock::now()));
}

void MemoryRateLimiter::Hit(const std::string& key, int64_t max, int64_t window_seconds,
                            RateDone done) {
  done(HitAt(key, max, window_seconds, Clock::now()));
}

size_t MemoryRateLimiter::windows() const {
  std::lock_guard lock(mu_);
  return windows_.size();
}

}  // namespace sockudo::limits
