// File: server.h
// The data-plane node: builds the app store, the node context, the workers, the adapter and the
// listeners from one Config, and runs them until Stop(). Start/Stop are called from the main
// thread.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/config.h"

namespace sockudo::dataplane::server {

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Create(const config::Config& config);
  ~Server();

  // Binds every listener and starts the worker threads.
  absl::Status Start();
  // Drains and stops, all within shutdown_grace_period of the call: /ready answers 503, the
  // listeners close, the open sockets get 4200 spread over shutdown_drain_spread, and the sockets
  // get until the grace period less a reserve (min(2 s, a quarter)) to go; in the reserve the node
  // leaves the cluster, stops its workers and hands its last webhooks over.
  void Stop();

  int port() const;  // the bound WebSocket/HTTP port (TCP)

  // SIGHUP: with app_manager.driver=file, reads the file again (an invalid file keeps the
  // current apps); logs what happened. Other drivers have nothing to reload.
  void ReloadApps();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sockudo::dataplane::server
