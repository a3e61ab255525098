// sockudo-node: flags -> LoadConfig -> Server. Flags only choose the file and the mode;
// everything else comes from the file and the environment.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "common/base/allocator.h"
#include "common/base/logging.h"
#include "common/config/command_line.h"
#include "dataplane/server/server.h"

namespace {

constexpr char kUsage[] =
    R"(Usage: sockudo-node [--config FILE] [--check-config] [--help] [--version]

A Pusher Channels (protocol 7) compatible WebSocket server and HTTP API.

  --config FILE    JSON config file (default: $SOCKUDO_CONFIG_FILE, else config/config.json if present)
  --check-config   load and validate the configuration, print it with secrets masked, exit 0 or 2
  --help           this text
  --version        print the version

Every setting can also be given as an environment variable (PORT, HOST, METRICS_PORT, DEBUG,
SOCKUDO_DEFAULT_APP_ID/KEY/SECRET, ...); see the README for the list.
)";

}  // namespace

int main(int argc, char** argv) {
  sockudo::base::TuneAllocator();
  sockudo::config::StartupConfig startup;
  if (auto exit_code =
          sockudo::config::LoadStartupConfig(argc, argv, "sockudo-node", kUsage, &startup)) {
    return *exit_code;
  }
  const sockudo::config::Config& config = startup.config;
  auto log = sockudo::base::Logger("main");
  if (startup.check_only) {
    std::cout << sockudo::config::PrintConfig(config) << "\n";
    return 0;
  }

  // Signals are taken by sigwait on this thread; workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto server = sockudo::dataplane::server::Server::Create(config);
  if (!server.ok()) {
    std::cerr << "sockudo-node: " << server.status().message() << "\n";
    return 2;
  }
  if (auto st = (*server)->Start(); !st.ok()) {
    std::cerr << "sockudo-node: " << st.message() << "\n";
    return 1;
  }
  if (config.unix_socket.enabled) {
    log->info("listening on unix:{} (WebSocket /app/{{key}} and HTTP API)",
              config.unix_socket.path);
  } else {
    log->info("listening on {}://{}:{} (WebSocket /app/{{key}} and HTTP API /apps/{{id}})",
              config.ssl.enabled ? "https" : "http", config.host, (*server)->port());
  }
  if (config.metrics.enabled) {
    log->info("metrics and health on http://{}:{}/metrics", config.metrics.host,
              config.metrics.port);
  }
  for (const auto& app : config.app_manager.apps) {
    log->info("serving app id={} key={}", app.id, app.key);
  }
  std::fflush(stdout);

  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    (*server)->ReloadApps();  // app_manager.driver=file: read the file again
  }
  log->info("signal {} received: shutting down", sig);
  (*server)->Stop();
  log->info("stopped");
  return 0;
}
