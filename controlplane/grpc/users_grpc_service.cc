#include "controlplane/grpc/users_grpc_service.h"

#include <utility>

#include "controlplane/grpc/call.h"

namespace sockudo::controlplane::grpc_api {

::grpc::ServerUnaryReactor* UsersGrpcService::TerminateUserConnections(
    ::grpc::CallbackServerContext* context, const v1::TerminateUserConnectionsRequest* request,
    v1::TerminateUserConnectionsResponse* response) {
  return UnaryAsync(
      context, *auth_, "TerminateUserConnections", request->name(), response,
      [&](auto done) { service_->TerminateUserConnections(*request, std::move(done)); });
}

::grpc::ServerUnaryReactor* UsersGrpcService::CountUserConnections(
    ::grpc::CallbackServerContext* context, const v1::CountUserConnectionsRequest* request,
    v1::CountUserConnectionsResponse* response) {
  return UnaryAsync(context, *auth_, "CountUserConnections", request->name(), response,
                    [&](auto done) { service_->CountUserConnections(*request, std::move(done)); });
}

}  // namespace sockudo::controlplane::grpc_api
