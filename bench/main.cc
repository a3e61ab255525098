// sockudo-bench: a Pusher-protocol load generator. One scenario per run; prints one JSON line on
// stdout and a readable table on stderr. Loopback only; every loop is bounded in count and time.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"

namespace {

constexpr char kUsage[] = R"(Usage: sockudo-bench SCENARIO [options]

Scenarios:
  idle            open --connections and keep them; connect rate, server RSS, bytes/connection
  fanout          --connections subscribers on one channel (--presence for a presence channel),
                  --rate events/s for --duration s through the signed HTTP API; msgs/s, latency, loss
  publish         --concurrency keep-alive HTTP connections publishing for --duration s; req/s, latency
  presence-churn  --connections users subscribe/unsubscribe one presence channel for --duration s
                  (--rate caps ops/s, 0 = as fast as answered); ops/s, member events/s, latency
  memory          server bytes per idle connection, per subscription (--channels-per-connection),
                  per presence member and per queued outbound frame (--paused sockets stop
                  reading while --event-bytes events fill their queues; needs --metrics-port)
  controlplane-reads
                  GetApp of --app-id against a running control plane in a closed loop: over REST
                  (--rest, --concurrency keep-alive HTTP/1.1 connections, GET /v1/apps/{id}) for
                  --duration s, then over gRPC (--grpc, --concurrency calls in flight on one
                  channel) for --duration s (at most 60 s and 2M calls each); calls/s, p50/p99,
                  errors and the control plane's CPU per call (--server-pid) per transport
  webhooks        --rate occupancy cycles/s for --duration s over --connections sockets (subscribe a
                  fresh channel, leave it): channel_occupied + channel_vacated webhooks to the
                  receiver this process runs on 127.0.0.1:--webhook-port (the app's webhook URL);
                  webhooks/s, delivery latency p50/p99 (subscribe -> occupied webhook), lost
  probe           one subscriber on --port, an event published to --http-port every 200 ms until
                  it arrives (at most --duration s, default 10); exit 0 once it did. Checks that
                  two nodes of a cluster pass events to each other before a cross-node run

Options:
  --host H --port P            WebSocket endpoint (default 127.0.0.1:6001)
  --http-host H --http-port P  HTTP API endpoint for publishers (default: the WebSocket one);
                               --publish-host / --publish-port are the same options. Cross-node
                               fanout: subscribers on node B (--port), publishes to node A
  --app-id ID --key K --secret S  (default app-id / app-key / app-secret)
  --server-pid PID[,PID...]    processes whose CPU and RSS are measured
  --extra-pid PID[,PID...]     more server processes (e.g. the node published to); counted in
                               server_cpu_* and also reported alone as extra_cpu_* (repeatable)
  --broker-pid PID[,PID...]    the cluster's broker (redis-server, nats-server); reported apart
                               as broker_cpu_* and broker_rss_kb, not in server_cpu_* (repeatable)
  --label NAME                 name in the report
  --rest HOST:PORT --grpc HOST:PORT --token T   the control plane (controlplane-reads; defaults
                               127.0.0.1:8080, 127.0.0.1:50051, no token)
  --connections N --rate R --duration S --concurrency C --presence --connect-parallelism N
  --metrics-port P --channels-per-connection K --paused N --event-bytes B   (memory)
  --webhook-port P             the webhook receiver's port (webhooks)
)";

bool Loopback(const std::string& host) { return host.rfind("127.", 0) == 0 || host == "::1"; }

// HOST:PORT (the port after the last ':'); false when malformed.
bool ParseHostPort(const std::string& text, sockudo::bench::Endpoint* out) {
  const size_t colon = text.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(text.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return false;
  }
  out->host = text.substr(0, colon);
  out->port = port;
  return true;
}

}  // namespace

namespace sockudo::bench {
// bench/scenarios/controlplane_reads.cc (its own arguments, so Options stays as it is).
int RunControlplaneReads(Scenario& s, const Endpoint& rest, const Endpoint& grpc_endpoint,
                         const std::string& token);
// bench/scenarios/webhooks.cc: the port of its webhook receiver.
int RunWebhooks(Scenario& s, int webhook_port);
}  // namespace sockudo::bench

int main(int argc, char** argv) {
  using sockudo::bench::Options;
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  Options o;
  o.scenario = argv[1];
  bool http_set = false;
  sockudo::bench::Endpoint cp_rest{"127.0.0.1", 8080}, cp_grpc{"127.0.0.1", 50051};
  std::string cp_token;
  int webhook_port = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "sockudo-bench: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    auto number = [&](double& out) {
      const std::string v = value();
      if (!absl::SimpleAtod(v, &out) || out < 0) {
        std::cerr << "sockudo-bench: " << arg << ": not a number: " << v << "\n";
        std::exit(2);
      }
    };
    double d = 0;
    if (arg == "--host") {
      o.ws.host = value();
    } else if (arg == "--port") {
      number(d);
      o.ws.port = static_cast<int>(d);
    } else if (arg == "--http-host" || arg == "--publish-host") {
      o.http.host = value();
      http_set = true;
    } else if (arg == "--http-port" || arg == "--publish-port") {
      number(d);
      o.http.port = static_cast<int>(d);
      http_set = true;
    } else if (arg == "--rest" || arg == "--grpc") {
      const std::string v = value();
      if (!ParseHostPort(v, arg == "--rest" ? &cp_rest : &cp_grpc)) {
        std::cerr << "sockudo-bench: " << arg << ": expected HOST:PORT, got " << v << "\n";
        return 2;
      }
    } else if (arg == "--token") {
      cp_token = value();
    } else if (arg == "--app-id") {
      o.app.id = value();
    } else if (arg == "--key") {
      o.app.key = value();
    } else if (arg == "--secret") {
      o.app.secret = value();
    } else if (arg == "--label") {
      o.label = value();
    } else if (arg == "--server-pid" || arg == "--extra-pid" || arg == "--broker-pid") {
      std::vector<pid_t>& pids = arg == "--server-pid"  ? o.server_pids
                                 : arg == "--extra-pid" ? o.extra_pids
                                                        : o.broker_pids;
      for (absl::string_view p : absl::StrSplit(value(), ',', absl::SkipEmpty())) {
        int pid = 0;
        if (!absl::SimpleAtoi(p, &pid) || pid <= 0) {
          std::cerr << "sockudo-bench: " << arg << ": not a pid: " << p << "\n";
          return 2;
        }
        pids.push_back(pid);
      }
    } else if (arg == "--connections") {
      number(d);
      o.connections = static_cast<int>(d);
    } else if (arg == "--rate") {
      number(o.rate);
    } else if (arg == "--duration") {
      number(o.duration);
    } else if (arg == "--concurrency") {
      number(d);
      o.concurrency = std::max(1, static_cast<int>(d));
    } else if (arg == "--connect-parallelism") {
      number(d);
      o.connect_parallelism = std::max(1, static_cast<int>(d));
    } else if (arg == "--presence") {
      o.presence = true;
    } else if (arg == "--metrics-port") {
      number(d);
      o.metrics_port = static_cast<int>(d);
    } else if (arg == "--channels-per-connection") {
      number(d);
      o.channels_per_connection = std::clamp(static_cast<int>(d), 1, 100);
    } else if (arg == "--paused") {
      number(d);
      o.paused = std::clamp(static_cast<int>(d), 1, 5000);
    } else if (arg == "--webhook-port") {
      number(d);
      webhook_port = std::clamp(static_cast<int>(d), 0, 65535);
    } else if (arg == "--event-bytes") {
      number(d);
      o.event_bytes = std::clamp(static_cast<int>(d), 16, 100 * 1024);
    } else {
      std::cerr << "sockudo-bench: unknown option " << arg << "\n" << kUsage;
      return 2;
    }
  }
  if (!http_set) o.http = o.ws;
  if (!Loopback(o.ws.host) || !Loopback(o.http.host) || !Loopback(cp_rest.host) ||
      !Loopback(cp_grpc.host)) {
    std::cerr << "sockudo-bench: only loopback targets are allowed\n";
    return 2;
  }
  if (o.duration > 600 || o.connections > 60000 || o.rate > 1e6) {
    std::cerr << "sockudo-bench: bounds exceeded (duration <= 600 s, connections <= 60000, rate <= "
                 "1e6)\n";
    return 2;
  }
  const long limit = sockudo::bench::RaiseFileLimit();
  if (o.connections + 64 > limit) {
    std::cerr << "sockudo-bench: open-file limit " << limit << " is below " << o.connections + 64
              << "\n";
    return 2;
  }
  sockudo::bench::Scenario scenario(o);
  int rc;
  if (o.scenario == "idle")
    rc = sockudo::bench::RunIdle(scenario);
  else if (o.scenario == "fanout")
    rc = sockudo::bench::RunFanout(scenario);
  else if (o.scenario == "publish")
    rc = sockudo::bench::RunPublish(scenario);
  else if (o.scenario == "presence-churn")
    rc = sockudo::bench::RunPresenceChurn(scenario);
  else if (o.scenario == "memory")
    rc = sockudo::bench::RunMemory(scenario);
  else if (o.scenario == "probe")
    rc = sockudo::bench::RunProbe(scenario);
  else if (o.scenario == "webhooks")
    rc = sockudo::bench::RunWebhooks(scenario, webhook_port);
  else if (o.scenario == "controlplane-reads")
    rc = sockudo::bench::RunControlplaneReads(scenario, cp_rest, cp_grpc, cp_token);
  else {
    std::cerr << "sockudo-bench: unknown scenario " << o.scenario << "\n" << kUsage;
    return 2;
  }
  scenario.Print();
  return rc;
}
