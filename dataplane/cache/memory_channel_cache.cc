#include "dataplane/cache/memory_channel_cache.h"

namespace sockudo::dataplane::cache {

void MemoryChannelCache::Put(const std::string& app_id, const std::string& channel, std::string event,
                       std::string data) {
  std::lock_guard lock(mu_);
  const std::string key = Key(app_id, channel);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    insertion_order_.erase(it->second.order);
    entries_.erase(it);
  }
  while (max_entries_ > 0 && entries_.size() >= max_entries_ && !insertion_order_.empty()) {
    entries_.erase(insertion_order_.front());
    insertion_order_.pop_front();
  }
  insertion_order_.push_back(key);
  Entry entry{std::move(event), std::move(data), std::nullopt, std::prev(insertion_order_.end())};
  if (ttl_seconds_ > 0) entry.expires = Clock::now() + std::chrono::seconds(ttl_seconds_);
  entries_.emplace(key, std::move(entry));
}

std::optional<CachedEvent> MemoryChannelCache::Find(const std::string& app_id,
                                                   const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(Key(app_id, channel));
  if (it == entries_.end()) return std::nullopt;
  CachedEvent out{it->second.event, it->second.data, -1};
  if (it->second.expires.has_value()) {
    const auto left = *it->second.expires - Clock::now();
    if (left <= Clock::duration::zero()) return std::nullopt;
    out.ttl_seconds = std::chrono::duration_cast<std::chrono::seconds>(left).count();
  }
  return out;
}

void MemoryChannelCache::Sweep() {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires.has_value() && *it->second.expires <= now) {
      insertion_order_.erase(it->second.order);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace sockudo::dataplane::cache
