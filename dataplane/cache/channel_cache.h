// File: channel_cache.h
// The last event of each cache channel, in the store `cache.driver` names: `memory`
// (memory_channel_cache.h, per node, answers inline) or `redis` / `redis-cluster`
// (redis_channel_cache.h, shared by every node, answers on its own thread). `none` is no cache
// (MakeChannelCache returns null): every cache channel misses. A store that fails is a miss for
// reads and drops writes; nothing a client does fails for it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace sockudo::dataplane::cache {

struct CachedEvent {
  std::string event;
  std::string data;
  int64_t ttl_seconds = -1;  // remaining whole seconds; -1 = no expiry
};

using CacheDone = std::function<void(std::optional<CachedEvent>)>;

class ChannelCache {
 public:
  virtual ~ChannelCache() = default;

  // Stores the channel's last event (no answer; a failure drops it).
  virtual void Put(const std::string& app_id, const std::string& channel, std::string event,
                   std::string data) = 0;
  // The channel's last event, or nullopt (none, expired, or the store failed).
  virtual void Get(const std::string& app_id, const std::string& channel, CacheDone done) = 0;
  // True when `done` always runs before Get returns, on the caller's thread.
  virtual bool answers_inline() const = 0;
  // Drops expired entries (memory); called periodically.
  virtual void Sweep() {}
  // Stops answering later (what is pending is answered now: a miss); for a store with threads of
  // its own, called by the node while its workers still run.
  virtual void Shutdown() {}
};

}  // namespace sockudo::dataplane::cache
