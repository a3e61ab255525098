// File: event_validation.h
// The validation of one event of the Pusher HTTP API (POST /events): name, data, channels, their
// count and names, and the payload size, against the app's limits. Shared by the node's POST
// /events and /batch_events and by the control plane's PublishEvent, so both accept and refuse
// exactly the same events with the same messages.
//
//   auto v = events::ValidateEvent(app, limits, body);
//   if (auto* e = std::get_if<events::EventError>(&v)) return Reply(e->http_status, e->message);
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "common/apps/app.h"
#include "common/base/json.h"

namespace sockudo::events {

struct EventToPublish {
  std::string name;
  std::string data;  // the string delivered verbatim
  std::vector<std::string> channels;
  std::string socket_id;          // excluded recipient, "" for none
  std::vector<std::string> info;  // requested attributes
};

struct EventError {
  int http_status;      // 400, or 413 when the payload is too large
  std::string message;  // the Pusher HTTP API's message
  std::string field;    // the offending field: "name", "data", "channels"
};

// `item` is one event object ({"name", "data", "channels" | "channel", "socket_id", "info"}).
std::variant<EventToPublish, EventError> ValidateEvent(const apps::App& app,
                                                       const apps::LimitDefaults& limits,
                                                       const base::Json& item);

}  // namespace sockudo::events
