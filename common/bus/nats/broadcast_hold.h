// File: broadcast_hold.h
// The broadcasts a NATS node keeps back after a reconnection, until its peers are subscribed
// again (a publish answered 200 must reach every subscribed node).
//
// NATS core has no acknowledgements and no subscriber count. After a server restart each node
// reconnects on its own schedule, and the server knows a node's subscriptions only once that
// node is back: a broadcast sent before reaches nobody there, yet its publisher was told it went
// out. So from a disconnection on (Close) the broadcasts wait here, in order, bounded, until the
// transport's roll call has heard every peer again, or its time limit passed (Open sends them).
// While open a publish passes straight through, taking no lock.
//
// Thread-safe: publishers on any thread, Close on nats.c's thread, Open and FailAll on the
// driver thread.
//
//   if (hold_.Keep(payload, done)) return;   // closed: it waits (or `done` failed: full)
//   PublishTo(subject, payload, done);
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/bus/transport.h"

namespace sockudo::bus::nats {

class BroadcastHold {
 public:
  using Send = std::function<void(const std::string& payload, Completion done)>;
  using Fail = std::function<void(Completion done, absl::Status why)>;

  explicit BroadcastHold(size_t limit) : limit_(limit) {}

  // A disconnection: the next broadcasts wait.
  void Close() { closed_.store(true, std::memory_order_release); }
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // While closed: keeps the broadcast (true), or when `limit` wait already fails it through
  // `fail` with kResourceExhausted (true). Open: false, the caller sends it.
  bool Keep(std::string& payload, Completion& done, const Fail& fail);

  // Sends what waits, in order, then opens; publishers that come meanwhile wait for it, so none
  // overtakes a kept broadcast. Returns how many were sent.
  size_t Open(const Send& send);

  // Stop: fails everything kept with `why` and opens (later publishes meet the stopped
  // transport).
  void FailAll(const absl::Status& why, const Fail& fail);

  size_t size() const;

 private:
  const size_t limit_;
  std::atomic<bool> closed_{false};
  mutable std::mutex mu_;
  std::deque<std::pair<std::string, Completion>> kept_;
};

}  // namespace sockudo::bus::nats
