// File: cluster_health.h
// The heartbeat table: which peers this node has heard from and when (by its own clock: no
// comparison across machines), the metadata of their last heartbeat, which of them are dead, who
// the cleanup leader is, and the nodes recently declared dead (10 minutes, so that a node that
// comes back is told it was). Pure bookkeeping, no I/O, no clock of its own; used on the adapter's
// cluster thread only.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/base/json.h"

namespace sockudo::dataplane::adapter {

class ClusterHealth {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ClusterHealth(std::string own_id) : own_id_(std::move(own_id)) {}

  // Records a heartbeat. True when the sender was not in the table (a new node).
  bool OnHeartbeat(const std::string& node, Clock::time_point now, base::Json metadata);
  // Forgets a peer (NodeDead, or a dead node this node cleaned up) and remembers it as dead.
  void Remove(const std::string& node, Clock::time_point now);
  // Peers whose last heartbeat is older than `timeout`.
  std::vector<std::string> Expired(Clock::time_point now, Clock::duration timeout) const;
  // The smallest node id among this node and its peers minus `dead` (byte-wise order).
  std::string Leader(const std::vector<std::string>& dead) const;
  bool IsLeader(const std::vector<std::string>& dead) const { return Leader(dead) == own_id_; }

  // Peers in the table (whatever the age of their last heartbeat).
  size_t peers() const { return peers_.size(); }
  bool Knows(const std::string& node) const { return peers_.count(node) > 0; }
  // True when `node` was declared dead within the last 10 minutes (and forgets that).
  bool TakeRecentlyDead(const std::string& node, Clock::time_point now);

  struct Peer {
    Clock::time_point last_seen;
    base::Json metadata;
  };
  const std::map<std::string, Peer>& table() const { return peers_; }

 private:
  std::string own_id_;
  std::map<std::string, Peer> peers_;
  std::map<std::string, Clock::time_point> recently_dead_;
};

}  // namespace sockudo::dataplane::adapter
