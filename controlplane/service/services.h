// File: services.h
// The control plane's services, as the gRPC and REST fronts see them. A null service answers
// UNIMPLEMENTED (e.g. a router built for the Apps API alone in tests).
#pragma once

namespace sockudo::controlplane::service {

class AppService;
class ClusterService;
class UsersService;
class ChannelsService;
class EventsService;

struct Services {
  AppService* apps = nullptr;
  ClusterService* cluster = nullptr;
  UsersService* users = nullptr;
  ChannelsService* channels = nullptr;
  EventsService* events = nullptr;
};

}  // namespace sockudo::controlplane::service
