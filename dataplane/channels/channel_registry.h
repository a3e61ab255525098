// File: channel_registry.h
// Node-wide subscription counts per (app, channel): the answer to "is this channel occupied and
// by how many sockets" for the HTTP API and the occupied/vacated transitions. Delivery asks it
// only whether waking the workers is worth it (Reachable); each worker has its own ChannelIndex.
// Thread-safe.
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

  // A presence socket waiting for the cluster's member lists: not counted yet, but a member event
  // sent while it waits must still be handed to the workers, where it queues behind the socket's
  // entry into the channel (else the socket's member list misses it).
  void AddJoining(const std::string& app_id, const std::string& channel);
  void RemoveJoining(const std::string& app_id, const std::string& channel);
  // Some socket of this node is subscribed to the channel or joining it.
  bool Reachable(const std::string& app_id, const std::string& channel) const;
  // Occupied channels of an app whose name starts with `prefix`, with their counts.
  std::vector<std::pair<std::string, size_t>> List(const std::string& app_id,
                                                   std::string_view prefix) const;
  size_t TotalSubscriptions() const;
  // Occupied channels per app (node stats in heartbeats).
  std::vector<std::pair<std::string, size_t>> ChannelsPerApp() const;

 private:
  mutable std::mutex mu_;
  using Counts = std::unordered_map<std::string, std::unordered_map<std::string, size_t>>;
  static size_t Lookup(const Counts& counts, const std::string& app_id, const std::string& channel);
  static bool Decrement(Counts& counts, const std::string& app_id, const std::string& channel);

  Counts apps_ ABSL_GUARDED_BY(mu_);
  Counts joining_ ABSL_GUARDED_BY(mu_);
  size_t total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sockudo::dataplane::channels
