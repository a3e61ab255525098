// File: users_service.h
// The Users API (proto/sockudo/controlplane/v1/users.proto): count and terminate the connections
// a user signed in with (pusher:signin) across every node, through the bus observer's requests
// (CountUserConnections, TerminateUserConnections / ForceReconnect). Answers arrive later, on
// the observer's thread. NOT_FOUND for an unknown app, UNAVAILABLE when the bus is down.
#pragma once

#include "common/apps/app_store.h"
#include "controlplane/cluster/bus_observer.h"
#include "controlplane/service/callback.h"
#include "sockudo/controlplane/v1/users.pb.h"

namespace sockudo::controlplane::service {

class UsersService {
 public:
  UsersService(cluster::BusObserver* observer, const apps::AppStore* apps)
      : observer_(observer), apps_(apps) {}

  void TerminateUserConnections(const v1::TerminateUserConnectionsRequest& request,
                                Callback<v1::TerminateUserConnectionsResponse> done);
  void CountUserConnections(const v1::CountUserConnectionsRequest& request,
                            Callback<v1::CountUserConnectionsResponse> done);

 private:
  cluster::BusObserver* observer_;
  const apps::AppStore* apps_;
};

}  // namespace sockudo::controlplane::service
