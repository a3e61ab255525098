// File: channels_grpc_service.h
// The Channels gRPC service: grpc/call.h UnaryAsync calls over the ChannelsService (answers come
// from the nodes over the bus).
#pragma once

#include "controlplane/auth/token_authenticator.h"
#include "controlplane/service/channels_service.h"
#include "sockudo/controlplane/v1/channels.grpc.pb.h"

namespace sockudo::controlplane::grpc_api {

class ChannelsGrpcService final : public v1::Channels::CallbackService {
 public:
  ChannelsGrpcService(service::ChannelsService* service, const auth::TokenAuthenticator* auth)
      : service_(service), auth_(auth) {}

  ::grpc::ServerUnaryReactor* ListChannels(::grpc::CallbackServerContext* context,
                                           const v1::ListChannelsRequest* request,
                                           v1::ListChannelsResponse* response) override;
  ::grpc::ServerUnaryReactor* GetChannel(::grpc::CallbackServerContext* context,
                                         const v1::GetChannelRequest* request,
                                         v1::Channel* response) override;
  ::grpc::ServerUnaryReactor* ListMembers(::grpc::CallbackServerContext* context,
                                          const v1::ListMembersRequest* request,
                                          v1::ListMembersResponse* response) override;

 private:
  service::ChannelsService* service_;
  const auth::TokenAuthenticator* auth_;
};

}  // namespace sockudo::controlplane::grpc_api
