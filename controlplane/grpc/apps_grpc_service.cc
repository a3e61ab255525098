#include "controlplane/grpc/apps_grpc_service.h"

#include <string>
#include <utility>

#include "controlplane/grpc/call.h"

namespace sockudo::controlplane::grpc_api {

::grpc::ServerUnaryReactor* AppsGrpcService::ListApps(::grpc::CallbackServerContext* context,
                                                      const v1::ListAppsRequest* request,
                                                      v1::ListAppsResponse* response) {
  return Unary(context, *auth_, "ListApps", "apps", response,
               [&] { return service_->ListApps(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::GetApp(::grpc::CallbackServerContext* context,
                                                    const v1::GetAppRequest* request,
                                                    v1::App* response) {
  return Unary(context, *auth_, "GetApp", request->name(), response,
               [&] { return service_->GetApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::CreateApp(::grpc::CallbackServerContext* context,
                                                       const v1::CreateAppRequest* request,
                                                       v1::App* response) {
  const std::string id = !request->app_id().empty() ? request->app_id() : request->app().id();
  return Unary(context, *auth_, "CreateApp", id.empty() ? "apps" : "apps/" + id, response,
               [&] { return service_->CreateApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::UpdateApp(::grpc::CallbackServerContext* context,
                                                       const v1::UpdateAppRequest* request,
                                                       v1::App* response) {
  return Unary(context, *auth_, "UpdateApp", request->app().name(), response,
               [&] { return service_->UpdateApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::DeleteApp(::grpc::CallbackServerContext* context,
                                                       const v1::DeleteAppRequest* request,
                                                       google::protobuf::Empty* response) {
  return Unary(context, *auth_, "DeleteApp", request->name(), response,
               [&] { return service_->DeleteApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::RotateAppSecret(
    ::grpc::CallbackServerContext* context, const v1::RotateAppSecretRequest* request,
    v1::App* response) {
  return Unary(context, *auth_, "RotateAppSecret", request->name(), response,
               [&] { return service_->RotateAppSecret(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::EnableApp(::grpc::CallbackServerContext* context,
                                                       const v1::EnableAppRequest* request,
                                                       v1::App* response) {
  return Unary(context, *auth_, "EnableApp", request->name(), response,
               [&] { return service_->EnableApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::DisableApp(::grpc::CallbackServerContext* context,
                                                        const v1::DisableAppRequest* request,
                                                        v1::App* response) {
  return Unary(context, *auth_, "DisableApp", request->name(), response,
               [&] { return service_->DisableApp(*request); });
}

}  // namespace sockudo::controlplane::grpc_api
