// File: app.h
// The app record: a tenant with its own key, secret, limits and features. Immutable once built;
// shared between threads as std::shared_ptr<const App>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/json.h"

namespace sockudo::apps {

// Server-wide defaults applied when an app leaves a limit unset (the `presence`, `channel_limits`
// and `event_limits` config keys).
struct LimitDefaults {
  int64_t max_presence_members_per_channel = 100;
  double max_presence_member_size_in_kb = 2;
  int64_t max_channel_name_length = 164;
  int64_t max_event_channels_at_once = 100;
  int64_t max_event_name_length = 200;
  double max_event_payload_in_kb = 100;
  int64_t max_event_batch_size = 10;
};

struct MessageRateLimit {
  bool enabled = false;
  int64_t max_attempts = 60;
  int64_t decay_seconds = 60;
  bool terminate_on_limit = false;
};

struct App {
  std::string id;
  std::string key;
  std::string secret;
  bool enabled = true;
  bool enable_client_messages = false;
  bool enable_user_authentication = false;
  bool enable_watchlist_events = false;

  int64_t max_connections = 0;               // <= 0: unlimited
  int64_t max_client_events_per_second = 0;  // <= 0: unlimited
  std::optional<int64_t> max_backend_events_per_second;
  std::optional<int64_t> max_read_requests_per_second;
  std::optional<int64_t> max_presence_members_per_channel;
  std::optional<double> max_presence_member_size_in_kb;
  std::optional<int64_t> max_channel_name_length;
  std::optional<int64_t> max_event_channels_at_once;
  std::optional<int64_t> max_event_name_length;
  std::optional<double> max_event_payload_in_kb;
  std::optional<int64_t> max_event_batch_size;
  std::optional<int64_t> decay_seconds;
  bool terminate_on_limit = false;
  std::optional<MessageRateLimit> message_rate_limit;

  std::optional<std::vector<std::string>> allowed_origins;
  base::Json webhooks;  // kept as given; validated and used by the webhook sender

  // Effective limits: the app's value, else the server default.
  int64_t PresenceMembersLimit(const LimitDefaults& d) const;
  size_t PresenceMemberSizeLimitBytes(const LimitDefaults& d) const;
  size_t ChannelNameLimit(const LimitDefaults& d) const;
  int64_t EventChannelsLimit(const LimitDefaults& d) const;
  size_t EventNameLimit(const LimitDefaults& d) const;
  size_t EventPayloadLimitBytes(const LimitDefaults& d) const;
  double EventPayloadLimitKb(const LimitDefaults& d) const;
  int64_t EventBatchLimit(const LimitDefaults& d) const;
  int64_t ClientEventWindowSeconds() const;

  // The canonical flat snake_case JSON form; the secret is included only when asked.
  base::Json ToJson(bool include_secret) const;
};

// The built-in default app: id `app-id`, key `app-key`, secret `app-secret`, client events
// allowed, every other field at its default (docs/configuration.md, "The default app").
App DefaultApp();

}  // namespace sockudo::apps
