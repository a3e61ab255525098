#include "dataplane/webhooks/queue/memory_queue.h"

namespace sockudo::dataplane::webhooks {

absl::Status MemoryQueue::Enqueue(const std::string& payload) {
  {
    std::lock_guard lock(mu_);
    if (ready_.size() + delayed_.size() + static_cast<size_t>(active_) >= capacity_) {
      return absl::ResourceExhaustedError("webhook queue full (queue.reliability.memory_capacity)");
    }
    ready_.emplace_back(std::to_string(next_id_++), payload);
  }
  cv_.notify_one();
  return absl::OkStatus();
}

void MemoryQueue::PromoteDue(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    ready_.push_back(std::move(delayed_.begin()->second));
    delayed_.erase(delayed_.begin());
  }
}

std::optional<QueuedJob> MemoryQueue::Claim(std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  std::unique_lock lock(mu_);
  const uint64_t wakes = wakes_;
  for (;;) {
    const auto now = Clock::now();
    PromoteDue(now);
    if (!ready_.empty()) {
      auto [id, payload] = std::move(ready_.front());
      ready_.pop_front();
      ++active_;
      return QueuedJob{std::move(id), std::move(payload), ""};
    }
    if (now >= deadline || wakes_ != wakes) return std::nullopt;
    auto until = deadline;
    if (!delayed_.empty() && delayed_.begin()->first < until) until = delayed_.begin()->first;
    cv_.wait_until(lock, until);
  }
}

void MemoryQueue::Ack(const QueuedJob&) {
  std::lock_guard lock(mu_);
  --active_;
}

void MemoryQueue::Retry(const QueuedJob& job, const std::string& payload,
                        std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(mu_);
    --active_;
    delayed_.emplace(Clock::now() + delay, std::make_pair(job.id, payload));
  }
  cv_.notify_one();
}

void MemoryQueue::DeadLetter(const QueuedJob&, std::string_view) {
  std::lock_guard lock(mu_);
  --active_;
  ++dlq_;
}

QueueDepth MemoryQueue::Depth() {
  std::lock_guard lock(mu_);
  return {static_cast<int64_t>(ready_.size()), static_cast<int64_t>(delayed_.size()), active_,
          dlq_};
}

void MemoryQueue::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

int64_t MemoryQueue::Volatile() {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(ready_.size() + delayed_.size()) + active_;
}

}  // namespace sockudo::dataplane::webhooks
