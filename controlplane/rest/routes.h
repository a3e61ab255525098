// File: routes.h
// The REST routes, one file per API (apps_routes.cc, cluster_routes.cc, ...). Each Route*
// function claims the calls under its path and answers them through `reply` (once, maybe later
// and from another thread), or returns false when the path is not its own. Every route calls the
// same service method as its gRPC twin.
#pragma once

#include "controlplane/rest/rest_call.h"
#include "controlplane/service/services.h"

namespace sockudo::controlplane::rest {

// /v1/apps, /v1/apps/{app}, /v1/apps/{app}:rotateSecret|:enable|:disable
bool RouteApps(RestCall& call, service::AppService* apps, const JsonReply& reply);
// /v1/cluster/nodes, /v1/cluster/nodes/{id}, /v1/cluster/health, /v1/cluster:watch (a stream of
// server-sent events: WatchCluster's events in the JSON mapping)
bool RouteCluster(RestCall& call, service::ClusterService* cluster, const JsonReply& reply);
// /v1/apps/{app}/users/{user}:terminate, /v1/apps/{app}/users/{user}/connections, and the same
// as /v1/users/{user}:terminate?app={app}, /v1/users/{user}/connections?app={app}
bool RouteUsers(RestCall& call, service::UsersService* users, const JsonReply& reply);
// /v1/apps/{app}/channels, /v1/apps/{app}/channels/{channel}[/members]
bool RouteChannels(RestCall& call, service::ChannelsService* channels, const JsonReply& reply);
// /v1/apps/{app}/events
bool RouteEvents(RestCall& call, service::EventsService* events, const JsonReply& reply);

}  // namespace sockudo::controlplane::rest
