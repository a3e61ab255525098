#include "dataplane/presence/presence_registry.h"

#include <algorithm>

#include "common/base/json.h"

namespace sockudo::dataplane::presence {
namespace {

// {"presence":{...}} from any map of key -> member, `info_of(member)` giving the user_info text.
template <typename Map, typename InfoOf>
std::string BuildSubscriptionData(const Map& members, InfoOf info_of) {
  std::string ids;
  std::string hash;
  for (const auto& [key, member] : members) {
    if (!ids.empty()) ids.push_back(',');
    ids.append(member.user_id_json);
    if (!hash.empty()) hash.push_back(',');
    base::AppendJsonString(hash, key);
    hash.push_back(':');
    hash.append(info_of(member));
  }
  std::string out = "{\"presence\":{\"ids\":[";
  out.append(ids);
  out.append("],\"hash\":{");
  out.append(hash);
  out.append("},\"count\":");
  out.append(std::to_string(members.size()));
  out.append("}}");
  return out;
}

template <typename Channel>
MemberMap Infos(const Channel& channel) {
  MemberMap out;
  for (const auto& [key, member] : channel) {
    out.emplace(key, MemberInfo{member.user_id_json, member.sockets.front().second});
  }
  return out;
}

}  // namespace

std::string SubscriptionData(const MemberMap& members) {
  return BuildSubscriptionData(members, [](const MemberInfo& m) { return m.user_info_json; });
}

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
  result.subscription_data = BuildSubscriptionData(
      channel, [](const Member& m) -> const std::string& { return m.sockets.front().second; });
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

MemberMap PresenceRegistry::MemberInfos(const std::string& app_id,
                                        const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto ch = channels_.find(Key(app_id, channel));
  return ch == channels_.end() ? MemberMap{} : Infos(ch->second);
}

size_t PresenceRegistry::MemberSockets(const std::string& app_id, const std::string& channel,
                                       const std::string& member_key) const {
  std::lock_guard lock(mu_);
  auto ch = channels_.find(Key(app_id, channel));
  if (ch == channels_.end()) return 0;
  auto it = ch->second.find(member_key);
  return it == ch->second.end() ? 0 : it->second.sockets.size();
}

size_t PresenceRegistry::TotalSockets() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [key, channel] : channels_) {
    for (const auto& [member_key, member] : channel) n += member.sockets.size();
  }
  return n;
}

size_t PresenceRegistry::MemberCount(const std::string& app_id, const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto ch = channels_.find(Key(app_id, channel));
  return ch == channels_.end() ? 0 : ch->second.size();
}

}  // namespace sockudo::dataplane::presence
