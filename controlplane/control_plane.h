// File: control_plane.h
// Wires the control plane's services to its two listeners: gRPC (callback API, health checking
// and reflection on) and REST/JSON, both in front of the same AppService and bearer-token check.
// Used by sockudo-controlplane; meant for the node's embedded mode too. Start()/Stop() from one
// thread; Stop() is idempotent and runs in reverse order of Start().
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/apps/writable_app_store.h"
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
  ControlPlane(apps::WritableAppStore* store, ControlPlaneOptions options);
  ~ControlPlane();

  absl::Status Start();
  void Stop();

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
