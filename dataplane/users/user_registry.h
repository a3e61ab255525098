// File: user_registry.h
// Node-wide signed-in users: how many sockets of each user are signed in (online = at least one)
// and who watches whom. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace sockudo::dataplane::users {

struct WatchlistStatus {
  std::vector<std::string> online;
  std::vector<std::string> offline;
};

class UserRegistry {
 public:
  // Registers one signed-in socket of `user_id` with its watchlist. Returns true when the user
  // went from offline to online.
  bool SignIn(const std::string& app_id, const std::string& user_id,
              const std::vector<std::string>& watchlist);
  // Removes one signed-in socket. Returns true when the user went offline.
  bool SignOut(const std::string& app_id, const std::string& user_id,
               const std::vector<std::string>& watchlist);

  WatchlistStatus Status(const std::string& app_id, const std::vector<std::string>& user_ids) const;
  // Signed-in sockets of `user_id` on this node.
  size_t Sockets(const std::string& app_id, const std::string& user_id) const;
  // Users whose watchlist contains `user_id`.
  std::vector<std::string> WatchersOf(const std::string& app_id, const std::string& user_id) const;

 private:
  static std::string Key(const std::string& app_id, const std::string& user_id) {
    return app_id + '\n' + user_id;
  }
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> sockets_ ABSL_GUARDED_BY(mu_);
  // watched key -> watcher user id -> number of watcher sockets
  std::unordered_map<std::string, std::unordered_map<std::string, size_t>> watchers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sockudo::dataplane::users
