// sockudo-controlplane: flags -> LoadConfig -> app store -> ControlPlane (gRPC + REST).
// apps live in Redis (app_manager.driver=redis), shared with the nodes; SIGINT / SIGTERM stop.
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/apps/app_store_factory.h"
#include "common/base/logging.h"
#include "common/bus/transport_factory.h"
#include "common/config/command_line.h"
#include "common/limits/rate_limiter_factory.h"
#include "controlplane/auth/token_authenticator.h"
#include "controlplane/control_plane.h"

namespace {

constexpr char kUsage[] =
    R"(Usage: sockudo-controlplane [--config FILE] [--check-config] [--help] [--version]

The sockudo control plane: apps over gRPC (control_plane.grpc_port, default 50051) and REST/JSON
(control_plane.rest_port, default 8080, routes under /v1/). It joins the nodes' bus as an
observer (ADAPTER_DRIVER redis, redis-cluster or nats) and writes apps to Redis
(APP_MANAGER_DRIVER=redis) where the nodes read them. Every call needs
"Authorization: Bearer <token>" (CONTROL_PLANE_TOKEN or CONTROL_PLANE_TOKEN_FILE).

  --config FILE    JSON config file (same format as sockudo-node's)
  --check-config   load and validate the configuration, print it with secrets masked, exit 0 or 2
  --help           this text
  --version        print the version
)";

int Fail(const std::string& message, int code = 2) {
  std::cerr << "sockudo-controlplane: " << message << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  sockudo::config::StartupConfig startup;
  if (auto exit_code = sockudo::config::LoadStartupConfig(argc, argv, "sockudo-controlplane",
                                                          kUsage, &startup)) {
    return *exit_code;
  }
  const sockudo::config::Config& config = startup.config;
  auto log = sockudo::base::Logger("controlplane");

  // The standalone control plane joins the nodes' bus; `local` is the bus inside one node.
  if (config.adapter.driver == "local") {
    return Fail(
        "adapter.driver=local: a standalone control plane must join the nodes' bus; set "
        "adapter.driver (ADAPTER_DRIVER) to redis, redis-cluster or nats, or use the control plane "
        "embedded in sockudo-node");
  }
  // The nodes must read what it writes, so the app store must be one they share.
  if (config.app_manager.driver != "redis") {
    return Fail(absl::StrCat("app_manager.driver=", config.app_manager.driver,
                             ": a standalone control plane writes apps the nodes read; set "
                             "app_manager.driver (APP_MANAGER_DRIVER) to redis on the control "
                             "plane and the nodes, next to adapter.driver=",
                             config.adapter.driver));
  }
  auto token =
      sockudo::controlplane::auth::TokenAuthenticator::TokenFromConfig(config.control_plane);
  if (!token.ok()) return Fail(std::string(token.status().message()));
  if (!token->has_value()) {
    return Fail(
        "control_plane.auth_token: a standalone control plane needs a bearer token "
        "(CONTROL_PLANE_TOKEN or CONTROL_PLANE_TOKEN_FILE)");
  }
  if (startup.check_only) {
    std::cout << sockudo::config::PrintConfig(config) << "\n";
    return 0;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto store = sockudo::apps::MakeWritableAppStore(config);
  if (!store.ok()) return Fail(std::string(store.status().message()));

  sockudo::bus::TransportDeps deps;
  deps.fatal = [](absl::Status why) {
    sockudo::base::Logger("controlplane")
        ->critical("the bus is lost for good: {}", std::string(why.message()));
    std::_Exit(3);
  };
  auto transport = sockudo::bus::MakeTransport(config, deps);
  if (!transport.ok()) return Fail(std::string(transport.status().message()));

  sockudo::controlplane::ControlPlaneOptions cp_options{
      .grpc_host = config.control_plane.grpc_host,
      .grpc_port = static_cast<int>(config.control_plane.grpc_port),
      .rest_host = config.control_plane.rest_host,
      .rest_port = static_cast<int>(config.control_plane.rest_port),
      .token = **token,
  };
  if (auto st = sockudo::controlplane::ControlPlane::FromConfig(config, &cp_options); !st.ok()) {
    return Fail(std::string(st.message()));
  }
  // The apps' backend-event budgets, in the same store as the nodes' (rate_limiter.driver): with
  // redis, PublishEvent and the nodes' HTTP API spend one budget per app.
  std::atomic<int64_t> rate_limit_errors{0};
  auto rate_limiter = sockudo::limits::MakeRateLimiter(config, &rate_limit_errors);
  if (!rate_limiter.ok()) return Fail(std::string(rate_limiter.status().message()));
  cp_options.rate_limiter = rate_limiter->get();
  sockudo::controlplane::ControlPlane control_plane(store->get(), *std::move(transport),
                                                    cp_options);
  if (auto st = control_plane.Start(); !st.ok()) return Fail(std::string(st.message()), 1);
  log->info("listening grpc={}:{}{} rest={}://{}:{} (apps: {} driver)", cp_options.grpc_host,
            control_plane.grpc_port(), cp_options.tls ? " (TLS)" : "",
            cp_options.tls ? "https" : "http", cp_options.rest_host, control_plane.rest_port(),
            config.app_manager.driver);
  std::fflush(stdout);

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) continue;  // nothing to reload: apps live in Redis
    log->info("signal {} received: shutting down", sig);
    break;
  }
  control_plane.Stop();
  if (*rate_limiter) (*rate_limiter)->Shutdown();
  log->info("stopped");
  return 0;
}
