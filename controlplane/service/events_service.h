// File: events_service.h
// The Events API (proto/sockudo/controlplane/v1/events.proto): validates an event with the same
// code and app limits as the Pusher HTTP API's POST /events (common/events), takes one token per
// channel from the app's max_backend_events_per_second bucket in the same rate limiter as the
// nodes (so with a shared limiter the two APIs spend one budget), then publishes one
// BroadcastMessage per channel with the control plane's id as sender, so every node delivers it to
// its subscribers. INVALID_ARGUMENT naming the field, NOT_FOUND for an unknown app,
// PERMISSION_DENIED for a disabled one, RESOURCE_EXHAUSTED over the budget, UNAVAILABLE when the
// bus does not take it. Answers once, inline or on the rate limiter's thread. Thread-safe.
#pragma once

#include "absl/status/statusor.h"
#include "common/apps/app.h"
#include "common/apps/app_store.h"
#include "common/limits/rate_limiter.h"
#include "controlplane/cluster/bus_observer.h"
#include "controlplane/service/callback.h"
#include "sockudo/controlplane/v1/events.pb.h"

namespace sockudo::controlplane::service {

class EventsService {
 public:
  // `rate_limiter` may be null (no budgets); it outlives the service.
  EventsService(cluster::BusObserver* observer, const apps::AppStore* apps,
                apps::LimitDefaults limits, limits::RateLimiter* rate_limiter)
      : observer_(observer), apps_(apps), limits_(limits), rate_limiter_(rate_limiter) {}

  void PublishEvent(const v1::PublishEventRequest& request,
                    Callback<v1::PublishEventResponse> done);

 private:
  cluster::BusObserver* observer_;
  const apps::AppStore* apps_;
  apps::LimitDefaults limits_;
  limits::RateLimiter* rate_limiter_;
};

}  // namespace sockudo::controlplane::service
