// File: rate_limiter.h
// The store of the rate limits: per-app token buckets (backend events, read requests) and per-IP
// windows (HTTP API, WebSocket upgrades). Drivers: `memory` (memory_rate_limiter.h, per node,
// answers inline) and `redis` / `redis-cluster` (redis_rate_limiter.h, shared by the nodes, answers
// on its own thread); `none` is no limiter at all (MakeRateLimiter returns null). A store that
// fails or times out allows the request (fail open) and counts the error.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>

namespace sockudo::limits {

struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;
  int64_t remaining = 0;
  // Windows: seconds until the window resets. Buckets: when denied, the Retry-After seconds.
  int64_t reset_seconds = 0;
};

using RateDone = std::function<void(RateDecision)>;

// The token bucket of an app's per-second budget: one key for every process that spends it (the
// nodes' HTTP API, the control plane's Events API).
inline std::string AppBudgetKey(const std::string& app_id, bool backend_events) {
  return "app:" + app_id + (backend_events ? ":backend_events" : ":read_requests");
}

// Retry-After of a denied bucket holding `tokens`: the seconds until `cost` tokens are back.
inline int64_t RetryAfterSeconds(double tokens, int64_t cost, int64_t per_second) {
  return std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil((static_cast<double>(cost) - tokens) / per_second)));
}

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;

  // Token bucket `key` of capacity `per_second`, refilled continuously at `per_second` tokens per
  // second; takes `cost` tokens when it holds them.
  virtual void TakeTokens(const std::string& key, int64_t per_second, int64_t cost,
                          RateDone done) = 0;
  // One hit on the window `key`: at most `max` per `window_seconds`.
  virtual void Hit(const std::string& key, int64_t max, int64_t window_seconds, RateDone done) = 0;
  // True when `done` always runs before TakeTokens / Hit return, on the caller's thread; false
  // when it runs later on a thread of the limiter.
  virtual bool answers_inline() const = 0;
  // Stops answering later (what is pending is answered now: allowed); for a store with threads
  // of its own, called by the node while its workers still run.
  virtual void Shutdown() {}
};

}  // namespace sockudo::limits
