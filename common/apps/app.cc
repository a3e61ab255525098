#include "common/apps/app.h"

#include <cmath>

namespace sockudo::apps {

int64_t App::PresenceMembersLimit(const LimitDefaults& d) const {
  return max_presence_members_per_channel.value_or(d.max_presence_members_per_channel);
}
size_t App::PresenceMemberSizeLimitBytes(const LimitDefaults& d) const {
  return static_cast<size_t>(std::llround(
      max_presence_member_size_in_kb.value_or(d.max_presence_member_size_in_kb) * 1024));
}
size_t App::ChannelNameLimit(const LimitDefaults& d) const {
  return static_cast<size_t>(max_channel_name_length.value_or(d.max_channel_name_length));
}
int64_t App::EventChannelsLimit(const LimitDefaults& d) const {
  return max_event_channels_at_once.value_or(d.max_event_channels_at_once);
}
size_t App::EventNameLimit(const LimitDefaults& d) const {
  return static_cast<size_t>(max_event_name_length.value_or(d.max_event_name_length));
}
double App::EventPayloadLimitKb(const LimitDefaults& d) const {
  return max_event_payload_in_kb.value_or(d.max_event_payload_in_kb);
}
size_t App::EventPayloadLimitBytes(const LimitDefaults& d) const {
  return static_cast<size_t>(std::llround(EventPayloadLimitKb(d) * 1024));
}
int64_t App::EventBatchLimit(const LimitDefaults& d) const {
  return max_event_batch_size.value_or(d.max_event_batch_size);
}
int64_t App::ClientEventWindowSeconds() const {
  return decay_seconds.has_value() && *decay_seconds > 0 ? *decay_seconds : 1;
}

namespace {
template <typename T>
base::Json OrNull(const std::optional<T>& v) {
  return v.has_value() ? base::Json(*v) : base::Json(nullptr);
}
}  // namespace

base::Json App::ToJson(bool include_secret) const {
  base::Json j;
  j["id"] = id;
  j["key"] = key;
  if (include_secret) j["secret"] = secret;
  j["enabled"] = enabled;
  j["enable_client_messages"] = enable_client_messages;
  j["enable_user_authentication"] = enable_user_authentication;
  j["enable_watchlist_events"] = enable_watchlist_events;
  j["max_connections"] = max_connections;
  j["max_client_events_per_second"] = max_client_events_per_second;
  j["max_backend_events_per_second"] = OrNull(max_backend_events_per_second);
  j["max_read_requests_per_second"] = OrNull(max_read_requests_per_second);
  j["max_presence_members_per_channel"] = OrNull(max_presence_members_per_channel);
  j["max_presence_member_size_in_kb"] = OrNull(max_presence_member_size_in_kb);
  j["max_channel_name_length"] = OrNull(max_channel_name_length);
  j["max_event_channels_at_once"] = OrNull(max_event_channels_at_once);
  j["max_event_name_length"] = OrNull(max_event_name_length);
  j["max_event_payload_in_kb"] = OrNull(max_event_payload_in_kb);
  j["max_event_batch_size"] = OrNull(max_event_batch_size);
  j["decay_seconds"] = OrNull(decay_seconds);
  j["terminate_on_limit"] = terminate_on_limit;
  j["allowed_origins"] = OrNull(allowed_origins);
  j["webhooks"] = webhooks.is_null() ? base::Json(nullptr) : webhooks;
  return j;
}

App DefaultApp() {
  App app;
  app.id = "app-id";
  app.key = "app-key";
  app.secret = "app-secret";
  app.enable_client_messages = true;
  return app;
}

}  // namespace sockudo::apps
