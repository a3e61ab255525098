// File: latency_histogram.h
// A latency histogram written from hot paths: fixed bucket bounds in milliseconds, one relaxed
// atomic per bucket and one for the sum (in microseconds), so Observe() never locks or
// allocates. The exporter reads a Snapshot at scrape time and copies it into prometheus-cpp.
//
//   histogram.Observe(elapsed_ms);           // any thread
//   LatencyHistogram::Snapshot s = histogram.Read();
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sockudo::dataplane::metrics {

class LatencyHistogram {
 public:
  // Upper bounds (le) of the finite buckets, in milliseconds; a last bucket takes the rest.
  static constexpr std::array<double, 13> kBoundsMs = {0.5, 1,   2,   5,    10,   25,  50,
                                                       100, 250, 500, 1000, 2500, 5000};
  static constexpr size_t kBuckets = kBoundsMs.size() + 1;
  static constexpr double kMaxMs = 1e9;  // larger values are recorded as this (11.5 days)

  struct Snapshot {
    std::array<uint64_t, kBuckets> buckets{};  // per bucket, not cumulative; last: > 5000 ms
    uint64_t sum_us = 0;
    uint64_t count() const {
      uint64_t n = 0;
      for (uint64_t b : buckets) n += b;
      return n;
    }
  };

  // Records one value; negative values (clock skew between nodes) count as 0.
  void Observe(double ms) {
    if (!(ms > 0)) ms = 0;         // also NaN
    if (ms > kMaxMs) ms = kMaxMs;  // keeps the sum in range
    size_t i = 0;
    while (i < kBoundsMs.size() && ms > kBoundsMs[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(static_cast<uint64_t>(ms * 1000.0 + 0.5), std::memory_order_relaxed);
  }

  Snapshot Read() const {
    Snapshot s;
    for (size_t i = 0; i < kBuckets; ++i)
      s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    s.sum_us = sum_us_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> sum_us_{0};
};

}  // namespace sockudo::dataplane::metrics
