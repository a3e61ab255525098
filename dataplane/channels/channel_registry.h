// File: channel_registry.h
// Node-wide subscription counts per (app, channel): the answer to "is this channel occupied and
// by how many sockets" for the HTTP API and the occupied/vacated transitions. Delivery does not
// use it (each worker has its own ChannelIndex). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace sockudo::dataplane::channels {

class ChannelRegistry {
 public:
  // Returns true when this made the channel occupied (first socket).
  bool Add(const std::string& app_id, const std::string& channel);
  // Returns true when this vacated the channel (last socket).
  bool Remove(const std::string& app_id, const std::string& channel);

  size_t Count(const std::string& app_id, const std::string& channel) const;
  // Occupied channels of an app whose name starts with `prefix`, with their counts.
  std::vector<std::pair<std::string, size_t>> List(const std::string& app_id,
                                                   std::string_view prefix) const;
  size_t TotalSubscriptions() const;
  // Occupied channels per app (node stats in heartbeats).
  std::vector<std::pair<std::string, size_t>> ChannelsPerApp() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unordered_map<std::string, size_t>> apps_
      ABSL_GUARDED_BY(mu_);
  size_t total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sockudo::dataplane::channels
