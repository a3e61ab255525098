// File: node_context.h
// Everything a connection or an HTTP handler of this node reaches: the config, the app store,
// the node-wide registries, the adapter and the metrics. Built once by the Server; members are
// thread-safe.
#pragma once

#include <atomic>
#include <memory>

#include "common/apps/app_store.h"
#include "common/config/config.h"
#include "common/limits/memory_rate_limiter.h"
#include "dataplane/adapter/adapter.h"
#include "dataplane/cache/memory_channel_cache.h"
#include "dataplane/cache/occupancy_counter.h"
#include "dataplane/channels/channel_registry.h"
#include "dataplane/metrics/metrics.h"
#include "dataplane/metrics/sharded_gauge.h"
#include "dataplane/node/connection_registry.h"
#include "dataplane/node/memory_budget.h"
#include "dataplane/node/worker_state.h"
#include "dataplane/presence/presence_registry.h"
#include "dataplane/users/user_registry.h"
#include "dataplane/webhooks/webhook_sink.h"

namespace sockudo::dataplane::node {

struct NodeContext {
  explicit NodeContext(const config::Config& c, apps::AppStore& store)
      : config(c),
        apps(store),
        cache(std::make_unique<cache::MemoryChannelCache>(
            static_cast<size_t>(c.cache.memory_max_capacity), c.channel_cache_ttl)),
        rate_limiter(std::make_unique<sockudo::limits::MemoryRateLimiter>()),
        inbound_buffers(static_cast<size_t>(c.max_inbound_buffer_mb) << 20) {}

  const config::Config& config;
  apps::AppStore& apps;
  channels::ChannelRegistry channels;
  presence::PresenceRegistry presence;
  users::UserRegistry users;
  ConnectionRegistry connections;
  // The stores `cache.driver` and `rate_limiter.driver` name, set by the Server before it
  // accepts (memory ones until then); null with `none`.
  std::unique_ptr<cache::ChannelCache> cache;
  // Cluster-wide channel socket counts for occupancy webhooks: set by the Server when the cache
  // driver is shared (redis, redis-cluster); null otherwise.
  std::unique_ptr<cache::OccupancyCounter> occupancy;
  metrics::Metrics metrics;
  std::unique_ptr<sockudo::limits::RateLimiter> rate_limiter;
  MemoryBudget inbound_buffers;             // partially received WebSocket messages, all sockets
  metrics::ShardedGauge outbound_messages;  // queued in per-socket outbound queues, by worker
  metrics::ShardedGauge outbound_bytes;
  adapter::Adapter* adapter = nullptr;        // set by the Server before it accepts
  WorkerPool* workers = nullptr;              // set by the Server before it accepts
  webhooks::WebhookSink* webhooks = nullptr;  // set by the Server before it accepts; may be null
  std::atomic<bool> started{false};           // set once the Server has started everything it hosts
  std::atomic<bool> draining{false};
  std::atomic<int64_t> live_websockets{0};  // sessions not yet destroyed (drain waits for 0)
};

}  // namespace sockudo::dataplane::node
