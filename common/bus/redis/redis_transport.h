// File: redis_transport.h
// The `redis` bus driver: standalone Redis or a Sentinel set, over three RedisConnections on one
// io_context run by the driver's own thread.
//
//   subscriber  SUBSCRIBE broadcast, requests, responses, own node inbox, own reply inbox (an
//               observer: requests and its reply inbox). On any break: Healthy() turns false
//               and OnHealthChanged(false) runs; it redials (Sentinel discovery included) after
//               500 ms doubling to 10 s, resubscribes, then OnHealthChanged(true) and
//               OnResubscribed(). A PING every few seconds finds silent breaks.
//   events      broadcast PUBLISHes only: one ordered, pipelined, bounded pipeline. Up to
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
// The driver thread, Start/Stop, the broadcast pipeline, retries, counters, delivery and health
// are shared with the redis-cluster driver (RedisBusTransport, RedisBusDriver, PublishPipeline);
// this file is what is specific to standalone Redis and Sentinel.
//
// Threads: Start/Stop from the owner's thread (never from the driver thread); Publish*, Reply,
// CountNodes, Post and the accessors from any thread. Listener calls and Completions run on the
// driver thread. Start/Stop once each.
//
//   RedisTransport transport(config.adapter.redis);
//   SOCKUDO_RETURN_IF_ERROR(transport.Start(identity, &listener));
#pragma once

#include <string_view>

#include "common/bus/redis/redis_bus_options.h"
#include "common/bus/redis/redis_bus_transport.h"
#include "common/config/config.h"

namespace sockudo::bus::redis {

class RedisTransport final : public RedisBusTransport {
 public:
  // Tunables; the defaults are the production values (tests shorten some).
  using Options = RedisBusOptions;

  explicit RedisTransport(config::RedisAdapterConfig config);
  RedisTransport(config::RedisAdapterConfig config, Options options);

  std::string_view name() const override { return "redis"; }
  // endpoint(): "redis://host:port/db" or the masked redis+sentinel:// form, for logs.

 private:
  class Impl;  // the deployment: Sentinel discovery, the three connections
};

}  // namespace sockudo::bus::redis
