// File: memory_channel_cache.h
// The `memory` cache driver for cache channels: bounded by `cache.memory.max_capacity` (oldest
// entry evicted), entries expire after their TTL; per node. Answers inline. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "dataplane/cache/channel_cache.h"

namespace sockudo::dataplane::cache {

class MemoryChannelCache : public ChannelCache {
 public:
  using Clock = std::chrono::steady_clock;
  MemoryChannelCache(size_t max_entries, int64_t ttl_seconds)
      : max_entries_(max_entries), ttl_seconds_(ttl_seconds) {}

  void Put(const std::string& app_id, const std::string& channel, std::string event,
           std::string data) override;
  void Get(const std::string& app_id, const std::string& channel, CacheDone done) override {
    done(Find(app_id, channel));
  }
  bool answers_inline() const override { return true; }
  void Sweep() override;

  std::optional<CachedEvent> Find(const std::string& app_id, const std::string& channel) const;

 private:
  struct Entry {
    std::string event;
    std::string data;
    std::optional<Clock::time_point> expires;
    std::list<std::string>::iterator order;
  };
  static std::string Key(const std::string& app_id, const std::string& channel) {
    return app_id + '\n' + channel;
  }

  const size_t max_entries_;
  const int64_t ttl_seconds_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> insertion_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sockudo::dataplane::cache
