// File: channel_cache_factory.h
// The cache-channel store `cache.driver` names: `memory` (bounded by cache.memory.max_capacity),
// `redis` (database.redis after REDIS_URL), `redis-cluster` (the cluster seeds), or null for
// `none`. Entries live `channel_limits.cache_ttl` seconds.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "dataplane/cache/channel_cache.h"
#include "dataplane/cache/occupancy_counter.h"

namespace sockudo::dataplane::cache {

// `errors` counts store failures (may be null). Errors name the config key.
absl::StatusOr<std::unique_ptr<ChannelCache>> MakeChannelCache(const config::Config& config,
                                                               std::atomic<int64_t>* errors);

// The cluster-wide occupancy counts of a shared cache driver (`redis`, `redis-cluster`), kept
// under this node's id; null with `memory` or `none` (occupancy is then decided per node).
absl::StatusOr<std::unique_ptr<OccupancyCounter>> MakeOccupancyCounter(
    const config::Config& config, const std::string& node_id, std::atomic<int64_t>* errors);

}  // namespace sockudo::dataplane::cache
