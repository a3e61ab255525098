// publish: signed HTTP publishes over C keep-alive connections, as fast as each answers, for T s.
// Requests/s and latency percentiles.
#include "bench/latency_recorder.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"

namespace sockudo::bench {

int RunPublish(Scenario& s) {
  const Options& o = s.options();
  auto publishers = s.ConnectPublishers(o.concurrency);

  LatencyRecorder latency;
  size_t ok = 0, failed = 0, in_flight = 0;
  bool stopping = false;
  const std::string body = base::Dump(
      {{"name", "bench"}, {"channel", "bench-publish"}, {"data", "{\"hello\":\"world\"}"}});
  CpuWindow cpu(o);
  const auto start = Clock::now();
  std::function<void(std::shared_ptr<HttpPublisher>)> loop = [&](std::shared_ptr<HttpPublisher> p) {
    if (stopping) return;
    ++in_flight;
    const int64_t t0 = NowMicros();
    p->Publish(body, [&, p, t0](int status) {
      --in_flight;
      latency.Add(NowMicros() - t0);
      (status == 200 ? ok : failed) += 1;
      if (failed > 1000) return;  // the server is refusing: stop this connection's loop
      loop(p);
    });
  };
  for (auto& p : publishers) loop(p);
  s.RunUntil([] { return false; },
             std::chrono::milliseconds(static_cast<int64_t>(o.duration * 1000)));
  stopping = true;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  cpu.Stop();
  s.RunUntil([&] { return in_flight == 0; }, std::chrono::seconds(10));

  base::Json& r = s.report();
  r["scenario"] = "publish";
  r["label"] = o.label;
  r["concurrency"] = o.concurrency;
  r["duration_s"] = seconds;
  r["requests_ok"] = ok;
  r["requests_failed"] = failed;
  r["requests_per_s"] = ok / seconds;
  r["p50_ms"] = latency.PercentileMs(50);
  r["p99_ms"] = latency.PercentileMs(99);
  cpu.Report(r, "request", static_cast<double>(ok), seconds);
  return failed == 0 ? 0 : 1;
}

}  // namespace sockudo::bench
