// File: connection_registry.h
// Node-wide live connections: the socket ids in use (unique) and the per-app counts behind the node
// cap (4100) and the app quota (4004). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace sockudo::dataplane::node {

enum class Admission { kAdmitted, kNodeFull, kAppOverQuota, kDuplicateId };

class ConnectionRegistry {
 public:
  // Admits `socket_id` for `app_id` unless the node cap (`node_max`, 0 = none) or the app quota
  // (`app_max` <= 0 = none) is reached, or the id is already live.
  Admission Admit(const std::string& app_id, const std::string& socket_id, int64_t node_max,
                  int64_t app_max);
  void Release(const std::string& app_id, const std::string& socket_id);

  int64_t AppConnections(const std::string& app_id) const;
  // Open connections per app, and in all.
  std::vector<std::pair<std::string, int64_t>> PerApp() const;
  int64_t Total() const;

 private:
  mutable std::mutex mu_;
  std::unordered_set<std::string> socket_ids_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, int64_t> per_app_ ABSL_GUARDED_BY(mu_);
};

// A fresh socket id "<A>.<B>" with A and B drawn from a CSPRNG in [0, 10^10).
std::string NewSocketId();

}  // namespace sockudo::dataplane::node
