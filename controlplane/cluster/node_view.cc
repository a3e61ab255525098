#include "controlplane/cluster/node_view.h"

namespace sockudo::controlplane::cluster {
namespace {

int64_t Counter(const base::Json& metadata, const char* name) {
  auto it = metadata.find(name);
  return it != metadata.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

NodeView::NodeView(std::chrono::milliseconds heartbeat_interval,
                   std::chrono::milliseconds node_timeout, std::chrono::milliseconds forget_after)
    : heartbeat_interval_(heartbeat_interval),
      node_timeout_(node_timeout),
      forget_after_(forget_after) {}

NodeState NodeView::StateOf(const Entry& e, Clock::time_point now) const {
  if (e.announced_dead) return NodeState::kDead;
  const auto age = now - e.last_seen;
  if (age <= 2 * heartbeat_interval_) return NodeState::kAlive;
  if (age <= node_timeout_) return NodeState::kSuspect;
  return NodeState::kDead;
}

std::string NodeView::Leader(Clock::time_point now) const {
  for (const auto& [id, e] : nodes_) {  // std::map: ascending ids
    if (StateOf(e, now) == NodeState::kAlive) return id;
  }
  return "";
}

NodeSnapshot NodeView::MakeSnapshot(const std::string& id, const Entry& e,
                                    Clock::time_point now) const {
  NodeSnapshot s;
  s.id = id;
  s.metadata = e.metadata;
  s.last_heartbeat = e.last_seen_wall;
  s.last_heartbeat_age_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - e.last_seen).count();
  s.state = StateOf(e, now);
  s.leader = s.state == NodeState::kAlive && Leader(now) == id;
  return s;
}

std::vector<NodeChange> NodeView::OnHeartbeat(const std::string& id, base::Json metadata,
                                              Clock::time_point now,
                                              WallClock::time_point wall_now) {
  if (!metadata.is_object()) metadata = base::Json::object();
  auto it = nodes_.find(id);
  NodeChange::Type type = NodeChange::Type::kJoined;
  if (it != nodes_.end()) {
    const Entry& old = it->second;
    const NodeState before = old.reported;
    if (before == NodeState::kDead) {
      type = NodeChange::Type::kJoined;  // back after a partition: a node again
    } else if (before == NodeState::kSuspect) {
      type = NodeChange::Type::kAlive;
    } else if (Counter(old.metadata, "connections") != Counter(metadata, "connections") ||
               Counter(old.metadata, "channels") != Counter(metadata, "channels") ||
               old.metadata.value("draining", false) != metadata.value("draining", false)) {
      type = NodeChange::Type::kUpdated;
    } else {
      it->second.metadata = std::move(metadata);
      it->second.last_seen = now;
      it->second.last_seen_wall = wall_now;
      return {};
    }
  }
  Entry& e = nodes_[id];
  e.metadata = std::move(metadata);
  e.last_seen = now;
  e.last_seen_wall = wall_now;
  e.announced_dead = false;
  e.reported = NodeState::kAlive;
  return {NodeChange{type, MakeSnapshot(id, e, now)}};
}

std::vector<NodeChange> NodeView::OnNodeDead(const std::string& id, Clock::time_point now) {
  auto it = nodes_.find(id);
  if (it == nodes_.end() || it->second.announced_dead) return {};
  it->second.announced_dead = true;
  it->second.dead_since = now;
  it->second.reported = NodeState::kDead;
  return {NodeChange{NodeChange::Type::kDead, MakeSnapshot(id, it->second, now)}};
}

std::vector<NodeChange> NodeView::Tick(Clock::time_point now) {
  std::vector<NodeChange> changes;
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    Entry& e = it->second;
    const NodeState state = StateOf(e, now);
    if (state == NodeState::kDead && e.reported != NodeState::kDead) {
      e.dead_since = now;
    }
    if (state == NodeState::kDead && now - e.dead_since >= forget_after_) {
      changes.push_back({NodeChange::Type::kForgotten, MakeSnapshot(it->first, e, now)});
      it = nodes_.erase(it);
      continue;
    }
    if (state != e.reported) {
      e.reported = state;
      const NodeChange::Type type = state == NodeState::kDead      ? NodeChange::Type::kDead
                                    : state == NodeState::kSuspect ? NodeChange::Type::kSuspect
                                                                   : NodeChange::Type::kAlive;
      changes.push_back({type, MakeSnapshot(it->first, e, now)});
    }
    ++it;
  }
  return changes;
}

std::vector<NodeSnapshot> NodeView::Snapshot(Clock::time_point now) const {
  std::vector<NodeSnapshot> out;
  out.reserve(nodes_.size());
  for (const auto& [id, e] : nodes_) out.push_back(MakeSnapshot(id, e, now));
  return out;
}

size_t NodeView::Responders(Clock::time_point now) const {
  size_t n = 0;
  for (const auto& [id, e] : nodes_) n += StateOf(e, now) != NodeState::kDead ? 1 : 0;
  return n;
}

}  // namespace sockudo::controlplane::cluster
