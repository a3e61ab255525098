#include "dataplane/limits/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace sockudo::dataplane::limits {

RateDecision RateLimiter::Take(const std::string& key, int64_t per_second, int64_t cost) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{static_cast<double>(per_second), now});
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min<double>(per_second, b.tokens + elapsed * per_second);
  b.last = now;
  RateDecision d;
  d.limit = per_second;
  if (b.tokens >= cost) {
    b.tokens -= cost;
  } else {
    d.allowed = false;
    d.retry_after_seconds =
        std::max<int64_t>(1, static_cast<int64_t>(std::ceil((cost - b.tokens) / per_second)));
  }
  d.remaining = static_cast<int64_t>(std::floor(b.tokens));
  return d;
}

}  // namespace sockudo::dataplane::limits
