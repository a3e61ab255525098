// File: events_service.h
// The Events API (proto/sockudo/controlplane/v1/events.proto): validates an event with the same
// code and app limits as the Pusher HTTP API's POST /events (common/events), then publishes one
// BroadcastMessage per channel with the control plane's id as sender, so every node delivers it to
// its subscribers. INVALID_ARGUMENT naming the field, NOT_FOUND for an unknown app, UNAVAILABLE
// when the bus does not take it. Thread-safe.
#pragma once

#include "absl/status/statusor.h"
#include "common/apps/app.h"
#include "common/apps/app_store.h"
#include "controlplane/cluster/bus_observer.h"
#include "sockudo/controlplane/v1/events.pb.h"

namespace sockudo::controlplane::service {

class EventsService {
 public:
  EventsService(cluster::BusObserver* observer, const apps::AppStore* apps,
                apps::LimitDefaults limits)
      : observer_(observer), apps_(apps), limits_(limits) {}

  absl::StatusOr<v1::PublishEventResponse> PublishEvent(const v1::PublishEventRequest& request);

 private:
  cluster::BusObserver* observer_;
  const apps::AppStore* apps_;
  apps::LimitDefaults limits_;
};

}  // namespace sockudo::controlplane::service
