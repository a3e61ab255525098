#include "controlplane/service/app_proto.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/apps/app_reader.h"
#include "common/base/json.h"
#include "google/protobuf/util/json_util.h"

namespace sockudo::controlplane::service {
namespace {

using base::Json;
constexpr char kPrefix[] = "apps/";

}  // namespace

absl::StatusOr<apps::App> AppFromProto(const v1::App& m) {
  Json flat = Json::object();
  flat["id"] = m.id();
  flat["key"] = m.key();
  flat["secret"] = m.secret();
  if (m.has_enabled()) flat["enabled"] = m.enabled();
  if (m.has_enable_client_messages()) flat["enable_client_messages"] = m.enable_client_messages();
  if (m.has_enable_user_authentication()) {
    flat["enable_user_authentication"] = m.enable_user_authentication();
  }
  if (m.has_enable_watchlist_events()) {
    flat["enable_watchlist_events"] = m.enable_watchlist_events();
  }
#define SOCKUDO_COPY_OPTIONAL(field) \
  if (m.has_##field()) flat[#field] = m.field();
  SOCKUDO_COPY_OPTIONAL(max_connections)
  SOCKUDO_COPY_OPTIONAL(max_client_events_per_second)
  SOCKUDO_COPY_OPTIONAL(max_backend_events_per_second)
  SOCKUDO_COPY_OPTIONAL(max_read_requests_per_second)
  SOCKUDO_COPY_OPTIONAL(max_presence_members_per_channel)
  SOCKUDO_COPY_OPTIONAL(max_presence_member_size_in_kb)
  SOCKUDO_COPY_OPTIONAL(max_channel_name_length)
  SOCKUDO_COPY_OPTIONAL(max_event_channels_at_once)
  SOCKUDO_COPY_OPTIONAL(max_event_name_length)
  SOCKUDO_COPY_OPTIONAL(max_event_payload_in_kb)
  SOCKUDO_COPY_OPTIONAL(max_event_batch_size)
  SOCKUDO_COPY_OPTIONAL(decay_seconds)
  SOCKUDO_COPY_OPTIONAL(terminate_on_limit)
#undef SOCKUDO_COPY_OPTIONAL
  if (m.has_message_rate_limit()) {
    const auto& r = m.message_rate_limit();
    flat["message_rate_limit"] = {{"enabled", r.enabled()},
                                  {"max_attempts", r.max_attempts()},
                                  {"decay_seconds", r.decay_seconds()},
                                  {"terminate_on_limit", r.terminate_on_limit()}};
  }
  if (m.allowed_origins_size() > 0) {
    Json origins = Json::array();
    for (const auto& o : m.allowed_origins()) origins.push_back(o);
    flat["allowed_origins"] = std::move(origins);
  }
  if (m.has_webhooks()) {
    std::string text;
    if (!google::protobuf::util::MessageToJsonString(m.webhooks(), &text).ok()) {
      return absl::InvalidArgumentError("app.webhooks: not representable as JSON");
    }
    auto parsed = base::ParseJson(text);
    if (!parsed) return absl::InvalidArgumentError("app.webhooks: not representable as JSON");
    flat["webhooks"] = std::move(*parsed);
  }
  auto app = apps::ReadApp(flat);
  if (!app.ok()) {
    return absl::Status(app.status().code(),
                        absl::StrCat("app.", std::string(app.status().message())));
  }
  return app;
}

v1::App AppToProto(const apps::App& app, bool include_secret) {
  v1::App m;
  m.set_name(AppName(app.id));
  m.set_id(app.id);
  m.set_key(app.key);
  if (include_secret) m.set_secret(app.secret);
  m.set_enabled(app.enabled);
  m.set_enable_client_messages(app.enable_client_messages);
  m.set_enable_user_authentication(app.enable_user_authentication);
  m.set_enable_watchlist_events(app.enable_watchlist_events);
  m.set_max_connections(app.max_connections);
  m.set_max_client_events_per_second(app.max_client_events_per_second);
#define SOCKUDO_COPY_OPTIONAL(field) \
  if (app.field.has_value()) m.set_##field(*app.field);
  SOCKUDO_COPY_OPTIONAL(max_backend_events_per_second)
  SOCKUDO_COPY_OPTIONAL(max_read_requests_per_second)
  SOCKUDO_COPY_OPTIONAL(max_presence_members_per_channel)
  SOCKUDO_COPY_OPTIONAL(max_presence_member_size_in_kb)
  SOCKUDO_COPY_OPTIONAL(max_channel_name_length)
  SOCKUDO_COPY_OPTIONAL(max_event_channels_at_once)
  SOCKUDO_COPY_OPTIONAL(max_event_name_length)
  SOCKUDO_COPY_OPTIONAL(max_event_payload_in_kb)
  SOCKUDO_COPY_OPTIONAL(max_event_batch_size)
  SOCKUDO_COPY_OPTIONAL(decay_seconds)
#undef SOCKUDO_COPY_OPTIONAL
  m.set_terminate_on_limit(app.terminate_on_limit);
  if (app.message_rate_limit.has_value()) {
    auto* r = m.mutable_message_rate_limit();
    r->set_enabled(app.message_rate_limit->enabled);
    r->set_max_attempts(app.message_rate_limit->max_attempts);
    r->set_decay_seconds(app.message_rate_limit->decay_seconds);
    r->set_terminate_on_limit(app.message_rate_limit->terminate_on_limit);
  }
  if (app.allowed_origins.has_value()) {
    for (const auto& o : *app.allowed_origins) m.add_allowed_origins(o);
  }
  if (app.webhooks.is_array()) {
    const std::string text = app.webhooks.dump(-1, ' ', false, Json::error_handler_t::replace);
    // A record that was valid on input always converts; on failure the field stays unset.
    (void)google::protobuf::util::JsonStringToMessage(text, m.mutable_webhooks());
  }
  return m;
}

absl::StatusOr<std::string> AppIdFromName(const std::string& name, const char* field) {
  if (!absl::StartsWith(name, kPrefix) || name.size() == sizeof(kPrefix) - 1 ||
      name.find('/', sizeof(kPrefix) - 1) != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": expected apps/{app}, got \"", name, "\""));
  }
  return name.substr(sizeof(kPrefix) - 1);
}

std::string AppName(const std::string& id) { return absl::StrCat(kPrefix, id); }

}  // namespace sockudo::controlplane::service
