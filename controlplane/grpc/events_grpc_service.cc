#include "controlplane/grpc/events_grpc_service.h"

#include "controlplane/grpc/call.h"

namespace sockudo::controlplane::grpc_api {

::grpc::ServerUnaryReactor* EventsGrpcService::PublishEvent(::grpc::CallbackServerContext* context,
                                                            const v1::PublishEventRequest* request,
                                                            v1::PublishEventResponse* response) {
  return Unary(context, *auth_, "PublishEvent", request->parent(), response,
               [&] { return service_->PublishEvent(*request); });
}

}  // namespace sockudo::controlplane::grpc_api
