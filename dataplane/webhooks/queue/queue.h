// File: queue.h
// The webhook job queue: one logical queue of opaque job payloads with the state machine ready ->
// active (claimed by a worker) -> acked | delayed (retry) | dead-lettered. Drivers: MemoryQueue
// (in-process, bounded, lost on exit) and RedisQueue (shared by the nodes, at least once: a claimed
// job carries a lease; a worker that dies loses it and the job is claimed again). Every call may
// block (Redis round trips) and is meant for the webhook dispatcher's own threads, never a node
// worker. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace sockudo::dataplane::webhooks {

struct QueuedJob {
  std::string id;
  std::string payload;
  std::string token;  // lease token (redis); empty for memory
};

struct QueueDepth {
  int64_t wait = 0;
  int64_t delayed = 0;
  int64_t active = 0;
  int64_t dlq = 0;
};

class Queue {
 public:
  virtual ~Queue() = default;
  // Adds a ready job; RESOURCE_EXHAUSTED when a bounded queue is full, UNAVAILABLE when the
  // backend cannot be reached.
  virtual absl::Status Enqueue(const std::string& payload) = 0;
  // A ready (or due delayed) job, waiting up to `wait` for one; nullopt when there is none.
  virtual std::optional<QueuedJob> Claim(std::chrono::milliseconds wait) = 0;
  // Delivered: the job leaves the queue.
  virtual void Ack(const QueuedJob& job) = 0;
  // Back to the delayed set with `payload` (the job's retry state), due after `delay`.
  virtual void Retry(const QueuedJob& job, const std::string& payload,
                     std::chrono::milliseconds delay) = 0;
  // Out of the queue into the dead-letter set, with a reason.
  virtual void DeadLetter(const QueuedJob& job, std::string_view reason) = 0;
  virtual QueueDepth Depth() = 0;
  // Wakes every Claim waiter (shutdown).
  virtual void Wake() = 0;
  // Jobs lost if the process exits now (memory: all still queued; redis: none).
  virtual int64_t Volatile() { return 0; }
  virtual const char* name() const = 0;
};

}  // namespace sockudo::dataplane::webhooks
