// presence churn: K connections, each a distinct user, subscribe to one presence channel, wait
// for success, unsubscribe and subscribe again, for T s (optionally capped at R ops/s). One
// observer counts the member_added / member_removed events it receives.
#include "bench/latency_recorder.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"

namespace sockudo::bench {

int RunPresenceChurn(Scenario& s) {
  const Options& o = s.options();
  const std::string channel = "presence-churn";
  LatencyRecorder latency;
  size_t subscribes = 0, errors = 0, member_events = 0;
  bool running = false;
  bool observer_ready = false;
  std::vector<int64_t> started_at(o.connections + 1, 0);
  Clock::time_point start;
  std::function<void(WsClient&)> churn;

  auto on_message = [&](WsClient& c, std::string_view text) {
    if (c.index == o.connections) {  // the observer
      if (text.find("pusher_internal:member_") != std::string_view::npos) ++member_events;
      if (text.find("pusher_internal:subscription_succeeded") != std::string_view::npos)
        observer_ready = true;
      return;
    }
    if (text.find("pusher_internal:subscription_succeeded") != std::string_view::npos) {
      if (!running) return;
      latency.Add(NowMicros() - started_at[c.index]);
      ++subscribes;
      c.Send("{\"event\":\"pusher:unsubscribe\",\"data\":{\"channel\":\"" + channel + "\"}}");
      churn(c);
    } else if (text.find("pusher:subscription_error") != std::string_view::npos) {
      ++errors;
    }
  };
  auto clients = s.ConnectMany(o.connections + 1, on_message, std::chrono::seconds(60));
  std::shared_ptr<WsClient> observer;
  for (auto& c : clients) {
    if (c->index == o.connections) observer = c;
  }
  if (!observer || clients.size() != static_cast<size_t>(o.connections + 1)) return 1;
  observer->Send(s.SubscribeFrame(*observer, channel, "observer"));
  if (!s.RunUntil([&] { return observer_ready; }, std::chrono::seconds(10))) return 1;

  const auto stop_at_ms = static_cast<int64_t>(o.duration * 1000);
  churn = [&](WsClient& c) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed * 1000 >= stop_at_ms) return;
    if (o.rate > 0 && subscribes >= elapsed * o.rate) {
      // Over the cap: try again shortly.
      auto timer =
          std::make_shared<boost::asio::steady_timer>(s.io(), std::chrono::milliseconds(1));
      timer->async_wait(
          [&, timer, client = c.shared_from_this()](boost::system::error_code) { churn(*client); });
      return;
    }
    started_at[c.index] = NowMicros();
    c.Send(s.SubscribeFrame(c, channel, "user-" + std::to_string(c.index)));
  };
  CpuWindow cpu(o);
  start = Clock::now();
  running = true;
  for (auto& c : clients) {
    if (c != observer) churn(*c);
  }
  s.RunUntil([] { return false; }, std::chrono::milliseconds(stop_at_ms));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  cpu.Stop();
  running = false;
  s.RunUntil([] { return false; }, std::chrono::milliseconds(200));

  base::Json& r = s.report();
  r["scenario"] = "presence-churn";
  r["label"] = o.label;
  r["connections"] = o.connections;
  r["duration_s"] = seconds;
  r["subscribes"] = subscribes;
  r["subscribe_errors"] = errors;
  r["subscribes_per_s"] = subscribes / seconds;
  r["member_events"] = member_events;
  r["member_events_per_s"] = member_events / seconds;
  r["p50_ms"] = latency.PercentileMs(50);
  r["p99_ms"] = latency.PercentileMs(99);
  cpu.Report(r, "op", static_cast<double>(subscribes), seconds);
  for (auto& c : clients) c->Close();
  return errors == 0 ? 0 : 1;
}

}  // namespace sockudo::bench
