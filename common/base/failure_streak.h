// File: failure_streak.h
// Consecutive failures of a store or a link, for logs that do not flood during an outage:
// Fail() returns the length of the streak, and `ShouldLog` is true at 1, 2, 4, 8, ... failures;
// Succeed() ends the streak. Thread-safe.
//
//   if (auto n = streak.Fail(); FailureStreak::ShouldLog(n)) log->warn("... ({} in a row)", n);
#pragma once

#include <atomic>
#include <cstdint>

namespace sockudo::base {

class FailureStreak {
 public:
  int64_t Fail() { return n_.fetch_add(1, std::memory_order_relaxed) + 1; }
  void Succeed() { n_.store(0, std::memory_order_relaxed); }
  static bool ShouldLog(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

 private:
  std::atomic<int64_t> n_{0};
};

}  // namespace sockudo::base
