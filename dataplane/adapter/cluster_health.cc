#include "dataplane/adapter/cluster_health.h"

namespace sockudo::dataplane::adapter {

namespace {
constexpr auto kRememberDead = std::chrono::minutes(10);
}

bool ClusterHealth::OnHeartbeat(const std::string& node, Clock::time_point now,
                                base::Json metadata) {
  auto [it, inserted] = peers_.try_emplace(node);
  it->second.last_seen = now;
  it->second.metadata = std::move(metadata);
  return inserted;
}

void ClusterHealth::Remove(const std::string& node, Clock::time_point now) {
  peers_.erase(node);
  recently_dead_[node] = now;
  for (auto it = recently_dead_.begin(); it != recently_dead_.end();) {
    it = now - it->second > kRememberDead ? recently_dead_.erase(it) : std::next(it);
  }
}

std::vector<std::string> ClusterHealth::Expired(Clock::time_point now,
                                                Clock::duration timeout) const {
  std::vector<std::string> out;
  for (const auto& [node, peer] : peers_) {
    if (now - peer.last_seen > timeout) out.push_back(node);
  }
  return out;
}

std::string ClusterHealth::Leader(const std::vector<std::string>& dead) const {
  std::string leader = own_id_;
  for (const auto& [node, peer] : peers_) {
    bool is_dead = false;
    for (const std::string& d : dead) is_dead = is_dead || d == node;
    if (!is_dead && node < leader) leader = node;
  }
  return leader;
}

bool ClusterHealth::TakeRecentlyDead(const std::string& node, Clock::time_point now) {
  auto it = recently_dead_.find(node);
  if (it == recently_dead_.end()) return false;
  const bool recent = now - it->second <= kRememberDead;
  recently_dead_.erase(it);
  return recent;
}

}  // namespace sockudo::dataplane::adapter
