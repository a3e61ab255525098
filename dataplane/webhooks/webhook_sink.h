// File: webhook_sink.h
// What the data path sees of webhooks: Wants() is a cheap check (does any webhook of the app list
// this event type?) so callers build events only when needed; Emit() hands one event over without
// blocking (a bounded intake; overflow is dropped and counted). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/apps/app.h"
#include "dataplane/webhooks/webhook_event.h"

namespace sockudo::dataplane::webhooks {

class WebhookSink {
 public:
  virtual ~WebhookSink() = default;
  virtual bool Wants(const apps::App& app, std::string_view event_name) const = 0;
  virtual void Emit(const apps::App& app, WebhookEvent event) = 0;
  // For callers that know only the app id (the adapter): the app is looked up off the data path.
  virtual void EmitFor(const std::string& app_id, WebhookEvent event) = 0;
};

// Wants() with a null sink or an app without webhooks answers false without a call.
inline bool Wanted(const WebhookSink* sink, const apps::App& app, std::string_view name) {
  return sink != nullptr && app.webhooks.is_array() && !app.webhooks.empty() &&
         sink->Wants(app, name);
}

}  // namespace sockudo::dataplane::webhooks
