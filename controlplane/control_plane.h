// File: control_plane.h
// Wires the control plane's services to its two listeners: gRPC (callback API, health checking
// and reflection on) and REST/JSON, both in front of the same AppService and bearer-token check.
// Used by sockudo-controlplane and, embedded, by sockudo-node (adapter.driver=local): then it
// writes the node's own app store and the node applies each change through the AppService change
// observer (apps().SetChangeObserver, set before Start). Start()/Stop() from one thread; Stop() is
// idempotent and runs in reverse order of Start().
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/apps/writable_app_store.h"
#include "common/config/config.h"
#include "controlplane/auth/token_authenticator.h"
#include "controlplane/service/app_service.h"

namespace sockudo::controlplane {

struct ControlPlaneOptions {
  std::string grpc_host = "0.0.0.0";
  int grpc_port = 50051;  // 0 picks a free port
  std::string rest_host = "0.0.0.0";
  int rest_port = 8080;              // 0 picks a free port
  std::optional<std::string> token;  // nullopt: calls are not authenticated
};

class ControlPlane {
 public:
  // The options of a control plane embedded in a node (spec/config.md §16): hosts, ports and
  // token from `config`; without a token both listeners bind 127.0.0.1 only and `*warning` says
  // so (else it is cleared). Errors name the key (both token keys set, empty token file).
  static absl::StatusOr<ControlPlaneOptions> EmbeddedOptions(
      const config::ControlPlaneConfig& config, std::string* warning);

  ControlPlane(apps::WritableAppStore* store, ControlPlaneOptions options);
  ~ControlPlane();

  absl::Status Start();
  void Stop();

  const ControlPlaneOptions& options() const { return options_; }
  int grpc_port() const { return grpc_port_; }
  int rest_port() const { return rest_port_; }
  service::AppService& apps() { return apps_; }

 private:
  struct Listeners;
  ControlPlaneOptions options_;
  auth::TokenAuthenticator auth_;
  service::AppService apps_;
  std::unique_ptr<Listeners> listeners_;
  int grpc_port_ = 0;
  int rest_port_ = 0;
};

}  // namespace sockudo::controlplane
