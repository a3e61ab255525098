#include "controlplane/control_plane.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controlplane/grpc/apps_grpc_service.h"
#include "controlplane/rest/rest_router.h"
#include "controlplane/rest/rest_server.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

namespace sockudo::controlplane {

struct ControlPlane::Listeners {
  Listeners(service::AppService* apps, const auth::TokenAuthenticator* auth)
      : apps_grpc(apps, auth), router(apps, auth), rest(&router) {}
  grpc_api::AppsGrpcService apps_grpc;
  std::unique_ptr<grpc::Server> grpc;
  rest::RestRouter router;
  rest::RestServer rest;
};

absl::StatusOr<ControlPlaneOptions> ControlPlane::EmbeddedOptions(
    const config::ControlPlaneConfig& config, std::string* warning) {
  auto token = auth::TokenAuthenticator::TokenFromConfig(config);
  if (!token.ok()) return token.status();
  ControlPlaneOptions options{
      .grpc_host = config.grpc_host,
      .grpc_port = static_cast<int>(config.grpc_port),
      .rest_host = config.rest_host,
      .rest_port = static_cast<int>(config.rest_port),
      .token = *token,
  };
  warning->clear();
  if (!options.token.has_value()) {
    options.grpc_host = "127.0.0.1";
    options.rest_host = "127.0.0.1";
    *warning =
        "control_plane.auth_token is not set: the embedded control plane listens on 127.0.0.1 "
        "only and accepts calls without a token (set CONTROL_PLANE_TOKEN to serve other hosts)";
  }
  return options;
}

ControlPlane::ControlPlane(apps::WritableAppStore* store, ControlPlaneOptions options)
    : options_(std::move(options)), auth_(options_.token), apps_(store) {}

ControlPlane::~ControlPlane() { Stop(); }

absl::Status ControlPlane::Start() {
  listeners_ = std::make_unique<Listeners>(&apps_, &auth_);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC turns SO_REUSEPORT on by default: a second process on the same port would then share
  // it silently (two nodes with an embedded control plane each answering half the calls).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(absl::StrCat(options_.grpc_host, ":", options_.grpc_port),
                           grpc::InsecureServerCredentials(), &grpc_port_);
  builder.RegisterService(&listeners_->apps_grpc);
  listeners_->grpc = builder.BuildAndStart();
  if (!listeners_->grpc || grpc_port_ == 0) {
    listeners_.reset();
    return absl::UnavailableError(absl::StrCat("control_plane.grpc_port: cannot listen on ",
                                               options_.grpc_host, ":", options_.grpc_port));
  }
  auto rest_port = listeners_->rest.Start(options_.rest_host, static_cast<int>(options_.rest_port));
  if (!rest_port.ok()) {
    listeners_->grpc->Shutdown();
    listeners_.reset();
    return rest_port.status();
  }
  rest_port_ = *rest_port;
  return absl::OkStatus();
}

void ControlPlane::Stop() {
  if (!listeners_) return;
  listeners_->rest.Stop();
  listeners_->grpc->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  listeners_.reset();
}

}  // namespace sockudo::controlplane
