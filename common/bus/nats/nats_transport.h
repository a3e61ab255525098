// File: nats_transport.h
// The `nats` driver over nats.c 3.4. Owns one natsConnection, one async subscription per
// destination this participant listens to, and an io_context with a thread of its own (the driver
// thread). nats.c calls back on its library threads; each callback only copies what it needs,
// destroys the natsMsg and posts to the driver thread, so Listener calls, Completions, CountNodes
// answers and the fatal hook all run there, in arrival order per subscription.
//
// Subscriptions: a data node listens on {prefix}.broadcast, .requests, .responses, .node.{id} and
// its reply wildcard _INBOX.{hex}.*; an observer on .requests and the reply wildcard only.
// PublishRequest sends the per-request inbox _INBOX.{hex}.{request hex} as reply subject, so the
// responses arrive on kReplyInbox; Reply(address) publishes to a request's reply subject;
// ReplyTo() is "".
//
// Start: one connect attempt; a credentials or TLS error fails at once (Unauthenticated /
// FailedPrecondition), otherwise nats.c retries in the background (retry-on-failed-connect) until
// adapter.nats.connection_timeout_ms, then Unavailable naming the servers. Start returns once the
// server confirmed the subscriptions (flush).
// Connection events: disconnected -> unhealthy (OnHealthChanged(false)); reconnected (nats.c has
// resent the subscriptions, then flushed what it buffered meanwhile) -> OnHealthChanged(true),
// OnResubscribed(); closed while running (max_reconnects exhausted) -> error log,
// OnHealthChanged(false) and the fatal hook given at construction, which should end the process
// non-zero. Stop drains (unsubscribe, deliver what arrived, flush publishes), then closes.
//
// Publishes complete once the server has them: nats.c only buffers a message, so a batch of
// publishes is confirmed by the server's answer to one PING sent after them (PublishConfirmer);
// a connection that breaks first fails them (the HTTP publish answers 503). After a
// reconnection, broadcasts wait (BroadcastHold, 3 s at most) until a roll call on the broadcast
// subject (a message with a reply subject, answered by every subscribed node with its id, never
// delivered) has heard every peer the adapter knows (ExpectPeers): a peer that has not
// resubscribed yet would miss them.
//
// Threads: Start() and Stop() from the owning thread, never from the driver thread; Publish*,
// Reply, CountNodes, Post, Healthy and the counters from any thread. Publishes made while nats.c
// reconnects fail at once with Unavailable instead of waiting in nats.c's reconnect buffer: a
// restarted server does not know the peers' subscriptions until they reconnect as well, so a
// buffered message could be flushed to nobody after its publisher was told it went out (the
// HTTP publish answers 503 instead). Publishes outside Start..Stop fail with FailedPrecondition,
// their Completion then runs on the calling thread (there is no driver thread).
//
//   config::NatsAdapterConfig config;
//   config.servers = {"nats://127.0.0.1:4222"};
//   NatsTransport transport(config, [](absl::Status s) { /* log, exit non-zero */ });
//   SOCKUDO_RETURN_IF_ERROR(transport.Start(identity, &listener));
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/bus/nats/broadcast_hold.h"
#include "common/bus/nats/publish_confirmer.h"
#include "common/bus/transport.h"
#include "common/config/config.h"

namespace sockudo::bus::nats {

class NatsTransport : public Transport {
 public:
  // Called once, on the driver thread, when nats.c closed the connection for good while running
  // (reconnects exhausted). Must not call Stop().
  using FatalHandler = std::function<void(absl::Status)>;

  // Event and drop counters since construction (the metrics read them).
  struct Stats {
    uint64_t slow_consumer_drops = 0;  // messages over a subscription's pending limit, dropped
    uint64_t publish_failures = 0;     // publishes nats.c refused (closed, buffer full, too big)
    uint64_t connected = 0;            // first connections (1 per successful Start)
    uint64_t disconnected = 0;
    uint64_t reconnected = 0;
    uint64_t slow_consumer = 0;  // slow-consumer notices from nats.c (one per episode)
    uint64_t closed = 0;         // closed while running (fatal)
    uint64_t errors = 0;         // other asynchronous errors reported by nats.c
    uint64_t dropped() const { return slow_consumer_drops + publish_failures; }
  };

  NatsTransport(config::NatsAdapterConfig config, FatalHandler on_fatal);
  ~NatsTransport() override;
  NatsTransport(const NatsTransport&) = delete;
  NatsTransport& operator=(const NatsTransport&) = delete;

  // Transport
  absl::Status Start(const Identity& identity, Listener* listener) override;
  void Stop() override;
  void Publish(Channel channel, std::string payload, Completion done) override;
  void PublishToNode(std::string_view node_id, std::string payload, Completion done) override;
  void PublishRequest(std::string_view request_id, std::string payload, Completion done) override;
  void Reply(std::string_view address, std::string payload, Completion done) override;
  std::string ReplyTo() const override { return ""; }
  void CountNodes(std::function<void(std::optional<size_t>)> done) override;
  void ExpectPeers(size_t peers) override { expected_peers_.store(peers); }
  bool Healthy() const override;
  bool HearsOwnBroadcasts() const override { return !config_.no_echo; }
  void Post(std::function<void()> fn) override;
  std::string_view name() const override { return "nats"; }
  Counters counters() const override { return {dropped_messages(), reconnections(), 0}; }
  std::vector<EventCount> events() const override;

  Stats stats() const;
  uint64_t dropped_messages() const { return stats().dropped(); }
  uint64_t reconnections() const { return reconnected_.load(std::memory_order_relaxed); }

 private:
  enum class Phase { kIdle, kConnecting, kRunning, kStopping };

  // One nats.c subscription; the closure of its callbacks. Lives from Start to the end of Stop.
  struct Subscription {
    NatsTransport* owner = nullptr;
    Channel channel = Channel::kBroadcast;
    std::string subject;
    natsSubscription* sub = nullptr;
    std::atomic<int64_t> queued{0};        // posted to the driver thread, not yet delivered
    std::atomic<bool> dropping{false};     // over the limit (logs once per episode)
    std::atomic<int64_t> nats_dropped{0};  // last natsSubscription_GetDropped seen
    bool completed = false;                // nats.c is done with it (guarded by events_mu_)
  };

  // Connects with nats.c's retry-on-failed-connect, waiting for it until `deadline`.
  absl::Status Connect(natsOptions* options, std::chrono::steady_clock::time_point deadline);
  absl::Status Refused(natsStatus status, const std::string& reason) const;
  absl::Status TimedOut(const std::string& reason) const;
  absl::Status Subscribe(Channel channel, std::string subject);
  absl::Status BuildOptions(natsOptions** out);
  // Closes the connection, waits until nats.c has finished every callback, joins the thread and
  // frees everything. Safe to call in any phase.
  void Teardown();
  void PublishTo(const std::string& subject, const char* reply, std::string_view payload,
                 Completion done);
  // Runs `done(status)` on the driver thread, or here when that thread no longer runs.
  void Complete(Completion done, absl::Status status);
  // After a reconnection (driver thread): asks on the broadcast subject, every kRollCallEvery,
  // who is subscribed, until every expected peer answered or kRollCallLimit passed; then sends
  // the broadcasts kept meanwhile.
  void StartRollCall();
  void RollCall(uint64_t round);
  void OpenHold();
  // nats.c is connected (not reconnecting, not closed).
  bool Connected() const;
  // PING, and wait for the server's answer (PublishConfirmer).
  absl::Status FlushNow();
  std::string ServerList() const;

  // nats.c callbacks (library threads).
  static void OnNatsMessage(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  static void OnSubscriptionComplete(void* closure);
  static void OnConnected(natsConnection* nc, void* closure);
  static void OnDisconnected(natsConnection* nc, void* closure);
  static void OnReconnected(natsConnection* nc, void* closure);
  static void OnClosed(natsConnection* nc, void* closure);
  static void OnError(natsConnection* nc, natsSubscription* sub, natsStatus err, void* closure);

  const config::NatsAdapterConfig config_;
  const FatalHandler on_fatal_;
  const int64_t pending_limit_;  // per subscription, on the driver-thread queue
  const std::string broadcast_subject_;
  const std::string requests_subject_;
  const std::string responses_subject_;
  Identity identity_;
  Listener* listener_ = nullptr;

  // Guards nc_, subs_ and io_open_ against Start/Stop; publishers take it shared.
  mutable std::shared_mutex conn_mu_;
  natsConnection* nc_ = nullptr;
  std::vector<std::unique_ptr<Subscription>> subs_;
  bool io_open_ = false;  // the driver thread runs and will run what is posted
  std::atomic<Phase> phase_{Phase::kIdle};

  // What nats.c reported through its connection callbacks.
  std::mutex events_mu_;
  std::condition_variable events_cv_;
  bool connected_ = false;
  bool closed_ = false;

  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;

  // Broadcasts after a disconnection (BroadcastHold) and the roll call that releases them.
  BroadcastHold hold_{10000};
  std::atomic<size_t> expected_peers_{0};
  // expected_peers_ when the connection broke: the adapter may drop peers it stops hearing while
  // this node is the one cut off, yet they come back with the server.
  std::atomic<size_t> expected_at_break_{0};
  // Driver thread only.
  uint64_t roll_call_round_ = 0;    // one per reconnection
  std::set<std::string> answered_;  // node ids that answered this round
  std::chrono::steady_clock::time_point roll_call_deadline_;
  boost::asio::steady_timer roll_call_timer_{io_};

  // Completes publishes once the server has them. After io_ and conn_mu_: its thread uses them.
  PublishConfirmer confirmer_{[this] { return FlushNow(); },
                              [this](Completion done, absl::Status status) {
                                if (!status.ok()) publish_failures_.fetch_add(1);
                                Complete(std::move(done), std::move(status));
                              }};

  std::atomic<uint64_t> slow_consumer_drops_{0};  // of destroyed subscriptions + our own queue
  std::atomic<uint64_t> publish_failures_{0};
  std::atomic<uint64_t> connected_events_{0};
  std::atomic<uint64_t> disconnected_{0};
  std::atomic<uint64_t> reconnected_{0};
  std::atomic<uint64_t> slow_consumer_events_{0};
  std::atomic<uint64_t> closed_events_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace sockudo::bus::nats
