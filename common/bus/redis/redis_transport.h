// File: redis_transport.h
// The `redis` bus driver (spec/cluster.md §12.2): standalone Redis or a Sentinel set, over three
// RedisConnections on one io_context run by the driver's own thread.
//
//   subscriber  SUBSCRIBE broadcast, requests, responses, own node inbox, own reply inbox (an
//               observer: requests and its reply inbox). On any break: Healthy() turns false
//               and OnHealthChanged(false) runs; it redials (Sentinel discovery included) after
//               500 ms doubling to 10 s, resubscribes, then OnHealthChanged(true) and
//               OnResubscribed(). A PING every few seconds finds silent breaks.
//   events      broadcast PUBLISHes only: one ordered, pipelined, bounded pipeline (§5.1). Up to
//               queue_limit messages wait or are in flight; past it a publish is dropped, counted
//               and fails with kResourceExhausted. When the connection breaks, everything not
//               yet acknowledged is resent in order after 100 / 200 / 400 ms (head-of-line); a
//               message that fails on 1 + 3 attempts fails with kUnavailable.
//   command     request, response and inbox PUBLISHes (each retried the same way, no order) and
//               PUBSUB NUMSUB (CountNodes, cached 250 ms; nullopt when it fails).
// Every (re)dial re-runs Sentinel discovery when sentinels are configured; a -READONLY reply
// breaks the connection like an I/O error. Publish connections are redialled on demand by the
// next publish or retry.
//
// Threads: Start/Stop from the owner's thread (never from the driver thread); Publish*, Reply,
// CountNodes, Post and the accessors from any thread. Listener calls and Completions run on the
// driver thread. Start/Stop once each.
//
//   RedisTransport transport(config.adapter.redis);
//   SOCKUDO_RETURN_IF_ERROR(transport.Start(identity, &listener));
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/bus/transport.h"
#include "common/config/config.h"

namespace sockudo::bus::redis {

class RedisTransport final : public Transport {
 public:
  // Tunables; the defaults are the spec's values (tests shorten some).
  struct Options {
    size_t queue_limit = 10000;                          // broadcast pipeline bound (§5.1)
    size_t pipeline_window = 1024;                       // broadcasts in flight at once
    std::chrono::milliseconds startup_timeout{5000};     // §12.6
    std::chrono::milliseconds connect_timeout{2000};     // per dial (TCP + TLS + AUTH + PING)
    std::chrono::milliseconds reply_timeout{10000};      // unanswered command breaks a connection
    std::chrono::milliseconds publish_retry_delay{100};  // doubling (§12.2)
    std::chrono::milliseconds publish_retry_max_delay{1000};
    int publish_retries = 3;
    std::chrono::milliseconds resubscribe_delay{500};  // doubling (§12.2)
    std::chrono::milliseconds resubscribe_max_delay{10000};
    std::chrono::milliseconds subscriber_ping_interval{5000};
    std::chrono::milliseconds count_cache{250};  // NUMSUB result reuse (§9)
  };

  explicit RedisTransport(config::RedisAdapterConfig config);
  RedisTransport(config::RedisAdapterConfig config, Options options);
  ~RedisTransport() override;  // Stop()
  RedisTransport(const RedisTransport&) = delete;
  RedisTransport& operator=(const RedisTransport&) = delete;

  // Transport:
  absl::Status Start(const Identity& identity, Listener* listener) override;
  void Stop() override;
  void Publish(Channel channel, std::string payload, Completion done) override;
  void PublishToNode(std::string_view node_id, std::string payload, Completion done) override;
  void PublishRequest(std::string_view request_id, std::string payload, Completion done) override;
  // An empty address means "no reply_to": the response goes to {prefix}:#responses (§6.1).
  void Reply(std::string_view address, std::string payload, Completion done) override;
  std::string ReplyTo() const override;
  void CountNodes(std::function<void(std::optional<size_t>)> done) override;
  bool Healthy() const override;
  void Post(std::function<void()> fn) override;
  std::string_view name() const override { return "redis"; }
  Counters counters() const override {
    return {dropped_messages() + failed_publishes(), reconnections(), queue_depth()};
  }

  // Broadcasts dropped because the pipeline was full (horizontal_transport_messages_dropped_total).
  uint64_t dropped_messages() const;
  // Successful subscriber reconnections (horizontal_transport_reconnections_total).
  uint64_t reconnections() const;
  // Broadcasts queued or in flight (horizontal_transport_queue_depth).
  size_t queue_depth() const;
  // Publishes of any kind that failed after their retries.
  uint64_t failed_publishes() const;
  // "redis://host:port/db" or the masked redis+sentinel:// form, for logs.
  std::string endpoint() const;

 private:
  class Impl;  // everything that runs on the driver thread (Asio, connections, queues)
  std::unique_ptr<Impl> impl_;
};

}  // namespace sockudo::bus::redis
