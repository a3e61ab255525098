// File: occupancy_counter.h
// Cluster-wide socket counts per channel in the shared cache store, for occupancy webhooks emitted
// exactly once: every subscribe adds 1 and every leave subtracts 1 atomically (INCRBY in one
// script), so exactly one update moves a channel 0 -> 1 and exactly one brings it back to 0,
// whichever nodes the sockets are on. Each node also keeps its own share in a hash of its own, so
// that the cleanup leader can take a dead node's sockets out of the counts (Reclaim) and learn
// which channels that empties.
//
// Keys: `{prefix}:app:{app_id}:channel:{channel}:sockets` (beside the channel's cached event;
// deleted at 0) and `{prefix}occupancy:{node_id}` (field `{app_id}:{channel}`; a channel name
// has no ':').
// Commands run on a BlockingRedisPool; answers come on its threads. A failure answers an error,
// counted in `errors` and logged without flooding; callers then decide on their own view.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/base/failure_streak.h"
#include "common/bus/redis/blocking_pool.h"

namespace sockudo::dataplane::cache {

struct OccupancyCounterOptions {
  bus::redis::BlockingPoolOptions pool;
  std::string prefix = "sockudo_cache:";
  std::string node_id;
  std::atomic<int64_t>* errors = nullptr;  // cache_backend_errors_total; may be null
};

class OccupancyCounter {
 public:
  // The count after the change; below 0 when the count was lost (a flushed store, or a webhook
  // configured while the channel had sockets): it is reset, and the caller decides locally.
  using CountDone = std::function<void(absl::StatusOr<int64_t>)>;
  // A channel the dead node's sockets were the last ones of.
  using Vacated = std::function<void(const std::string& app_id, const std::string& channel)>;

  explicit OccupancyCounter(OccupancyCounterOptions options);

  // `delta` is +1 (a socket subscribed) or -1 (a socket left).
  void Change(const std::string& app_id, const std::string& channel, int delta, CountDone done);
  // Takes the share of `dead_node_id` out of every count and deletes its hash.
  void Reclaim(const std::string& dead_node_id, Vacated vacated);
  // Waits (at most `limit`) for what was issued, then stops (see BlockingRedisPool::Shutdown).
  void Shutdown(std::chrono::milliseconds limit);

 private:
  std::string CountKey(const std::string& field) const;
  std::string NodeKey(const std::string& node_id) const;
  void Failed(const absl::Status& why);

  const std::string prefix_;
  const std::string node_id_;
  std::atomic<int64_t>* const errors_;
  base::FailureStreak failures_;
  bus::redis::BlockingRedisPool pool_;  // last: stops first
};

}  // namespace sockudo::dataplane::cache
