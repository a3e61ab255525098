#include "dataplane/node/connection_registry.h"

#include "common/crypto/hmac.h"

namespace sockudo::dataplane::node {

Admission ConnectionRegistry::Admit(const std::string& app_id, const std::string& socket_id,
                                    int64_t node_max, int64_t app_max) {
  std::lock_guard lock(mu_);
  if (node_max > 0 && static_cast<int64_t>(socket_ids_.size()) >= node_max)
    return Admission::kNodeFull;
  int64_t& count = per_app_[app_id];
  if (app_max > 0 && count >= app_max) return Admission::kAppOverQuota;
  if (!socket_ids_.insert(socket_id).second) return Admission::kDuplicateId;
  ++count;
  return Admission::kAdmitted;
}

void ConnectionRegistry::Release(const std::string& app_id, const std::string& socket_id) {
  std::lock_guard lock(mu_);
  if (socket_ids_.erase(socket_id) == 0) return;
  auto it = per_app_.find(app_id);
  if (it != per_app_.end() && --it->second <= 0) per_app_.erase(it);
}

int64_t ConnectionRegistry::AppConnections(const std::string& app_id) const {
  std::lock_guard lock(mu_);
  auto it = per_app_.find(app_id);
  return it == per_app_.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, int64_t>> ConnectionRegistry::PerApp() const {
  std::lock_guard lock(mu_);
  return {per_app_.begin(), per_app_.end()};
}

int64_t ConnectionRegistry::Total() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(socket_ids_.size());
}

std::string NewSocketId() {
  constexpr uint64_t kBound = 10'000'000'000ULL;
  return std::to_string(crypto::SecureRandom(kBound)) + "." +
         std::to_string(crypto::SecureRandom(kBound));
}

}  // namespace sockudo::dataplane::node
