// File: scenario.h
// What every scenario of sockudo-bench shares: the options, the io_context (one thread), helpers
// to open many connections with bounded parallelism and to run the loop until a condition or a
// deadline, and the report (one JSON line plus a readable table).
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/http_publisher.h"
#include "bench/ws_client.h"
#include "common/base/json.h"

namespace sockudo::bench {

struct Options {
  std::string scenario;
  std::string label = "server";
  Endpoint ws;    // where subscribers connect
  Endpoint http;  // where publishers send (another node, once nodes share an adapter)
  AppCredentials app;
  std::vector<pid_t> server_pids;
  std::vector<pid_t> extra_pids;   // more server processes (another node of a cluster)
  std::vector<pid_t> broker_pids;  // the cluster's broker: its CPU is reported apart
  int connections = 1000;
  double rate = 100;      // events/s (fanout); ops/s cap (presence churn, 0 = as fast as possible)
  double duration = 10;   // seconds of load
  int concurrency = 8;    // HTTP publisher connections
  bool presence = false;  // fanout on a presence channel
  int connect_parallelism = 256;
  int metrics_port = 0;             // the server's /metrics (memory)
  int channels_per_connection = 5;  // memory
  int paused = 200;                 // memory: sockets that stop reading
  int event_bytes = 16384;          // memory: payload of the events that fill their queues
};

using Clock = std::chrono::steady_clock;

class Scenario {
 public:
  explicit Scenario(Options options) : options_(std::move(options)) {}

  const Options& options() const { return options_; }
  boost::asio::io_context& io() { return io_; }
  base::Json& report() { return report_; }

  // Runs the loop until `done()` or `timeout`; false on timeout.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);

  // Opens `n` connections (at most connect_parallelism at once); returns those that opened.
  std::vector<std::shared_ptr<WsClient>> ConnectMany(int n, WsClient::OnMessage on_message,
                                                     std::chrono::milliseconds timeout);

  // Opens `n` keep-alive HTTP publisher connections to the API endpoint.
  std::vector<std::shared_ptr<HttpPublisher>> ConnectPublishers(int n);

  // The pusher:subscribe frame for `channel`, signed when it is private or presence.
  std::string SubscribeFrame(const WsClient& client, const std::string& channel,
                             const std::string& user_id) const;

  // Prints the JSON line and the table.
  void Print() const;

 private:
  Options options_;
  boost::asio::io_context io_{1};
  base::Json report_ = base::Json::object();
};

// Server, broker and load-generator CPU over a measured window. The server processes are
// --server-pid and --extra-pid together; the broker's (--broker-pid) are counted apart.
class CpuWindow {
 public:
  explicit CpuWindow(const Options& options);
  void Stop();
  // server_cpu_s, server_cpu_us_per_<unit> (over `units`), server_rss_kb, bench_cpu_s and
  // bench_cpu_share (over `seconds`); with --extra-pid also extra_cpu_s and
  // extra_cpu_us_per_<unit> (those processes alone), with --broker-pid broker_cpu_s,
  // broker_cpu_us_per_<unit> and broker_rss_kb.
  void Report(base::Json& r, const std::string& unit, double units, double seconds) const;

 private:
  std::vector<pid_t> server_pids_, extra_pids_, broker_pids_;
  double server_start_, extra_start_, broker_start_, bench_start_;
  double server_cpu_ = 0, extra_cpu_ = 0, broker_cpu_ = 0, bench_cpu_ = 0;
  long rss_kb_ = 0, broker_rss_kb_ = 0;
};

int RunIdle(Scenario& s);
int RunFanout(Scenario& s);
int RunPublish(Scenario& s);
int RunPresenceChurn(Scenario& s);
int RunMemory(Scenario& s);
int RunProbe(Scenario& s);

inline int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace sockudo::bench
