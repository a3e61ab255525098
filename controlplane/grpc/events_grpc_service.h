// File: events_grpc_service.h
// The Events gRPC service: one grpc/call.h Unary call over the EventsService.
#pragma once

#include "controlplane/auth/token_authenticator.h"
#include "controlplane/service/events_service.h"
#include "sockudo/controlplane/v1/events.grpc.pb.h"

namespace sockudo::controlplane::grpc_api {

class EventsGrpcService final : public v1::Events::CallbackService {
 public:
  EventsGrpcService(service::EventsService* service, const auth::TokenAuthenticator* auth)
      : service_(service), auth_(auth) {}

  ::grpc::ServerUnaryReactor* PublishEvent(::grpc::CallbackServerContext* context,
                                           const v1::PublishEventRequest* request,
                                           v1::PublishEventResponse* response) override;

 private:
  service::EventsService* service_;
  const auth::TokenAuthenticator* auth_;
};

}  // namespace sockudo::controlplane::grpc_api
