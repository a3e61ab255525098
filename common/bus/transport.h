// File: transport.h
// The narrow interface every bus driver implements: publish to the five logical destinations,
// receive what arrives on this participant's subscriptions, count the data nodes, report health.
// The cluster logic (envelopes, requests, presence, health) sits above it, once, in the horizontal
// adapter; a driver only moves bytes.
//
// Drivers: local/ (in-process, the default), redis/, redis_cluster/, nats/. Each runs its own
// thread: Start() connects and subscribes, then every Listener call and every Completion runs on
// that thread, and Post() hands work to it. Publish calls may come from any thread.
//
//   auto transport = bus::MakeTransport(config);        // StatusOr, never a silent fallback
//   SOCKUDO_RETURN_IF_ERROR((*transport)->Start(identity, &listener));
//   (*transport)->Publish(bus::Channel::kBroadcast, envelope, nullptr);
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace sockudo::bus {

// The logical destinations of the bus.
enum class Channel {
  kBroadcast,   // {prefix}:#broadcast   / {prefix}.broadcast
  kRequests,    // {prefix}:#requests    / {prefix}.requests
  kResponses,   // {prefix}:#responses   / {prefix}.responses
  kNodeInbox,   // {prefix}:#node:{id}   / {prefix}.node.{id}   (own inbox when received)
  kReplyInbox,  // {prefix}:#reply:{hex} / _INBOX.{hex}.*       (own inbox when received)
};

std::string_view ChannelName(Channel channel);  // "broadcast", "requests", ... (logs, metrics)

// Who this participant is.
struct Identity {
  std::string node_id;    // UUIDv4 of a data node, or "controlplane-" + UUIDv4 of an observer
  std::string reply_hex;  // 32 lowercase hex digits naming the reply inbox
  // An observer subscribes to requests and its reply inbox only (never broadcast or responses,
  // and no node inbox), so it is never counted as a node.
  bool observer = false;
};

// One message as it arrived.
struct Incoming {
  Channel channel;
  std::string payload;   // the JSON envelope (envelope.h)
  std::string reply_to;  // NATS: the message's reply subject; "" otherwise
};

// Outcome of a publish after the driver's retries. May be null.
using Completion = std::function<void(absl::Status)>;

class Transport {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // A message arrived on one of this participant's subscriptions. Never re-entered from a
    // Publish call.
    virtual void OnMessage(Incoming message) = 0;
    // The subscriptions are up again after a break: what was published meanwhile is lost
    // (the adapter resyncs presence). Not called for the first subscription.
    virtual void OnResubscribed() = 0;
    // The bus went down or came back (feeds /up, heartbeats and metrics).
    virtual void OnHealthChanged(bool healthy) {}
  };

  virtual ~Transport() = default;

  // Connects and subscribes within a startup bound (5 s for the Redis drivers,
  // adapter.nats.connection_timeout_ms for NATS); an error names what could not be reached. Starts
  // the driver's thread.
  virtual absl::Status Start(const Identity& identity, Listener* listener) = 0;
  // Unsubscribes, closes the connections and joins the thread. Publishes still queued fail.
  virtual void Stop() = 0;

  // Publishes to kBroadcast, kRequests or kResponses. Broadcasts of one participant leave in the
  // order they were published (one ordered pipeline, bounded).
  virtual void Publish(Channel channel, std::string payload, Completion done) = 0;
  // Publishes to another node's inbox (targeted heartbeat, presence sync, zombie notice).
  virtual void PublishToNode(std::string_view node_id, std::string payload, Completion done) = 0;
  // Publishes a request that expects responses. Redis drivers send it on kRequests (the payload
  // names ReplyTo() in `reply_to`); NATS sends it with the inbox subject of `request_id` as reply
  // subject, and the responses come back on kReplyInbox.
  virtual void PublishRequest(std::string_view request_id, std::string payload,
                              Completion done) = 0;
  // Publishes a response to the address a request asked for: its NATS reply subject, or its
  // Redis `reply_to` channel.
  virtual void Reply(std::string_view address, std::string payload, Completion done) = 0;
  // The `reply_to` value this participant's requests carry (Redis drivers), or "" (NATS, whose
  // replies travel by reply subject).
  virtual std::string ReplyTo() const = 0;

  // Data nodes subscribed to the broadcast channel according to the broker (Redis NUMSUB, or
  // SHARDNUMSUB in sharded mode), or nullopt when the broker cannot tell (Redis Cluster classic
  // pub/sub, NATS, local): the caller then counts heartbeats. `done` runs on the driver thread.
  virtual void CountNodes(std::function<void(std::optional<size_t>)> done) = 0;

  // How many other data nodes the caller knows alive (its heartbeat table). A driver whose broker
  // cannot count subscribers (nats) waits for that many after a reconnection before it lets
  // broadcasts out again. Any thread.
  virtual void ExpectPeers(size_t peers) {}

  // Whether this participant receives its own broadcasts back, as Redis and the in-process hub
  // send them; NATS only without no_echo. A node fences its incoming broadcasts with one.
  virtual bool HearsOwnBroadcasts() const { return true; }

  // Connected and subscribed.
  virtual bool Healthy() const = 0;
  // Runs `fn` on the driver's thread.
  virtual void Post(std::function<void()> fn) = 0;
  // "redis", "redis-cluster", "nats", "local" (metrics label).
  virtual std::string_view name() const = 0;

  // For the metrics horizontal_transport_messages_dropped_total (pipeline overflow, slow-consumer
  // drops, publishes failed after retries), _reconnections_total, _queue_depth.
  struct Counters {
    uint64_t dropped = 0;
    uint64_t reconnections = 0;
    uint64_t queue_depth = 0;
  };
  virtual Counters counters() const { return {}; }
  // nats_events_total: connection events by name ("connected", "disconnected", ...) for drivers
  // that report them (nats); empty otherwise.
  struct EventCount {
    std::string_view event;
    uint64_t count = 0;
  };
  virtual std::vector<EventCount> events() const { return {}; }
};

}  // namespace sockudo::bus
