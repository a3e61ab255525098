// File: webhook_event.h
// One webhook event: its name, its channel (for the filters) and the event object in the key order
// Pusher sends, built by the helpers below on the thread that observed it. `user_id_json` is the
// JSON text of the presence user id (a number stays a number).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/json.h"

namespace sockudo::dataplane::webhooks {

struct WebhookEvent {
  std::string name;
  std::string channel;
  base::Json object;  // ordered: name, channel, ...
};

inline WebhookEvent ChannelEvent(std::string_view name, std::string_view channel) {
  WebhookEvent e{std::string(name), std::string(channel), base::Json::object()};
  e.object["name"] = e.name;
  e.object["channel"] = e.channel;
  return e;
}

inline base::Json UserIdValue(std::string_view user_id_json) {
  auto parsed = base::ParseJson(user_id_json);
  return parsed.has_value() ? *parsed : base::Json(std::string(user_id_json));
}

inline WebhookEvent ChannelOccupied(std::string_view channel) {
  return ChannelEvent("channel_occupied", channel);
}
inline WebhookEvent ChannelVacated(std::string_view channel) {
  return ChannelEvent("channel_vacated", channel);
}
inline WebhookEvent CacheMiss(std::string_view channel) {
  return ChannelEvent("cache_miss", channel);
}
inline WebhookEvent MemberAdded(std::string_view channel, std::string_view user_id_json) {
  WebhookEvent e = ChannelEvent("member_added", channel);
  e.object["user_id"] = UserIdValue(user_id_json);
  return e;
}
inline WebhookEvent MemberRemoved(std::string_view channel, std::string_view user_id_json) {
  WebhookEvent e = ChannelEvent("member_removed", channel);
  e.object["user_id"] = UserIdValue(user_id_json);
  return e;
}
inline WebhookEvent SubscriptionCount(std::string_view channel, int64_t count) {
  WebhookEvent e = ChannelEvent("subscription_count", channel);
  e.object["subscription_count"] = count;
  return e;
}
// `data` is the value the client sent (absent -> not added); `user_id_json` empty off presence.
inline WebhookEvent ClientEvent(std::string_view channel, std::string_view event,
                                const base::Json* data, std::string_view socket_id,
                                std::string_view user_id_json) {
  WebhookEvent e = ChannelEvent("client_event", channel);
  e.object["event"] = std::string(event);
  if (data != nullptr) e.object["data"] = *data;
  e.object["socket_id"] = std::string(socket_id);
  if (!user_id_json.empty()) e.object["user_id"] = UserIdValue(user_id_json);
  return e;
}

}  // namespace sockudo::dataplane::webhooks
