// File: publisher.h
// The publish path shared by /events and /batch_events: validate an event completely, then per
// channel build the frame once and hand it to the adapter; cache channels keep it as their last
// event.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "common/apps/app.h"
#include "common/base/json.h"
#include "common/events/event_validation.h"
#include "dataplane/http/http_types.h"
#include "dataplane/node/node_context.h"

namespace sockudo::dataplane::http {

using events::EventToPublish;

// events::ValidateEvent with its error as the HTTP API's JSON answer.
std::variant<EventToPublish, HttpResponse> ValidateEvent(const apps::App& app,
                                                         const apps::LimitDefaults& limits,
                                                         const base::Json& item);

// Publishes to every channel of `event`; `done` gets the first failure of the bus (local
// subscribers have their frames whatever happens), or OK. It may run on another thread.
void Publish(node::NodeContext& node, const apps::App& app, const EventToPublish& event,
             adapter::StatusCallback done);

// The answer of a publish whose bus publish failed: 503, the client may try again.
HttpResponse PublishUnavailable();

// The `info` attributes of one channel as a JSON object, e.g. {"subscription_count":2}.
// Calls `done` when the adapter has answered.
void ChannelInfoAttributes(node::NodeContext& node, const std::string& app_id,
                           const std::string& channel, const std::vector<std::string>& info,
                           std::function<void(base::Json)> done);

}  // namespace sockudo::dataplane::http
