// File: users_grpc_service.h
// The Users gRPC service: grpc/call.h UnaryAsync calls over the UsersService (answers come from
// the nodes over the bus).
#pragma once

#include "controlplane/auth/token_authenticator.h"
#include "controlplane/service/users_service.h"
#include "sockudo/controlplane/v1/users.grpc.pb.h"

namespace sockudo::controlplane::grpc_api {

class UsersGrpcService final : public v1::Users::CallbackService {
 public:
  UsersGrpcService(service::UsersService* service, const auth::TokenAuthenticator* auth)
      : service_(service), auth_(auth) {}

  ::grpc::ServerUnaryReactor* TerminateUserConnections(
      ::grpc::CallbackServerContext* context, const v1::TerminateUserConnectionsRequest* request,
      v1::TerminateUserConnectionsResponse* response) override;
  ::grpc::ServerUnaryReactor* CountUserConnections(
      ::grpc::CallbackServerContext* context, const v1::CountUserConnectionsRequest* request,
      v1::CountUserConnectionsResponse* response) override;

 private:
  service::UsersService* service_;
  const auth::TokenAuthenticator* auth_;
};

}  // namespace sockudo::controlplane::grpc_api
