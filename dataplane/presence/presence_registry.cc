#include "dataplane/presence/presence_registry.h"

#include <algorithm>

#include "common/base/json.h"

namespace sockudo::dataplane::presence {
namespace {

// {"presence":{"ids":[...],"hash":{...},"count":n}} built without re-parsing stored JSON.
template <typename Channel>
std::string SubscriptionData(const Channel& channel) {
  std::string ids;
  std::string hash;
  for (const auto& [key, member] : channel) {
    if (!ids.empty()) ids.push_back(',');
    ids.append(member.user_id_json);
    if (!hash.empty()) hash.push_back(',');
    base::AppendJsonString(hash, key);
    hash.push_back(':');
    hash.append(member.sockets.front().second);
  }
  std::string out = "{\"presence\":{\"ids\":[";
  out.append(ids);
  out.append("],\"hash\":{");
  out.append(hash);
  out.append("},\"count\":");
  out.append(std::to_string(channel.size()));
  out.append("}}");
  return out;
}

}  // namespace

JoinResult PresenceRegistry::Join(const std::string& app_id, const std::string& channel_name,
                                  const std::string& socket_id, const MemberIdentity& member,
                                  int64_t max_members) {
  JoinResult result;
  std::lock_guard lock(mu_);
  Channel& channel = channels_[Key(app_id, channel_name)];
  auto it = channel.find(member.key);
  if (it == channel.end()) {
    if (max_members > 0 && static_cast<int64_t>(channel.size()) >= max_members) {
      if (channel.empty()) channels_.erase(Key(app_id, channel_name));
      result.full = true;
      return result;
    }
    it = channel.emplace(member.key, Member{member.user_id_json, {}}).first;
    result.new_member = true;
  }
  auto& sockets = it->second.sockets;
  const bool already = std::any_of(sockets.begin(), sockets.end(),
                                   [&](const auto& s) { return s.first == socket_id; });
  if (!already) sockets.emplace_back(socket_id, member.user_info_json);
  result.subscription_data = SubscriptionData(channel);
  return result;
}

LeaveResult PresenceRegistry::Leave(const std::string& app_id, const std::string& channel_name,
                                    const std::string& socket_id, const std::string& member_key) {
  LeaveResult result;
  std::lock_guard lock(mu_);
  auto ch = channels_.find(Key(app_id, channel_name));
  if (ch == channels_.end()) return result;
  auto it = ch->second.find(member_key);
  if (it == ch->second.end()) return result;
  auto& sockets = it->second.sockets;
  sockets.erase(std::remove_if(sockets.begin(), sockets.end(),
                               [&](const auto& s) { return s.first == socket_id; }),
                sockets.end());
  if (sockets.empty()) {
    result.member_removed = true;
    result.user_id_json = std::move(it->second.user_id_json);
    ch->second.erase(it);
    if (ch->second.empty()) channels_.erase(ch);
  }
  return result;
}

std::vector<std::string> PresenceRegistry::Members(const std::string& app_id,
                                                   const std::string& channel) const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  auto ch = channels_.find(Key(app_id, channel));
  if (ch == channels_.end()) return out;
  out.reserve(ch->second.size());
  for (const auto& [key, member] : ch->second) out.push_back(member.user_id_json);
  return out;
}

size_t PresenceRegistry::MemberCount(const std::string& app_id, const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto ch = channels_.find(Key(app_id, channel));
  return ch == channels_.end() ? 0 : ch->second.size();
}

}  // namespace sockudo::dataplane::presence
