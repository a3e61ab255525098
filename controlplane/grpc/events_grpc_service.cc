#include "controlplane/grpc/events_grpc_service.h"

#include "controlplane/grpc/call.h"

namespace sockudo::controlplane::grpc_api {

::grpc::ServerUnaryReactor* EventsGrpcService::PublishEvent(::grpc::CallbackServerContext* context,
                                                            const v1::PublishEventRequest* request,
                                                            v1::PublishEventResponse* response) {
  return UnaryAsync(context, *auth_, "PublishEvent", request->parent(), response,
                    [&](auto done) { service_->PublishEvent(*request, std::move(done)); });
}

}  // namespace sockudo::controlplane::grpc_api
