// File: broadcast_gate.h
// Holds broadcasts after a bus break until the other nodes' subscribers are back (a publish
// answered 200 must reach every subscribed node).
//
// After a broker restart or a network break, every node's subscriber comes back on its own
// backoff, often later than the publishing connection. A broadcast sent in between is accepted
// by the broker and never reaches the nodes not subscribed yet. So once the driver saw a break
// (Close), the broadcasts that follow wait at the gate until the broker counts at least as many
// subscribers of the broadcast channel as before the break (`expected`), for `limit` at most (a
// node that left meanwhile is not waited for longer); then they go out in the order they came.
//
// The count is the driver's: PUBSUB NUMSUB on the one server (redis), the sum over every node of
// a Redis Cluster once its links are up (redis-cluster classic), SHARDNUMSUB on the owner
// (sharded). Driver thread only.
//
//   BroadcastGate gate(io(), log, [this](BroadcastGate::CountDone done) { ... done(n); });
//   gate.set_expected(receivers);             // what the broker counted while all was well
//   gate.Close();                             // a connection broke
//   gate.Pass([=] { conn->Command({"PUBLISH", ...}); });  // now, or once the count is back
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "spdlog/logger.h"

namespace sockudo::bus::redis {

class BroadcastGate {
 public:
  // The broker's subscriber count of the broadcast channel, or nullopt when it cannot tell now.
  using CountDone = std::function<void(std::optional<size_t>)>;
  using Count = std::function<void(CountDone)>;

  static constexpr std::chrono::milliseconds kLimit{3000};
  static constexpr std::chrono::milliseconds kPoll{25};

  BroadcastGate(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log, Count count);

  // The subscriber count the gate waits for after a break.
  void set_expected(size_t n) { expected_ = n; }
  size_t expected() const { return expected_; }

  // A break: the next broadcasts wait.
  void Close() { closed_ = true; }
  bool closed() const { return closed_; }

  // Runs `publish` at once while open (and nothing waits); else when the gate opens, in order.
  void Pass(std::function<void()> publish);

  // Stop: drops what waits (the pipeline answers those publishes) and ignores late counts.
  void Shutdown();

 private:
  void Poll(uint64_t round);
  void Open();

  std::shared_ptr<spdlog::logger> log_;
  Count count_;
  boost::asio::steady_timer limit_timer_;  // kLimit after the first broadcast waited
  boost::asio::steady_timer poll_timer_;   // kPoll between counts
  size_t expected_ = 0;
  bool closed_ = false;
  bool polling_ = false;
  uint64_t round_ = 0;  // one per wait: counts and timers of an earlier one are ignored
  bool shut_ = false;
  std::vector<std::function<void()>> waiting_;  // publishes, in pipeline order
};

}  // namespace sockudo::bus::redis
