// File: redis_cluster_transport.h
// The `redis-cluster` bus driver over RedisConnections and a ClusterRouter on one io_context run by
// the driver's own thread.
//
// Classic pub/sub (adapter.cluster.use_sharded_pubsub = false, the default):
//   subscriber  one connection to any reachable node (seeds first, then the known masters and
//               replicas) with one SUBSCRIBE of broadcast, requests, responses, own node inbox,
//               own reply inbox (an observer: requests and its reply inbox). On a break:
//               Healthy() turns false and OnHealthChanged(false) runs; it reconnects to another
//               known node after 500 ms doubling to 10 s, refreshing the topology after every 3
//               consecutive failures; once subscribed again: OnHealthChanged(true), then
//               OnResubscribed(). A PING every few seconds finds silent breaks. A refresh that
//               no longer lists the node (removed, or failed in the cluster's view) moves the
//               subscriber elsewhere (unless the node is a seed).
//   publishes   PUBLISH on the master that owns the channel's slot (another master while that
//               one is suspect): the cluster bus copies it to every node. CountNodes answers
//               nullopt: PUBSUB NUMSUB only counts one node's clients, the adapter counts
//               heartbeats.
// Sharded pub/sub (use_sharded_pubsub = true, Redis >= 7 everywhere):
//   subscriber  per master owning at least one of the channels, one connection with one
//               SSUBSCRIBE per channel. -MOVED to an SSUBSCRIBE, an unsolicited `sunsubscribe`
//               (the slot left the node) or a refresh that changed an owner moves the channel
//               to its new owner (a connection left without channels is closed). Healthy while
//               every channel is subscribed; reconnection as above, per master.
//   publishes   SPUBLISH on the slot owner. CountNodes: PUBSUB SHARDNUMSUB of the broadcast
//               channel on its owner (cached 250 ms; nullopt on failure).
// Both modes:
//   broadcasts  one ordered, pipelined, bounded pipeline: up to queue_limit messages wait
//               or are in flight, past it a publish is dropped, counted and fails with
//               kResourceExhausted. Broadcasts are sent in order on the target's shared
//               connection; when it breaks, everything unacknowledged goes again in order after
//               100 / 200 / 400 ms; a message that fails on 1 + 3 attempts fails with
//               kUnavailable.
//   others      requests, responses and inbox publishes, each retried the same way.
//   redirects   -MOVED: the slot's owner is updated, a full refresh follows, the command goes to
//               the new owner; -ASK: ASKING + the command once on the named node; -TRYAGAIN:
//               again after 100 ms; at most 5 redirections per command. -CLUSTERDOWN or a
//               connection failure: the node is suspect, the topology is refreshed from another
//               node, the publish-retry policy applies. Any other error reply fails the publish
//               at once (ACL, OOM: retrying would not help).
//   topology    fetched at startup, every 30 s, after -MOVED and after failures (ClusterRouter).
//   startup     the topology and every initial subscription within 5 s, else Start
//               fails naming the seeds and the last error; a wrong password, an ACL refusal or
//               a server without cluster support fails at once.
//   health      Healthy() is the subscription state, read without I/O (/up never waits behind
//               publishes), so there is no separate PING health connection.
//
// The driver thread, Start/Stop, the broadcast pipeline and its retries, counters, delivery and
// health are shared with the redis driver (RedisBusTransport, RedisBusDriver, PublishPipeline);
// this file is what is specific to Redis Cluster: discovery, routing, redirections and the
// (sharded) subscriptions.
//
// Threads: Start/Stop from the owner's thread (never from the driver thread); Publish*, Reply,
// CountNodes, Post and the accessors from any thread. Listener calls and Completions run on the
// driver thread. Start/Stop once each.
//
//   RedisClusterTransport transport(config.adapter.cluster);
//   SOCKUDO_RETURN_IF_ERROR(transport.Start(identity, &listener));
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bus/redis/redis_bus_options.h"
#include "common/bus/redis/redis_bus_transport.h"
#include "common/config/config.h"

namespace sockudo::bus::redis_cluster {

class RedisClusterTransport final : public redis::RedisBusTransport {
 public:
  // Tunables; the defaults are the production values (tests shorten some). The shared ones
  // (pipeline, retries, resubscribe backoff, ping, count cache) are those of the redis driver.
  struct Options : redis::RedisBusOptions {
    int max_redirects = 5;
    std::chrono::milliseconds tryagain_delay{100};
    int refresh_after_failures = 3;  // consecutive subscriber connect failures
    std::chrono::milliseconds refresh_interval{30000};
    std::chrono::milliseconds suspect_time{5000};
  };

  explicit RedisClusterTransport(config::RedisClusterAdapterConfig config);
  RedisClusterTransport(config::RedisClusterAdapterConfig config, Options options);

  std::string_view name() const override { return "redis-cluster"; }
  // CountNodes: nullopt in classic mode (heartbeats count); SHARDNUMSUB in sharded mode.
  // endpoint(): "redis-cluster://h1:p1,h2:p2" (rediss-cluster:// with TLS; never credentials).

  // Redirections followed by publishes (-MOVED, -ASK, -TRYAGAIN).
  uint64_t redirections() const;
  // The "host:port" of every subscriber connection that is up, sorted (logs, tests). Must not
  // be called on the driver thread.
  std::vector<std::string> subscriber_nodes() const;

 private:
  class Impl;  // the deployment: router, subscriber links, routing of publishes
  Impl& impl() const;
};

}  // namespace sockudo::bus::redis_cluster
