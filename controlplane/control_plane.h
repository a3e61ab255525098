// File: control_plane.h
// Wires the control plane: a BusObserver on the nodes' bus, the services (apps, cluster, users,
// channels, events) over it and the app store, and their two listeners:
// gRPC (callback API, health checking and reflection on) and REST/JSON, both behind the same
// bearer-token check. After every app write it publishes AppChanged; nodes apply it.
// Used by sockudo-controlplane (any bus but `local`) and, embedded, by sockudo-node: then it
// writes the node's own app store and joins the node's bus (the in-process hub with `local`).
// Start()/Stop() from one thread; Stop() is idempotent and runs in reverse order of Start().
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/apps/app.h"
#include "common/apps/writable_app_store.h"
#include "common/bus/transport.h"
#include "common/config/config.h"
#include "controlplane/auth/token_authenticator.h"
#include "controlplane/cluster/bus_observer.h"
#include "controlplane/service/app_service.h"
#include "controlplane/service/channels_service.h"
#include "controlplane/service/cluster_service.h"
#include "controlplane/service/events_service.h"
#include "controlplane/service/users_service.h"
#include "controlplane/tls_pem.h"

namespace sockudo::controlplane {

struct ControlPlaneOptions {
  std::string grpc_host = "0.0.0.0";
  int grpc_port = 50051;  // 0 picks a free port
  std::string rest_host = "0.0.0.0";
  int rest_port = 8080;              // 0 picks a free port
  std::optional<std::string> token;  // nullopt: calls are not authenticated
  std::optional<TlsPem> tls;         // nullopt: both listeners speak plain text
  cluster::BusObserverOptions observer;
  apps::LimitDefaults limits;  // server-wide event limits (PublishEvent)
  // The apps' backend-event budgets (PublishEvent); not owned, outlives the control plane. The
  // node's own limiter when embedded; null: no budgets.
  limits::RateLimiter* rate_limiter = nullptr;
};

class ControlPlane {
 public:
  // The options of a control plane embedded in a node (control_plane.*): hosts, ports and
  // token from `config`; without a token both listeners bind 127.0.0.1 only and `*warning` says
  // so (else it is cleared). Errors name the key (both token keys set, empty token file).
  static absl::StatusOr<ControlPlaneOptions> EmbeddedOptions(
      const config::ControlPlaneConfig& config, std::string* warning);
  // The observer's timings, the event limits and the TLS files from the node configuration (both
  // binaries). An unreadable or empty TLS file is an error naming its key.
  static absl::Status FromConfig(const config::Config& config, ControlPlaneOptions* options);

  // `transport` is the bus to observe (not started yet).
  ControlPlane(apps::WritableAppStore* store, std::unique_ptr<bus::Transport> transport,
               ControlPlaneOptions options);
  ~ControlPlane();

  absl::Status Start();
  void Stop();

  const ControlPlaneOptions& options() const { return options_; }
  int grpc_port() const { return grpc_port_; }
  int rest_port() const { return rest_port_; }
  service::AppService& apps() { return apps_; }
  cluster::BusObserver& observer() { return observer_; }

 private:
  struct Listeners;
  void PublishAppChanged(const service::AppChange& change);

  ControlPlaneOptions options_;
  auth::TokenAuthenticator auth_;
  cluster::BusObserver observer_;
  service::AppService apps_;
  service::ClusterService cluster_;
  service::UsersService users_;
  service::ChannelsService channels_;
  service::EventsService events_;
  bool observer_started_ = false;
  std::unique_ptr<Listeners> listeners_;
  int grpc_port_ = 0;
  int rest_port_ = 0;
};

}  // namespace sockudo::controlplane
