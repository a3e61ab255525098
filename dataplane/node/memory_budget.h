// File: memory_budget.h
// A node-wide allowance of bytes shared by every worker. WebSocket and HTTP sessions charge the
// memory of partially received input to one (config max_inbound_buffer_mb) before they grow a
// buffer, and release it when the buffer shrinks or the session ends, so no number of clients
// sending large messages slowly can hold more than the limit. Lock-free; any thread.
//
//   if (!budget.TryCharge(grow_by)) return CloseOverCapacity();
//   ...
//   budget.Release(grow_by);
#pragma once

#include <atomic>
#include <cstddef>

namespace sockudo::dataplane::node {

class MemoryBudget {
 public:
  explicit MemoryBudget(size_t limit) : limit_(limit) {}

  // Takes `bytes` from the allowance; false, taking nothing, when that would exceed the limit.
  bool TryCharge(size_t bytes) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void Release(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

}  // namespace sockudo::dataplane::node
