// File: channels_service.h
// The Channels API (proto/sockudo/controlplane/v1/channels.proto): occupied channels of an app
// with their subscription counts, one channel, and the members of a presence channel, gathered
// from every node over the bus (ChannelsWithSocketsCount, ChannelSocketsCount, ChannelMembers)
// and merged: counts summed, members united by user id. Answers arrive later, on the observer's
// thread. NOT_FOUND for an unknown app, INVALID_ARGUMENT for a bad name, UNAVAILABLE when the
// bus is down.
#pragma once

#include "common/apps/app_store.h"
#include "controlplane/cluster/bus_observer.h"
#include "controlplane/service/callback.h"
#include "sockudo/controlplane/v1/channels.pb.h"

namespace sockudo::controlplane::service {

class ChannelsService {
 public:
  ChannelsService(cluster::BusObserver* observer, const apps::AppStore* apps)
      : observer_(observer), apps_(apps) {}

  void ListChannels(const v1::ListChannelsRequest& request,
                    Callback<v1::ListChannelsResponse> done);
  void GetChannel(const v1::GetChannelRequest& request, Callback<v1::Channel> done);
  void ListMembers(const v1::ListMembersRequest& request, Callback<v1::ListMembersResponse> done);

  static constexpr int kDefaultPageSize = 100;

 private:
  cluster::BusObserver* observer_;
  const apps::AppStore* apps_;
};

}  // namespace sockudo::controlplane::service
