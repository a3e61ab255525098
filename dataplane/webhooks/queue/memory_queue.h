// File: memory_queue.h
// The `memory` queue driver: in-process, per node, bounded by queue.reliability.memory_capacity
// (ready + delayed + active). Same state machine as Redis without leases; jobs still queued when
// the process exits are lost. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "dataplane/webhooks/queue/queue.h"

namespace sockudo::dataplane::webhooks {

class MemoryQueue : public Queue {
 public:
  explicit MemoryQueue(size_t capacity) : capacity_(capacity) {}

  // Queue
  absl::Status Enqueue(const std::string& payload) override;
  std::optional<QueuedJob> Claim(std::chrono::milliseconds wait) override;
  void Ack(const QueuedJob& job) override;
  void Retry(const QueuedJob& job, const std::string& payload,
             std::chrono::milliseconds delay) override;
  void DeadLetter(const QueuedJob& job, std::string_view reason) override;
  QueueDepth Depth() override;
  void Wake() override;
  int64_t Volatile() override;
  const char* name() const override { return "memory"; }

 private:
  using Clock = std::chrono::steady_clock;
  void PromoteDue(Clock::time_point now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<std::pair<std::string, std::string>> ready_ ABSL_GUARDED_BY(mu_);
  std::multimap<Clock::time_point, std::pair<std::string, std::string>> delayed_
      ABSL_GUARDED_BY(mu_);
  int64_t active_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dlq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t wakes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sockudo::dataplane::webhooks
