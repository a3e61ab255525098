#include "common/protocol/frame.h"

namespace sockudo::protocol {

using base::AppendJsonString;

namespace {

// {"event":<event>,"channel":<channel>
std::string Head(std::string_view event, std::optional<std::string_view> channel) {
  std::string out;
  out.reserve(64 + event.size() + (channel ? channel->size() : 0));
  out.append("{\"event\":");
  AppendJsonString(out, event);
  if (channel.has_value()) {
    out.append(",\"channel\":");
    AppendJsonString(out, *channel);
  }
  return out;
}

}  // namespace

std::string ConnectionEstablishedFrame(std::string_view socket_id, int64_t activity_timeout) {
  std::string data = "{\"socket_id\":";
  AppendJsonString(data, socket_id);
  data.append(",\"activity_timeout\":");
  data.append(std::to_string(activity_timeout));
  data.push_back('}');
  std::string out = Head("pusher:connection_established", std::nullopt);
  out.append(",\"data\":");
  AppendJsonString(out, data);
  out.push_back('}');
  return out;
}

std::string ErrorFrame(std::optional<int> code, std::string_view message,
                       std::optional<std::string_view> channel) {
  std::string out = Head("pusher:error", channel);
  out.append(",\"data\":{\"code\":");
  out.append(code.has_value() ? std::to_string(*code) : "null");
  out.append(",\"message\":");
  AppendJsonString(out, message);
  out.append("}}");
  return out;
}

std::string PingFrame() { return R"({"event":"pusher:ping","data":{}})"; }
std::string PongFrame() { return R"({"event":"pusher:pong","data":{}})"; }

std::string SubscriptionSucceededFrame(std::string_view channel, std::string_view data_string) {
  std::string out = Head("pusher_internal:subscription_succeeded", channel);
  out.append(",\"data\":");
  AppendJsonString(out, data_string);
  out.push_back('}');
  return out;
}

std::string SubscriptionErrorFrame(std::string_view channel, std::string_view type,
                                   std::string_view error, int status) {
  std::string out = Head("pusher:subscription_error", channel);
  out.append(",\"data\":{\"type\":");
  AppendJsonString(out, type);
  out.append(",\"error\":");
  AppendJsonString(out, error);
  out.append(",\"status\":");
  out.append(std::to_string(status));
  out.append("}}");
  return out;
}

std::string MemberAddedFrame(std::string_view channel, std::string_view user_id_json,
                             std::string_view user_info_json) {
  std::string data = "{\"user_id\":";
  data.append(user_id_json);
  data.append(",\"user_info\":");
  data.append(user_info_json);
  data.push_back('}');
  std::string out = Head("pusher_internal:member_added", channel);
  out.append(",\"data\":");
  AppendJsonString(out, data);
  out.push_back('}');
  return out;
}

std::string MemberRemovedFrame(std::string_view channel, std::string_view user_id_json) {
  std::string data = "{\"user_id\":";
  data.append(user_id_json);
  data.push_back('}');
  std::string out = Head("pusher_internal:member_removed", channel);
  out.append(",\"data\":");
  AppendJsonString(out, data);
  out.push_back('}');
  return out;
}

std::string SigninSuccessFrame(std::string_view user_data) {
  std::string out = Head("pusher:signin_success", std::nullopt);
  out.append(",\"data\":{\"user_data\":");
  AppendJsonString(out, user_data);
  out.append("}}");
  return out;
}

std::string WatchlistEventsFrame(const std::vector<std::string>& online,
                                 const std::vector<std::string>& offline) {
  base::Json events = base::Json::array();
  if (!online.empty()) events.push_back({{"name", "online"}, {"user_ids", online}});
  if (!offline.empty()) events.push_back({{"name", "offline"}, {"user_ids", offline}});
  base::Json data = {{"events", events}};
  std::string out = Head("pusher_internal:watchlist_events", std::nullopt);
  out.append(",\"data\":");
  AppendJsonString(out, base::Dump(data));
  out.push_back('}');
  return out;
}

std::string CacheMissFrame(std::string_view channel) {
  std::string out = Head("pusher:cache_miss", channel);
  out.push_back('}');
  return out;
}

std::string ChannelEventFrame(std::string_view event, std::string_view channel,
                              std::string_view data) {
  std::string out = Head(event, channel);
  out.append(",\"data\":");
  AppendJsonString(out, data);
  out.push_back('}');
  return out;
}

std::string ClientEventFrame(std::string_view event, std::string_view channel,
                             std::string_view data_json,
                             std::optional<std::string_view> user_id_json) {
  std::string out = Head(event, channel);
  if (!data_json.empty()) {
    out.append(",\"data\":");
    out.append(data_json);
  }
  if (user_id_json.has_value()) {
    out.append(",\"user_id\":");
    out.append(*user_id_json);
  }
  out.push_back('}');
  return out;
}

std::variant<InboundFrame, ParseError> ParseInbound(std::string_view text) {
  auto parsed = base::ParseJson(text);
  if (!parsed.has_value() || !parsed->is_object()) {
    return ParseError{ErrorFrame(std::nullopt, "Invalid JSON")};
  }
  auto it = parsed->find("event");
  if (it == parsed->end() || !it->is_string()) {
    return ParseError{ErrorFrame(std::nullopt, "Invalid message: missing string field \"event\"")};
  }
  InboundFrame frame;
  frame.event = it->get<std::string>();
  frame.root = std::move(*parsed);
  return frame;
}

}  // namespace sockudo::protocol
