#include "dataplane/adapter/join_watches.h"

#include <utility>

#include "common/base/json.h"

namespace sockudo::dataplane::adapter {

std::string MemberKey(const std::string& user_id_json) {
  if (!user_id_json.empty() && user_id_json.front() == '"') {
    auto parsed = base::ParseJson(user_id_json);
    if (parsed.has_value() && parsed->is_string()) return parsed->get<std::string>();
  }
  return user_id_json;
}

std::optional<JoinWatches::Event> JoinWatches::Parse(std::string_view frame) {
  constexpr std::string_view kAdded = "pusher_internal:member_added";
  constexpr std::string_view kRemoved = "pusher_internal:member_removed";
  if (frame.find("pusher_internal:member_") == std::string_view::npos) return std::nullopt;
  auto parsed = base::ParseJson(frame);
  if (!parsed.has_value() || !parsed->is_object()) return std::nullopt;
  auto event = parsed->find("event");
  auto data = parsed->find("data");
  if (event == parsed->end() || !event->is_string() || data == parsed->end() ||
      !data->is_string()) {
    return std::nullopt;
  }
  const std::string name = event->get<std::string>();
  if (name != kAdded && name != kRemoved) return std::nullopt;
  auto body = base::ParseJson(data->get<std::string>());
  if (!body.has_value() || !body->is_object()) return std::nullopt;
  auto user = body->find("user_id");
  if (user == body->end() || !(user->is_string() || user->is_number())) return std::nullopt;
  Event out;
  out.added = name == kAdded;
  out.info.user_id_json = base::Dump(*user);
  out.key = MemberKey(out.info.user_id_json);
  if (auto info = body->find("user_info"); info != body->end()) {
    out.info.user_info_json = base::Dump(*info);
  }
  return out;
}

JoinWatches::Id JoinWatches::Open(const std::string& app_id, const std::string& channel) {
  const Id id = next_++;
  watches_.emplace(id, Watch{app_id, channel, {}});
  open_.store(watches_.size());
  return id;
}

std::vector<JoinWatches::Event> JoinWatches::Take(Id id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return {};
  return std::exchange(it->second.events, {});
}

void JoinWatches::Close(Id id) {
  watches_.erase(id);
  open_.store(watches_.size());
}

void JoinWatches::Record(const std::string& app_id, const std::string& channel,
                         const Event& event) {
  for (auto& [id, w] : watches_) {
    if (w.app_id == app_id && w.channel == channel) w.events.push_back(event);
  }
}

}  // namespace sockudo::dataplane::adapter
