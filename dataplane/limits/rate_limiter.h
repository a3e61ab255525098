// File: rate_limiter.h
// Per-app token buckets refilled continuously (spec/http-api.md §5, spec/backends.md §4.2): the
// `memory` rate-limiter driver, counted per node. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"

namespace sockudo::dataplane::limits {

struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t retry_after_seconds = 0;
};

class RateLimiter {
 public:
  // Takes `cost` tokens from the bucket `key` holding at most `per_second` tokens.
  RateDecision Take(const std::string& key, int64_t per_second, int64_t cost);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sockudo::dataplane::limits
