#include "common/apps/app_reader.h"

#include <charconv>
#include <cmath>
#include <regex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/apps/origin_matcher.h"
#include "common/base/status_macros.h"

namespace sockudo::apps {
namespace {

// "http://host..." or "https://host..." with a non-empty host.
bool HttpUrlWithHost(const std::string& url) {
  const std::string lower = absl::AsciiStrToLower(url.substr(0, 8));
  size_t start = 0;
  if (absl::StartsWith(lower, "http://")) {
    start = 7;
  } else if (absl::StartsWith(lower, "https://")) {
    start = 8;
  } else {
    return false;
  }
  const size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  return !authority.empty() && authority[0] != ':';
}

using base::Json;

// soketi's camelCase names.
constexpr std::pair<const char*, const char*> kAliases[] = {
    {"AppId", "id"},
    {"AppKey", "key"},
    {"AppSecret", "secret"},
    {"Enabled", "enabled"},
    {"maxConnections", "max_connections"},
    {"MaxConnections", "max_connections"},
    {"enableClientMessages", "enable_client_messages"},
    {"EnableClientMessages", "enable_client_messages"},
    {"maxBackendEventsPerSecond", "max_backend_events_per_second"},
    {"max_backend_events_per_sec", "max_backend_events_per_second"},
    {"maxClientEventsPerSecond", "max_client_events_per_second"},
    {"max_client_events_per_sec", "max_client_events_per_second"},
    {"maxReadRequestsPerSecond", "max_read_requests_per_second"},
    {"max_read_req_per_sec", "max_read_requests_per_second"},
    {"maxPresenceMembersPerChannel", "max_presence_members_per_channel"},
    {"maxPresenceMemberSizeInKb", "max_presence_member_size_in_kb"},
    {"maxChannelNameLength", "max_channel_name_length"},
    {"maxEventChannelsAtOnce", "max_event_channels_at_once"},
    {"maxEventNameLength", "max_event_name_length"},
    {"maxEventPayloadInKb", "max_event_payload_in_kb"},
    {"maxEventBatchSize", "max_event_batch_size"},
    {"enableUserAuthentication", "enable_user_authentication"},
    {"Webhooks", "webhooks"},
};

// Copies `record` into the flat form: policy blocks flattened, aliases resolved, empty strings
// dropped.
Json Normalize(const Json& record) {
  Json flat = Json::object();
  for (const auto& [alias, canonical] : kAliases) {
    if (record.contains(alias)) flat[canonical] = record[alias];
  }
  for (const auto& [k, v] : record.items()) flat[k] = v;  // snake_case wins over aliases
  if (record.contains("policy") && record["policy"].is_object()) {
    const Json& policy = record["policy"];
    for (const char* block : {"limits", "features", "channels"}) {
      if (!policy.contains(block) || !policy[block].is_object()) continue;
      for (const auto& [k, v] : policy[block].items()) flat[k] = v;
    }
    if (policy.contains("webhooks")) flat["webhooks"] = policy["webhooks"];
  }
  for (auto it = flat.begin(); it != flat.end();) {
    if (it->is_string() && it->get_ref<const std::string&>().empty()) {
      it = flat.erase(it);
    } else {
      ++it;
    }
  }
  return flat;
}

absl::Status FieldError(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(std::string(field) + ": " + std::string(what));
}

bool IsAbsent(const Json& flat, const char* field) {
  return !flat.contains(field) || flat[field].is_null();
}

absl::StatusOr<std::optional<double>> ReadNumber(const Json& flat, const char* field) {
  if (IsAbsent(flat, field)) return std::optional<double>();
  const Json& v = flat[field];
  if (v.is_number()) return std::optional<double>(v.get<double>());
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    double parsed = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    if (ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(parsed)) {
      return std::optional<double>(parsed);
    }
  }
  return FieldError(field, "expected a number");
}

absl::StatusOr<std::optional<int64_t>> ReadInt(const Json& flat, const char* field) {
  SOCKUDO_ASSIGN_OR_RETURN(std::optional<double> n, ReadNumber(flat, field));
  if (!n.has_value()) return std::optional<int64_t>();
  if (*n != std::floor(*n) || std::fabs(*n) > 9.0e15)
    return FieldError(field, "expected an integer");
  return std::optional<int64_t>(static_cast<int64_t>(*n));
}

absl::StatusOr<std::optional<bool>> ReadBool(const Json& flat, const char* field) {
  if (IsAbsent(flat, field)) return std::optional<bool>();
  const Json& v = flat[field];
  if (v.is_boolean()) return std::optional<bool>(v.get<bool>());
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "true" || s == "1") return std::optional<bool>(true);
    if (s == "false" || s == "0") return std::optional<bool>(false);
  }
  if (v.is_number_integer()) return std::optional<bool>(v.get<int64_t>() != 0);
  return FieldError(field, "expected a boolean");
}

absl::StatusOr<std::string> ReadIdentity(const Json& flat, const char* field) {
  if (IsAbsent(flat, field)) return FieldError(field, "required");
  const Json& v = flat[field];
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (!v.is_string()) return FieldError(field, "expected a string");
  return v.get<std::string>();
}

// Optional limit: null or <= 0 means "use the default" for the fields where the server has one.
template <typename T>
void SetLimit(std::optional<T>& target, std::optional<T> value) {
  if (value.has_value() && *value > 0) target = value;
}

}  // namespace

absl::StatusOr<App> ReadApp(const Json& record) {
  if (!record.is_object()) return absl::InvalidArgumentError("app: expected a JSON object");
  const Json flat = Normalize(record);
  App app;
  SOCKUDO_ASSIGN_OR_RETURN(app.id, ReadIdentity(flat, "id"));
  SOCKUDO_ASSIGN_OR_RETURN(app.key, ReadIdentity(flat, "key"));
  SOCKUDO_ASSIGN_OR_RETURN(app.secret, ReadIdentity(flat, "secret"));
  if (app.id.size() > 255 || app.id.find('/') != std::string::npos) {
    return FieldError("id", "must be at most 255 bytes without '/'");
  }
  if (app.key.size() > 255) return FieldError("key", "must be at most 255 bytes");

  SOCKUDO_ASSIGN_OR_RETURN(auto enabled, ReadBool(flat, "enabled"));
  app.enabled = enabled.value_or(true);
  SOCKUDO_ASSIGN_OR_RETURN(auto client_messages, ReadBool(flat, "enable_client_messages"));
  app.enable_client_messages = client_messages.value_or(false);
  SOCKUDO_ASSIGN_OR_RETURN(auto user_auth, ReadBool(flat, "enable_user_authentication"));
  app.enable_user_authentication = user_auth.value_or(false);
  SOCKUDO_ASSIGN_OR_RETURN(auto watchlist, ReadBool(flat, "enable_watchlist_events"));
  app.enable_watchlist_events = watchlist.value_or(false);
  SOCKUDO_ASSIGN_OR_RETURN(auto terminate, ReadBool(flat, "terminate_on_limit"));
  app.terminate_on_limit = terminate.value_or(false);

  SOCKUDO_ASSIGN_OR_RETURN(auto max_connections, ReadInt(flat, "max_connections"));
  app.max_connections = max_connections.value_or(0);
  SOCKUDO_ASSIGN_OR_RETURN(auto client_rate, ReadInt(flat, "max_client_events_per_second"));
  app.max_client_events_per_second = client_rate.value_or(0);
  SOCKUDO_ASSIGN_OR_RETURN(auto backend_rate, ReadInt(flat, "max_backend_events_per_second"));
  SetLimit(app.max_backend_events_per_second, backend_rate);
  SOCKUDO_ASSIGN_OR_RETURN(auto read_rate, ReadInt(flat, "max_read_requests_per_second"));
  SetLimit(app.max_read_requests_per_second, read_rate);
  SOCKUDO_ASSIGN_OR_RETURN(auto members, ReadInt(flat, "max_presence_members_per_channel"));
  SetLimit(app.max_presence_members_per_channel, members);
  SOCKUDO_ASSIGN_OR_RETURN(auto member_size, ReadNumber(flat, "max_presence_member_size_in_kb"));
  SetLimit(app.max_presence_member_size_in_kb, member_size);
  SOCKUDO_ASSIGN_OR_RETURN(auto name_len, ReadInt(flat, "max_channel_name_length"));
  SetLimit(app.max_channel_name_length, name_len);
  SOCKUDO_ASSIGN_OR_RETURN(auto channels, ReadInt(flat, "max_event_channels_at_once"));
  SetLimit(app.max_event_channels_at_once, channels);
  SOCKUDO_ASSIGN_OR_RETURN(auto event_name, ReadInt(flat, "max_event_name_length"));
  SetLimit(app.max_event_name_length, event_name);
  SOCKUDO_ASSIGN_OR_RETURN(auto payload, ReadNumber(flat, "max_event_payload_in_kb"));
  SetLimit(app.max_event_payload_in_kb, payload);
  SOCKUDO_ASSIGN_OR_RETURN(auto batch, ReadInt(flat, "max_event_batch_size"));
  SetLimit(app.max_event_batch_size, batch);
  SOCKUDO_ASSIGN_OR_RETURN(auto decay, ReadInt(flat, "decay_seconds"));
  SetLimit(app.decay_seconds, decay);

  if (!IsAbsent(flat, "message_rate_limit")) {
    const Json& m = flat["message_rate_limit"];
    if (!m.is_object()) return FieldError("message_rate_limit", "expected an object");
    MessageRateLimit limit;
    SOCKUDO_ASSIGN_OR_RETURN(auto on, ReadBool(m, "enabled"));
    limit.enabled = on.value_or(false);
    SOCKUDO_ASSIGN_OR_RETURN(auto attempts, ReadInt(m, "max_attempts"));
    limit.max_attempts = attempts.value_or(60);
    SOCKUDO_ASSIGN_OR_RETURN(auto window, ReadInt(m, "decay_seconds"));
    limit.decay_seconds = window.value_or(60);
    SOCKUDO_ASSIGN_OR_RETURN(auto term, ReadBool(m, "terminate_on_limit"));
    limit.terminate_on_limit = term.value_or(false);
    if (limit.max_attempts < 1 || limit.decay_seconds < 1) {
      return FieldError("message_rate_limit", "max_attempts and decay_seconds must be > 0");
    }
    app.message_rate_limit = limit;
  }

  if (!IsAbsent(flat, "allowed_origins")) {
    const Json& origins = flat["allowed_origins"];
    if (!origins.is_array()) return FieldError("allowed_origins", "expected an array of strings");
    std::vector<std::string> list;
    for (const Json& o : origins) {
      if (!o.is_string()) return FieldError("allowed_origins", "expected an array of strings");
      if (absl::Status valid = ValidateOriginPattern(o.get<std::string>()); !valid.ok()) {
        return FieldError("allowed_origins", std::string(valid.message()));
      }
      list.push_back(o.get<std::string>());
    }
    app.allowed_origins = std::move(list);
  }

  if (!IsAbsent(flat, "webhooks")) {
    Json hooks = flat["webhooks"];
    if (hooks.is_string()) {
      auto parsed = base::ParseJson(hooks.get<std::string>());
      if (!parsed) return FieldError("webhooks", "string is not a JSON array");
      hooks = *parsed;
    }
    if (!hooks.is_array()) return FieldError("webhooks", "expected an array");
    for (const Json& hook : hooks) {
      if (!hook.is_object()) return FieldError("webhooks", "each webhook must be an object");
      if (!hook.contains("event_types") || !hook["event_types"].is_array() ||
          hook["event_types"].empty()) {
        return FieldError("webhooks", "event_types must be a non-empty array");
      }
      // Caught here, where the app is written, rather than on every delivery attempt.
      auto url = hook.find("url");
      if (url == hook.end() || !url->is_string() || !HttpUrlWithHost(url->get<std::string>())) {
        return FieldError("webhooks", "url must be an http:// or https:// URL with a host");
      }
      if (auto filter = hook.find("filter"); filter != hook.end() && filter->is_object()) {
        auto pattern = filter->find("channel_pattern");
        if (pattern != filter->end() && !pattern->is_null()) {
          if (!pattern->is_string()) {
            return FieldError("webhooks", "channel_pattern must be a string");
          }
          try {
            std::regex compiled(pattern->get<std::string>(), std::regex::ECMAScript);
          } catch (const std::regex_error& e) {
            return FieldError("webhooks",
                              absl::StrCat("invalid channel_pattern \"",
                                           pattern->get<std::string>(), "\": ", e.what()));
          }
        }
      }
    }
    app.webhooks = std::move(hooks);
  }
  return app;
}

base::Json StoredRecord(const App& app) {
  base::Json record = app.ToJson(/*include_secret=*/true);
  if (app.message_rate_limit.has_value()) {  // not part of App::ToJson
    const MessageRateLimit& m = *app.message_rate_limit;
    record["message_rate_limit"] = {{"enabled", m.enabled},
                                    {"max_attempts", m.max_attempts},
                                    {"decay_seconds", m.decay_seconds},
                                    {"terminate_on_limit", m.terminate_on_limit}};
  }
  return record;
}

}  // namespace sockudo::apps
