#include "controlplane/grpc/channels_grpc_service.h"

#include <utility>

#include "controlplane/grpc/call.h"

namespace sockudo::controlplane::grpc_api {

::grpc::ServerUnaryReactor* ChannelsGrpcService::ListChannels(
    ::grpc::CallbackServerContext* context, const v1::ListChannelsRequest* request,
    v1::ListChannelsResponse* response) {
  return UnaryAsync(context, *auth_, "ListChannels", request->parent(), response,
                    [&](auto done) { service_->ListChannels(*request, std::move(done)); });
}

::grpc::ServerUnaryReactor* ChannelsGrpcService::GetChannel(::grpc::CallbackServerContext* context,
                                                            const v1::GetChannelRequest* request,
                                                            v1::Channel* response) {
  return UnaryAsync(context, *auth_, "GetChannel", request->name(), response,
                    [&](auto done) { service_->GetChannel(*request, std::move(done)); });
}

::grpc::ServerUnaryReactor* ChannelsGrpcService::ListMembers(::grpc::CallbackServerContext* context,
                                                             const v1::ListMembersRequest* request,
                                                             v1::ListMembersResponse* response) {
  return UnaryAsync(context, *auth_, "ListMembers", request->parent(), response,
                    [&](auto done) { service_->ListMembers(*request, std::move(done)); });
}

}  // namespace sockudo::controlplane::grpc_api
