// File: presence_registry.h
// Node-wide presence state: per (app, channel) the distinct members, keyed by the string form of
// user_id, each with the sockets that joined as it. A member's info is that of its earliest
// still-joined socket. Joining and leaving decide member_added / member_removed atomically under
// one lock. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace sockudo::dataplane::presence {

struct MemberIdentity {
  std::string key;             // string form: "1" for both 1 and "1"
  std::string user_id_json;    // original JSON value, e.g. 1 or "1"
  std::string user_info_json;  // compact JSON, "null" when absent
};

struct JoinResult {
  bool full = false;              // refused: new member over the limit
  bool new_member = false;        // first socket of this user in the channel
  std::string subscription_data;  // {"presence":{ids,hash,count}} including the joiner
};

struct LeaveResult {
  bool member_removed = false;  // the user's last socket left
  std::string user_id_json;
};

// One distinct member as the presence list shows it.
struct MemberInfo {
  std::string user_id_json;
  std::string user_info_json = "null";
};

// Members by string form of user_id.
using MemberMap = std::map<std::string, MemberInfo>;

// {"presence":{"ids":[...],"hash":{...},"count":n}}, the data string of
// pusher_internal:subscription_succeeded, built without re-parsing stored JSON.
std::string SubscriptionData(const MemberMap& members);

class PresenceRegistry {
 public:
  // Adds `socket_id` as `member`; refuses a new member when `max_members` distinct members exist.
  // Joining again with the same socket is idempotent.
  JoinResult Join(const std::string& app_id, const std::string& channel,
                  const std::string& socket_id, const MemberIdentity& member, int64_t max_members);
  LeaveResult Leave(const std::string& app_id, const std::string& channel,
                    const std::string& socket_id, const std::string& member_key);

  // user_id JSON values of the distinct members.
  std::vector<std::string> Members(const std::string& app_id, const std::string& channel) const;
  size_t MemberCount(const std::string& app_id, const std::string& channel) const;
  // The distinct members with the info of each one's earliest socket.
  MemberMap MemberInfos(const std::string& app_id, const std::string& channel) const;
  // Sockets joined as `member_key` in the channel.
  size_t MemberSockets(const std::string& app_id, const std::string& channel,
                       const std::string& member_key) const;
  // Joined sockets over every channel (node stats).
  size_t TotalSockets() const;

 private:
  struct Member {
    std::string user_id_json;
    std::vector<std::pair<std::string, std::string>> sockets;  // (socket_id, user_info), join order
  };
  using Channel = std::unordered_map<std::string, Member>;
  static std::string Key(const std::string& app_id, const std::string& channel) {
    return app_id + '\n' + channel;
  }

  mutable std::mutex mu_;
  std::unordered_map<std::string, Channel> channels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sockudo::dataplane::presence
