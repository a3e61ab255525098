// File: sharded_gauge.h
// A gauge updated on hot paths by several workers: one cache-line-padded relaxed counter per
// worker (no line bouncing between cores), summed when it is read. Add() from worker `shard`
// only; Sum() from any thread.
//
//   gauge.Add(worker.id, +1);   // on the worker
//   int64_t total = gauge.Sum(); // /metrics
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace sockudo::dataplane::metrics {

class ShardedGauge {
 public:
  explicit ShardedGauge(size_t shards = 64) : shards_(shards), cells_(new Cell[shards]) {}

  void Add(size_t shard, int64_t n) {
    cells_[shard % shards_].value.fetch_add(n, std::memory_order_relaxed);
  }
  int64_t Sum() const {
    int64_t total = 0;
    for (size_t i = 0; i < shards_; ++i) total += cells_[i].value.load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(64) Cell {
    std::atomic<int64_t> value{0};
  };
  size_t shards_;
  std::unique_ptr<Cell[]> cells_;
};

}  // namespace sockudo::dataplane::metrics
