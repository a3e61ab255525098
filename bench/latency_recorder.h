// File: latency_recorder.h
// Collects latency samples (microseconds) and reports percentiles. Bounded: past `capacity`
// samples it keeps counting but stores no more.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sockudo::bench {

class LatencyRecorder {
 public:
  explicit LatencyRecorder(size_t capacity = 20'000'000) : capacity_(capacity) {}
  void Add(int64_t micros) {
    ++count_;
    if (samples_.size() < capacity_)
      samples_.push_back(static_cast<uint32_t>(std::clamp<int64_t>(micros, 0, UINT32_MAX)));
  }
  size_t count() const { return count_; }
  // Percentile in milliseconds (p in [0, 100]).
  double PercentileMs(double p) {
    if (samples_.empty()) return 0;
    const size_t k =
        std::min(samples_.size() - 1, static_cast<size_t>(p / 100.0 * samples_.size()));
    std::nth_element(samples_.begin(), samples_.begin() + k, samples_.end());
    return samples_[k] / 1000.0;
  }
  double MaxMs() const {
    return samples_.empty() ? 0 : *std::max_element(samples_.begin(), samples_.end()) / 1000.0;
  }

 private:
  size_t capacity_;
  size_t count_ = 0;
  std::vector<uint32_t> samples_;
};

}  // namespace sockudo::bench
