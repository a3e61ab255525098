// webhooks: R occupancy cycles per second for T s over N sockets: a socket subscribes to a
// fresh channel and leaves it at once, so the node sends channel_occupied and channel_vacated
// webhooks (the app's webhook points at this process's receiver, --webhook-port). Webhooks/s
// received, delivery latency (subscribe sent -> channel_occupied received) p50/p99, lost webhooks,
// server CPU per webhook. The queue driver is the server's (memory or redis).
#include <charconv>
#include <cstdint>
#include <vector>

#include "bench/latency_recorder.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"
#include "bench/webhook_receiver.h"

namespace sockudo::bench {

int RunWebhooks(Scenario& s, int webhook_port) {
  const Options& o = s.options();
  LatencyRecorder latency;
  std::vector<int64_t> sent_at;  // by cycle
  size_t occupied = 0, vacated = 0, other = 0;
  WebhookReceiver receiver(s.io(), webhook_port,
                           [&](const std::string& name, const std::string& channel, int64_t at) {
                             size_t seq = SIZE_MAX;
                             if (channel.size() > 3) {
                               std::from_chars(channel.data() + 3, channel.data() + channel.size(),
                                               seq);
                             }
                             if (name == "channel_occupied") {
                               ++occupied;
                               if (seq < sent_at.size()) latency.Add(at - sent_at[seq]);
                             } else if (name == "channel_vacated") {
                               ++vacated;
                             } else {
                               ++other;
                             }
                           });
  auto clients = s.ConnectMany(o.connections, [](WsClient&, std::string_view) {},
                               std::chrono::seconds(60));
  if (clients.empty()) return 1;

  CpuWindow cpu(o);
  const auto start = Clock::now();
  const auto interval = std::chrono::duration<double>(1.0 / o.rate);
  const size_t total = static_cast<size_t>(o.rate * o.duration);
  sent_at.reserve(total);
  boost::asio::steady_timer tick(s.io());
  std::function<void()> next = [&] {
    if (sent_at.size() >= total) return;
    const size_t seq = sent_at.size();
    WsClient& c = *clients[seq % clients.size()];
    const std::string channel = "wh-" + std::to_string(seq);
    sent_at.push_back(NowMicros());
    c.Send(s.SubscribeFrame(c, channel, ""));
    c.Send(R"({"event":"pusher:unsubscribe","data":{"channel":")" + channel + R"("}})");
    tick.expires_at(start + std::chrono::duration_cast<Clock::duration>(interval * (seq + 1)));
    tick.async_wait([&](boost::system::error_code ec) {
      if (!ec) next();
    });
  };
  next();
  const auto bound = std::chrono::milliseconds(static_cast<int64_t>(o.duration * 1000) + 30000);
  s.RunUntil([&] { return occupied >= total && vacated >= total; }, bound);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  cpu.Stop();

  base::Json& r = s.report();
  r["scenario"] = "webhooks";
  r["label"] = o.label;
  r["connections"] = clients.size();
  r["cycles"] = total;
  r["duration_s"] = seconds;
  r["webhooks_received"] = occupied + vacated + other;
  r["webhook_requests"] = receiver.requests();
  r["webhooks_per_s"] = static_cast<double>(occupied + vacated) / seconds;
  r["lost"] = static_cast<int64_t>(2 * total) - static_cast<int64_t>(occupied + vacated);
  r["p50_ms"] = latency.PercentileMs(50);
  r["p99_ms"] = latency.PercentileMs(99);
  r["max_ms"] = latency.PercentileMs(100);
  cpu.Report(r, "webhook", static_cast<double>(occupied + vacated), seconds);
  return occupied >= total && vacated >= total ? 0 : 1;
}

}  // namespace sockudo::bench
