// idle: N connections that only stay open. Connect rate, server RSS before and after, bytes per
// connection.
#include "bench/proc_stats.h"
#include "bench/scenario.h"

namespace sockudo::bench {

int RunIdle(Scenario& s) {
  const Options& o = s.options();
  const ProcSample before = SampleProcesses(o.server_pids);
  const auto start = Clock::now();
  auto clients = s.ConnectMany(
      o.connections, [](WsClient&, std::string_view) {}, std::chrono::seconds(120));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Let the server finish the work of the last handshakes before reading its memory.
  s.RunUntil([] { return false; }, std::chrono::milliseconds(500));
  const ProcSample after = SampleProcesses(o.server_pids);
  const size_t open = clients.size();
  base::Json& r = s.report();
  r["scenario"] = "idle";
  r["label"] = o.label;
  r["connections_requested"] = o.connections;
  r["connections_open"] = open;
  r["connect_seconds"] = seconds;
  r["connects_per_s"] = open / seconds;
  r["server_rss_before_kb"] = before.rss_kb;
  r["server_rss_after_kb"] = after.rss_kb;
  r["bytes_per_connection"] = open ? (after.rss_kb - before.rss_kb) * 1024.0 / open : 0.0;
  r["bench_cpu_s"] = SelfCpuSeconds();
  for (auto& c : clients) c->Close();
  s.RunUntil([] { return false; }, std::chrono::milliseconds(200));
  return open == static_cast<size_t>(o.connections) ? 0 : 1;
}

}  // namespace sockudo::bench
