#include "controlplane/grpc/apps_grpc_service.h"

#include <exception>
#include <string>
#include <utility>

#include "controlplane/audit/audit_log.h"
#include "controlplane/grpc/status_convert.h"

namespace sockudo::controlplane::grpc_api {
namespace {

std::string AuthorizationOf(const ::grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

template <typename Response, typename Fn>
::grpc::ServerUnaryReactor* AppsGrpcService::Unary(::grpc::CallbackServerContext* context,
                                                   const char* method, std::string resource,
                                                   Response* response, Fn&& fn) {
  auto* reactor = context->DefaultReactor();
  audit::Call call{"grpc", context->peer(), "anonymous", method, std::move(resource)};
  absl::Status status = auth_->Check(AuthorizationOf(*context));
  if (status.ok()) {
    if (auth_->enabled()) call.principal = "token";
    try {
      auto result = fn();
      if (result.ok()) {
        *response = *std::move(result);
      } else {
        status = result.status();
      }
    } catch (const std::exception& e) {  // never let an exception leave a gRPC callback
      status = absl::InternalError(e.what());
    }
  }
  audit::Record(call, status);
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

::grpc::ServerUnaryReactor* AppsGrpcService::ListApps(::grpc::CallbackServerContext* context,
                                                      const v1::ListAppsRequest* request,
                                                      v1::ListAppsResponse* response) {
  return Unary(context, "ListApps", "apps", response, [&] { return service_->ListApps(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::GetApp(::grpc::CallbackServerContext* context,
                                                    const v1::GetAppRequest* request,
                                                    v1::App* response) {
  return Unary(context, "GetApp", request->name(), response,
               [&] { return service_->GetApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::CreateApp(::grpc::CallbackServerContext* context,
                                                       const v1::CreateAppRequest* request,
                                                       v1::App* response) {
  const std::string id = !request->app_id().empty() ? request->app_id() : request->app().id();
  return Unary(context, "CreateApp", id.empty() ? "apps" : "apps/" + id, response,
               [&] { return service_->CreateApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::UpdateApp(::grpc::CallbackServerContext* context,
                                                       const v1::UpdateAppRequest* request,
                                                       v1::App* response) {
  return Unary(context, "UpdateApp", request->app().name(), response,
               [&] { return service_->UpdateApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::DeleteApp(::grpc::CallbackServerContext* context,
                                                       const v1::DeleteAppRequest* request,
                                                       google::protobuf::Empty* response) {
  return Unary(context, "DeleteApp", request->name(), response,
               [&] { return service_->DeleteApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::RotateAppSecret(
    ::grpc::CallbackServerContext* context, const v1::RotateAppSecretRequest* request,
    v1::App* response) {
  return Unary(context, "RotateAppSecret", request->name(), response,
               [&] { return service_->RotateAppSecret(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::EnableApp(::grpc::CallbackServerContext* context,
                                                       const v1::EnableAppRequest* request,
                                                       v1::App* response) {
  return Unary(context, "EnableApp", request->name(), response,
               [&] { return service_->EnableApp(*request); });
}

::grpc::ServerUnaryReactor* AppsGrpcService::DisableApp(::grpc::CallbackServerContext* context,
                                                        const v1::DisableAppRequest* request,
                                                        v1::App* response) {
  return Unary(context, "DisableApp", request->name(), response,
               [&] { return service_->DisableApp(*request); });
}

}  // namespace sockudo::controlplane::grpc_api
