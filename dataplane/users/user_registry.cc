#include "dataplane/users/user_registry.h"

namespace sockudo::dataplane::users {

bool UserRegistry::SignIn(const std::string& app_id, const std::string& user_id,
                          const std::vector<std::string>& watchlist) {
  std::lock_guard lock(mu_);
  for (const std::string& watched : watchlist) ++watchers_[Key(app_id, watched)][user_id];
  return ++sockets_[Key(app_id, user_id)] == 1;
}

bool UserRegistry::SignOut(const std::string& app_id, const std::string& user_id,
                           const std::vector<std::string>& watchlist) {
  std::lock_guard lock(mu_);
  for (const std::string& watched : watchlist) {
    auto w = watchers_.find(Key(app_id, watched));
    if (w == watchers_.end()) continue;
    auto it = w->second.find(user_id);
    if (it != w->second.end() && --it->second == 0) w->second.erase(it);
    if (w->second.empty()) watchers_.erase(w);
  }
  auto it = sockets_.find(Key(app_id, user_id));
  if (it == sockets_.end()) return false;
  if (--it->second > 0) return false;
  sockets_.erase(it);
  return true;
}

WatchlistStatus UserRegistry::Status(const std::string& app_id,
                                     const std::vector<std::string>& user_ids) const {
  WatchlistStatus status;
  std::lock_guard lock(mu_);
  for (const std::string& id : user_ids) {
    (sockets_.count(Key(app_id, id)) ? status.online : status.offline).push_back(id);
  }
  return status;
}

std::vector<std::string> UserRegistry::WatchersOf(const std::string& app_id,
                                                  const std::string& user_id) const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  auto w = watchers_.find(Key(app_id, user_id));
  if (w == watchers_.end()) return out;
  for (const auto& [watcher, count] : w->second) out.push_back(watcher);
  return out;
}

size_t UserRegistry::Sockets(const std::string& app_id, const std::string& user_id) const {
  std::lock_guard lock(mu_);
  auto it = sockets_.find(Key(app_id, user_id));
  return it == sockets_.end() ? 0 : it->second;
}

}  // namespace sockudo::dataplane::users
