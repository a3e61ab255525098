// File: apps_grpc_service.h
// The Apps gRPC service on the callback API: each method is one grpc/call.h Unary over the shared
// AppService. Methods run on gRPC's callback threads; AppService is thread-safe.
#pragma once

#include "controlplane/auth/token_authenticator.h"
#include "controlplane/service/app_service.h"
#include "sockudo/controlplane/v1/apps.grpc.pb.h"

namespace sockudo::controlplane::grpc_api {

class AppsGrpcService final : public v1::Apps::CallbackService {
 public:
  AppsGrpcService(service::AppService* service, const auth::TokenAuthenticator* auth)
      : service_(service), auth_(auth) {}

  // v1::Apps::CallbackService
  ::grpc::ServerUnaryReactor* ListApps(::grpc::CallbackServerContext* context,
                                       const v1::ListAppsRequest* request,
                                       v1::ListAppsResponse* response) override;
  ::grpc::ServerUnaryReactor* GetApp(::grpc::CallbackServerContext* context,
                                     const v1::GetAppRequest* request, v1::App* response) override;
  ::grpc::ServerUnaryReactor* CreateApp(::grpc::CallbackServerContext* context,
                                        const v1::CreateAppRequest* request,
                                        v1::App* response) override;
  ::grpc::ServerUnaryReactor* UpdateApp(::grpc::CallbackServerContext* context,
                                        const v1::UpdateAppRequest* request,
                                        v1::App* response) override;
  ::grpc::ServerUnaryReactor* DeleteApp(::grpc::CallbackServerContext* context,
                                        const v1::DeleteAppRequest* request,
                                        google::protobuf::Empty* response) override;
  ::grpc::ServerUnaryReactor* RotateAppSecret(::grpc::CallbackServerContext* context,
                                              const v1::RotateAppSecretRequest* request,
                                              v1::App* response) override;
  ::grpc::ServerUnaryReactor* EnableApp(::grpc::CallbackServerContext* context,
                                        const v1::EnableAppRequest* request,
                                        v1::App* response) override;
  ::grpc::ServerUnaryReactor* DisableApp(::grpc::CallbackServerContext* context,
                                         const v1::DisableAppRequest* request,
                                         v1::App* response) override;

 private:
  service::AppService* service_;
  const auth::TokenAuthenticator* auth_;
};

}  // namespace sockudo::controlplane::grpc_api
