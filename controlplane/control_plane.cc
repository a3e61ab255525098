#include "controlplane/control_plane.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "common/base/status_macros.h"
#include "common/bus/request_router.h"
#include "controlplane/grpc/apps_grpc_service.h"
#include "controlplane/grpc/channels_grpc_service.h"
#include "controlplane/grpc/cluster_grpc_service.h"
#include "controlplane/grpc/events_grpc_service.h"
#include "controlplane/grpc/users_grpc_service.h"
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
  Listeners(service::Services services, const auth::TokenAuthenticator* auth)
      : apps_grpc(services.apps, auth),
        cluster_grpc(services.cluster, auth),
        users_grpc(services.users, auth),
        channels_grpc(services.channels, auth),
        events_grpc(services.events, auth),
        router(services, auth),
        rest(&router) {}
  grpc_api::AppsGrpcService apps_grpc;
  grpc_api::ClusterGrpcService cluster_grpc;
  grpc_api::UsersGrpcService users_grpc;
  grpc_api::ChannelsGrpcService channels_grpc;
  grpc_api::EventsGrpcService events_grpc;
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

absl::Status ControlPlane::FromConfig(const config::Config& config, ControlPlaneOptions* options) {
  const auto& health = config.adapter.cluster_health;
  options->observer.heartbeat_interval = std::chrono::milliseconds(health.heartbeat_interval_ms);
  options->observer.node_timeout = std::chrono::milliseconds(health.node_timeout_ms);
  if (config.adapter.driver == "local") {
    // The embedded node heartbeats every second on the in-process bus.
    options->observer.heartbeat_interval = std::chrono::milliseconds(1000);
    options->observer.node_timeout = std::chrono::milliseconds(3000);
  }
  options->observer.request_timeout = bus::RequestBaseTimeout(config);
  options->limits = config.limits;
  const config::ControlPlaneTlsConfig& tls = config.control_plane.tls;
  if (!tls.enabled) return absl::OkStatus();
  TlsPem pem;
  for (auto [key, path, out] :
       {std::tuple{"control_plane.tls.cert_path", &tls.cert_path, &pem.cert_chain},
        std::tuple{"control_plane.tls.key_path", &tls.key_path, &pem.private_key}}) {
    std::ifstream in(*path);
    std::stringstream text;
    if (in) text << in.rdbuf();
    *out = text.str();
    if (out->find("-----BEGIN ") == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, ": \"", *path, "\" is not a readable PEM file"));
    }
  }
  options->tls = std::move(pem);
  return absl::OkStatus();
}

ControlPlane::ControlPlane(apps::WritableAppStore* store, std::unique_ptr<bus::Transport> transport,
                           ControlPlaneOptions options)
    : options_(std::move(options)),
      auth_(options_.token),
      observer_(std::move(transport), options_.observer),
      apps_(store),
      cluster_(&observer_),
      users_(&observer_, store),
      channels_(&observer_, store),
      events_(&observer_, store, options_.limits, options_.rate_limiter) {
  apps_.SetWriteGate([this]() -> absl::Status {
    if (observer_.BusHealthy()) return absl::OkStatus();
    return absl::UnavailableError(
        absl::StrCat("the ", std::string(observer_.adapter()),
                     " bus is not connected: the nodes would miss this change"));
  });
  apps_.SetChangeObserver([this](const service::AppChange& change) { PublishAppChanged(change); });
}

ControlPlane::~ControlPlane() { Stop(); }

void ControlPlane::PublishAppChanged(const service::AppChange& change) {
  bus::RequestBody notice;
  notice.request_type = bus::RequestType::kAppChanged;
  notice.app_id = change.id;
  notice.user_info = base::Json{{"action", service::AppChangeAction(change.kind)},
                                {"key", change.old_key.empty() ? change.new_key : change.old_key}};
  if (absl::Status st = observer_.Tell(std::move(notice)); !st.ok()) {
    base::Logger("controlplane")
        ->error(
            "apps/{} {}: AppChanged not published ({}); nodes see it when their app cache "
            "refreshes",
            change.id, service::AppChangeAction(change.kind), std::string(st.message()));
  }
}

absl::Status ControlPlane::Start() {
  if (!observer_started_) {
    SOCKUDO_RETURN_IF_ERROR(observer_.Start());
    observer_started_ = true;
  }
  listeners_ = std::make_unique<Listeners>(
      service::Services{&apps_, &cluster_, &users_, &channels_, &events_}, &auth_);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC turns SO_REUSEPORT on by default: a second process on the same port would then share
  // it silently (two nodes with an embedded control plane each answering half the calls).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (options_.tls.has_value()) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({options_.tls->private_key, options_.tls->cert_chain});
    credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(absl::StrCat(options_.grpc_host, ":", options_.grpc_port), credentials,
                           &grpc_port_);
  builder.RegisterService(&listeners_->apps_grpc);
  builder.RegisterService(&listeners_->cluster_grpc);
  builder.RegisterService(&listeners_->users_grpc);
  builder.RegisterService(&listeners_->channels_grpc);
  builder.RegisterService(&listeners_->events_grpc);
  listeners_->grpc = builder.BuildAndStart();
  if (!listeners_->grpc || grpc_port_ == 0) {
    listeners_.reset();
    return absl::UnavailableError(absl::StrCat(
        "control_plane.grpc_port: cannot listen on ", options_.grpc_host, ":", options_.grpc_port,
        options_.tls ? " (or control_plane.tls holds no usable certificate and key)" : ""));
  }
  auto rest_port = listeners_->rest.Start(options_.rest_host, static_cast<int>(options_.rest_port),
                                          options_.tls ? &*options_.tls : nullptr);
  if (!rest_port.ok()) {
    listeners_->grpc->Shutdown();
    listeners_.reset();
    return rest_port.status();
  }
  rest_port_ = *rest_port;
  return absl::OkStatus();
}

void ControlPlane::Stop() {
  if (listeners_) {
    listeners_->rest.Stop();
    // Pending cluster-wide calls finish (incomplete) while the gRPC server can still take their
    // answers; watch streams end with the server.
    observer_.Stop();
    listeners_->grpc->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    listeners_.reset();
  }
  observer_.Stop();
}

}  // namespace sockudo::controlplane
