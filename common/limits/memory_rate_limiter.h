// File: memory_rate_limiter.h
// The `memory` rate-limiter driver: token buckets and fixed windows held by this node, so limits
// are enforced per node. Answers inline. Expired windows are swept at most every 10 s, during a
// hit. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "common/limits/rate_limiter.h"

namespace sockudo::limits {

class MemoryRateLimiter : public RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  void TakeTokens(const std::string& key, int64_t per_second, int64_t cost, RateDone done) override;
  void Hit(const std::string& key, int64_t max, int64_t window_seconds, RateDone done) override;
  bool answers_inline() const override { return true; }

  // The same at a given time (tests).
  RateDecision TakeTokensAt(const std::string& key, int64_t per_second, int64_t cost,
                            Clock::time_point now);
  RateDecision HitAt(const std::string& key, int64_t max, int64_t window_seconds,
                     Clock::time_point now);
  size_t windows() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  struct Window {
    int64_t count = 0;
    Clock::time_point end;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, Window> windows_ ABSL_GUARDED_BY(mu_);
  Clock::time_point next_sweep_ ABSL_GUARDED_BY(mu_){};
};

}  // namespace sockudo::limits
