// client-* events: the acceptance rules in order (client messages enabled, event name length, a
// private or presence channel, subscribed, payload size, rate), then a relay to every other
// subscriber with the sender's user_id on presence channels.
#include "absl/strings/str_cat.h"
#include "common/protocol/close_codes.h"
#include "dataplane/connection/connection.h"
#include "dataplane/connection/handlers/handlers.h"

namespace sockudo::dataplane::connection::handlers {

void HandleClientEvent(Connection& c, const protocol::InboundFrame& frame,
                       std::chrono::steady_clock::time_point now) {
  constexpr int kCode = protocol::close_code::kClientEventRejected;
  auto channel_it = frame.root.find("channel");
  if (channel_it == frame.root.end() || !channel_it->is_string()) {
    c.Send(protocol::ErrorFrame(kCode, "Client events must name a channel."));
    return;
  }
  const std::string& channel = channel_it->get_ref<const std::string&>();
  const apps::App& app = c.app();
  const auto& limits = c.node().config.limits;
  metrics::AppCounters& counters = c.counters();  // cached: no registry lookup per event
  auto reject = [&](std::string_view message) {
    metrics::AppCounters::Add(counters.client_events_rejected, 1);
    c.Send(protocol::ErrorFrame(kCode, message, channel));
  };

  if (!app.enable_client_messages) return reject("The app does not have client messaging enabled.");
  if (protocol::Utf8Length(frame.event) > app.EventNameLimit(limits)) {
    return reject(absl::StrCat("Event name is too long. Maximum allowed size is ",
                               app.EventNameLimit(limits), "."));
  }
  if (!protocol::ClassifyChannel(channel).AllowsClientEvents()) {
    return reject("Client events are only supported on private and presence channels.");
  }
  const Connection::Subscription* sub = c.FindSubscription(channel);
  if (sub == nullptr)
    return reject("You must be subscribed to the channel to trigger client events.");

  auto data_it = frame.root.find("data");
  const bool has_data = data_it != frame.root.end();
  const std::string data_json = has_data ? base::Dump(*data_it) : "";
  const size_t size = !has_data              ? 0
                      : data_it->is_string() ? data_it->get_ref<const std::string&>().size()
                                             : data_json.size();
  if (size > app.EventPayloadLimitBytes(limits)) {
    return reject(absl::StrCat("The event data should be less than ",
                               app.EventPayloadLimitKb(limits), " KB."));
  }
  if (!c.TakeClientEventToken(now)) {
    metrics::AppCounters::Add(counters.client_events_rejected, 1);
    constexpr char kMessage[] = "The rate limit for sending client events exceeded the quota.";
    if (app.terminate_on_limit) {
      c.CloseWithError(kCode, kMessage);
    } else {
      c.Send(protocol::ErrorFrame(kCode, kMessage, channel));
    }
    return;
  }

  std::optional<std::string_view> user_id;
  if (sub->traits.IsPresence()) user_id = sub->user_id_json;
  c.node().adapter->Broadcast(
      app.id, channel,
      protocol::MakeShared(protocol::ClientEventFrame(frame.event, channel, data_json, user_id)),
      c.socket_id(), nullptr);
  if (webhooks::Wanted(c.node().webhooks, app, "client_event")) {
    c.node().webhooks->EmitFor(
        app.id, webhooks::ClientEvent(channel, frame.event, has_data ? &*data_it : nullptr,
                                      c.socket_id(), user_id.value_or(std::string_view())));
  }
}

}  // namespace sockudo::dataplane::connection::handlers
