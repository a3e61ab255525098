// File: backoff.h
// The reconnection delay of a subscriber connection: `first` (500 ms) doubling after every failed
// attempt up to `max` (10 s), back to `first` once subscribed again.
//
//   Backoff backoff(options.resubscribe_delay, options.resubscribe_max_delay);
//   timer.expires_after(backoff.delay());   // the next attempt
//   backoff.Grow();                         // it failed
//   backoff.Reset();                        // it worked
#pragma once

#include <algorithm>
#include <chrono>

namespace sockudo::bus::redis {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds first, std::chrono::milliseconds max)
      : first_(first), max_(max), delay_(first) {}

  std::chrono::milliseconds delay() const { return delay_; }
  // Doubles the delay (capped); returns the new one.
  std::chrono::milliseconds Grow() {
    delay_ = std::min(delay_ * 2, max_);
    return delay_;
  }
  void Reset() { delay_ = first_; }

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds delay_;
};

}  // namespace sockudo::bus::redis
