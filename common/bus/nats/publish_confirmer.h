// File: publish_confirmer.h
// Reports a NATS publish as done only once the server has it (a publish answered 200 went out,
// one that could not answers 503).
//
// NATS core does not acknowledge publishes: nats.c accepts a message into its buffer, and when
// the server dies right then the message is gone while its publisher was told it went out. The
// server handles a connection's messages in order, so its answer to a PING sent after them
// (a flush) says it routed every one of them to its subscribers. This class does that in
// batches on its own thread: the publishes accepted since the last flush wait for the next
// one, then complete with OK, or with kUnavailable when the flush failed or the connection broke
// meanwhile (a reconnection must not confirm what the old connection lost).
//
// Thread-safe: Add from publishing threads, Broke from nats.c's threads, Start and Stop from the
// transport's owner.
//
//   PublishConfirmer confirmer([&] { return Flush(); },
//                              [&](Completion done, absl::Status s) { Complete(done, s); });
//   confirmer.Start();
//   if (natsConnection_Publish(...) == NATS_OK) confirmer.Add(std::move(done));
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/bus/transport.h"

namespace sockudo::bus::nats {

class PublishConfirmer {
 public:
  // Blocks until the server answered a PING sent now (OK), or why not.
  using Flush = std::function<absl::Status()>;
  // Delivers an outcome (the transport posts it to its driver thread).
  using Finish = std::function<void(Completion done, absl::Status status)>;

  PublishConfirmer(Flush flush, Finish finish);
  ~PublishConfirmer();
  PublishConfirmer(const PublishConfirmer&) = delete;
  PublishConfirmer& operator=(const PublishConfirmer&) = delete;

  void Start();
  // A publish nats.c accepted; `done` runs once the server has it (or not).
  void Add(Completion done);
  // The connection broke: what waits fails now, a flush under way confirms nothing.
  void Broke();
  // Confirms (one last flush) or fails what waits, then joins the thread.
  void Stop();

  uint64_t flushes() const;

 private:
  void Run();
  void FailAll(std::vector<Completion> batch, const absl::Status& why);

  const Flush flush_;
  const Finish finish_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Completion> pending_;
  uint64_t epoch_ = 0;  // one per Broke
  uint64_t flushes_ = 0;
  bool running_ = false;   // between Start and the end of Stop
  bool stopping_ = false;  // Stop has begun: Add no longer queues
  std::thread thread_;
};

}  // namespace sockudo::bus::nats
