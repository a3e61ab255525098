// memory: what each unit of state costs the server, in stages on one server (RSS read from /proc
// after the server's housekeeping has returned free pages; queue depth from its /metrics):
//   1. --connections idle connections                      -> bytes_per_connection
//   2. each subscribes to --channels-per-connection public channels of a pool of 1000
//                                                           -> bytes_per_subscription
//   3. each joins one of 100 presence channels as its own user -> bytes_per_presence_member
//   4. --paused sockets stop reading while events of --event-bytes are published to a channel
//      they are on, until their outbound queues hold 500 frames each
//                                                           -> bytes_per_queued_frame (the shared
//      event payloads, counted once, are subtracted)
// Stage 4 stops when the queues are half full (a full one would close its socket with 4100).
// Bounded: at most 4000 events in stage 4, every wait has a deadline.
#include <algorithm>
#include <boost/asio/steady_timer.hpp>

#include "bench/metrics_reader.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"

namespace sockudo::bench {
namespace {

// RSS once the server has had time to give back what the previous stage left free (its
// housekeeper trims every 5 s): the smallest of several samples over ~6 s.
long SettledRssKb(Scenario& s) {
  long best = SampleProcesses(s.options().server_pids).rss_kb;
  for (int i = 0; i < 12; ++i) {
    s.RunUntil([] { return false; }, std::chrono::milliseconds(500));
    best = std::min(best, SampleProcesses(s.options().server_pids).rss_kb);
  }
  return best;
}

}  // namespace

int RunMemory(Scenario& s) {
  const Options& o = s.options();
  base::Json& r = s.report();
  r["scenario"] = "memory";
  r["label"] = o.label;
  const long base_kb = SettledRssKb(s);
  r["server_rss_baseline_kb"] = base_kb;

  // 1. Idle connections.
  size_t answers = 0;
  auto on_message = [&](WsClient&, std::string_view text) {
    if (text.find("pusher_internal:subscription_succeeded") != std::string_view::npos) ++answers;
  };
  auto clients = s.ConnectMany(o.connections, on_message, std::chrono::seconds(120));
  const size_t n = clients.size();
  r["connections"] = n;
  if (n == 0) return 1;
  const long idle_kb = SettledRssKb(s);
  r["bytes_per_connection"] = (idle_kb - base_kb) * 1024.0 / n;

  // 2. Subscriptions.
  const int per = o.channels_per_connection;
  for (auto& c : clients) {
    for (int k = 0; k < per; ++k) {
      c->Send(s.SubscribeFrame(*c, "mem-" + std::to_string((c->index * per + k) % 1000), ""));
    }
  }
  const size_t want_subs = n * per;
  s.RunUntil([&] { return answers >= want_subs; }, std::chrono::seconds(120));
  const long subs_kb = SettledRssKb(s);
  r["subscriptions"] = answers;
  r["bytes_per_subscription"] = answers ? (subs_kb - idle_kb) * 1024.0 / answers : 0.0;

  // 3. Presence members (one user per connection, 100 channels).
  answers = 0;
  for (auto& c : clients) {
    c->Send(s.SubscribeFrame(*c, "presence-mem-" + std::to_string(c->index % 100),
                             "user-" + std::to_string(c->index)));
  }
  s.RunUntil([&] { return answers >= n; }, std::chrono::seconds(120));
  const long presence_kb = SettledRssKb(s);
  r["presence_members"] = answers;
  r["bytes_per_presence_member"] = answers ? (presence_kb - subs_kb) * 1024.0 / answers : 0.0;

  // 4. Queued outbound frames: paused sockets on one channel, big events until their queues
  // stop growing (the kernel's socket buffers take the first ones).
  const size_t paused = std::min<size_t>(n, static_cast<size_t>(o.paused));
  answers = 0;
  for (size_t i = 0; i < paused; ++i)
    clients[i]->Send(s.SubscribeFrame(*clients[i], "mem-queue", ""));
  s.RunUntil([&] { return answers >= paused; }, std::chrono::seconds(60));
  for (size_t i = 0; i < paused; ++i) clients[i]->Pause();
  Endpoint metrics{o.ws.host, o.metrics_port};
  auto publishers = s.ConnectPublishers(1);
  if (publishers.empty() || o.metrics_port == 0) return 1;
  const std::string payload(static_cast<size_t>(o.event_bytes), 'x');
  const std::string body =
      base::Dump({{"name", "fill"}, {"channel", "mem-queue"}, {"data", payload}});
  // Stop at half the default bound (1000 per socket): a full queue closes its socket (4100).
  const double target = paused * 500.0;
  double queued = 0;
  int events = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (events < 4000 && queued < target && Clock::now() < deadline) {
    bool done = false;
    publishers[0]->Publish(body, [&](int) { done = true; });
    s.RunUntil([&] { return done; }, std::chrono::seconds(10));
    ++events;
    if (events % 10 == 0) queued = ReadMetric(metrics, "outbound_queued_messages").value_or(0);
  }
  queued = ReadMetric(metrics, "outbound_queued_messages").value_or(0);
  const double queued_bytes = ReadMetric(metrics, "outbound_queued_bytes").value_or(0);
  const long queue_kb = SettledRssKb(s);
  // The deepest queue holds the latest events; every payload is stored once, shared by all.
  const double distinct_payload = queued_bytes / std::max<size_t>(paused, 1);
  r["events_published"] = events;
  r["queued_frames"] = queued;
  r["queued_payload_bytes"] = queued_bytes;
  r["bytes_per_queued_frame"] =
      queued > 0 ? ((queue_kb - presence_kb) * 1024.0 - distinct_payload) / queued : 0.0;
  r["server_rss_kb"] = queue_kb;
  for (auto& c : clients) c->Close();
  return 0;
}

}  // namespace sockudo::bench
