// File: node_view.h
// The control plane's picture of the data nodes, built only from what the bus carries: each node's
// last Heartbeat (its metadata) and NodeDead notices. State by age of the last heartbeat, on the
// control plane's own clock: alive within 2 x heartbeat_interval, suspect within node_timeout, dead
// after that or once announced dead; dead nodes are listed for `forget_after`, then dropped. Leader
// = smallest alive id (display). Every call returns the changes it caused, for WatchCluster. Not
// thread-safe: the BusObserver serialises calls.
//
//   NodeView view(1s, 3s);
//   for (const NodeChange& c : view.OnHeartbeat(id, metadata, now, wall_now)) Publish(c);
//   for (const NodeChange& c : view.Tick(now)) Publish(c);   // every few hundred ms
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/base/json.h"

namespace sockudo::controlplane::cluster {

enum class NodeState { kAlive, kSuspect, kDead };

struct NodeSnapshot {
  std::string id;
  base::Json metadata = base::Json::object();  // the last heartbeat's user_info
  std::chrono::system_clock::time_point last_heartbeat;
  int64_t last_heartbeat_age_ms = 0;
  NodeState state = NodeState::kAlive;
  bool leader = false;
};

struct NodeChange {
  enum class Type { kJoined, kUpdated, kSuspect, kAlive, kDead, kForgotten };
  Type type;
  NodeSnapshot node;
};

class NodeView {
 public:
  using Clock = std::chrono::steady_clock;
  using WallClock = std::chrono::system_clock;

  NodeView(std::chrono::milliseconds heartbeat_interval, std::chrono::milliseconds node_timeout,
           std::chrono::milliseconds forget_after = std::chrono::minutes(5));

  std::vector<NodeChange> OnHeartbeat(const std::string& id, base::Json metadata,
                                      Clock::time_point now, WallClock::time_point wall_now);
  std::vector<NodeChange> OnNodeDead(const std::string& id, Clock::time_point now);
  // Ages every node: alive -> suspect -> dead, dead -> forgotten.
  std::vector<NodeChange> Tick(Clock::time_point now);

  // Every listed node, sorted by id.
  std::vector<NodeSnapshot> Snapshot(Clock::time_point now) const;
  // Alive + suspect nodes: the responders a request waits for.
  size_t Responders(Clock::time_point now) const;

 private:
  struct Entry {
    base::Json metadata;
    Clock::time_point last_seen;
    WallClock::time_point last_seen_wall;
    NodeState reported = NodeState::kAlive;  // the state the last change announced
    bool announced_dead = false;
    Clock::time_point dead_since;
  };

  NodeState StateOf(const Entry& e, Clock::time_point now) const;
  NodeSnapshot MakeSnapshot(const std::string& id, const Entry& e, Clock::time_point now) const;
  std::string Leader(Clock::time_point now) const;

  std::chrono::milliseconds heartbeat_interval_;
  std::chrono::milliseconds node_timeout_;
  std::chrono::milliseconds forget_after_;
  std::map<std::string, Entry> nodes_;
};

}  // namespace sockudo::controlplane::cluster
