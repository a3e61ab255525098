// fanout: N subscribers on one channel (public, or presence with --presence), R events/s for T s
// published through the signed HTTP API with the send time in the payload. Delivered msgs/s,
// latency percentiles, lost messages (accepted events x subscribers - received), server CPU per
// delivered message. Cross-node: subscribers on node B (--port, --server-pid), publishes to node A
// (--publish-port, --extra-pid), the broker's CPU apart (--broker-pid).
#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>
#include <vector>

#include "bench/latency_recorder.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"

namespace sockudo::bench {

int RunFanout(Scenario& s) {
  const Options& o = s.options();
  const std::string channel = o.presence ? "presence-bench" : "bench";
  LatencyRecorder latency;
  size_t subscribed = 0;
  size_t received = 0;
  size_t member_added = 0;
  // Per event: when its first and its last copy arrived (micros after it was sent). The first
  // copy's latency is the path publish -> server(s) -> one socket; last - first is the time the
  // fan-out to every subscriber took (server writes and this process's reads together).
  struct Arrivals {
    int64_t first = INT64_MAX, last = 0;
  };
  std::vector<Arrivals> arrivals;

  auto on_message = [&](WsClient&, std::string_view text) {
    if (text.find("\"event\":\"bench\"") != std::string_view::npos) {
      // data is the string {"t":<micros>,"s":<seq>}, escaped inside the frame.
      const size_t pos = text.find("t\\\":");
      if (pos == std::string_view::npos) return;
      int64_t sent = 0;
      std::from_chars(text.data() + pos + 4, text.data() + text.size(), sent);
      const int64_t micros = NowMicros() - sent;
      latency.Add(micros);
      ++received;
      const size_t seq_pos = text.find("s\\\":", pos);
      size_t seq = SIZE_MAX;
      if (seq_pos != std::string_view::npos)
        std::from_chars(text.data() + seq_pos + 4, text.data() + text.size(), seq);
      if (seq < arrivals.size()) {
        arrivals[seq].first = std::min(arrivals[seq].first, micros);
        arrivals[seq].last = std::max(arrivals[seq].last, micros);
      }
    } else if (text.find("pusher_internal:subscription_succeeded") != std::string_view::npos) {
      ++subscribed;
    } else if (text.find("pusher_internal:member_added") != std::string_view::npos) {
      ++member_added;
    }
  };
  auto clients = s.ConnectMany(o.connections, on_message, std::chrono::seconds(120));
  for (auto& c : clients)
    c->Send(s.SubscribeFrame(*c, channel, "user-" + std::to_string(c->index)));
  s.RunUntil([&] { return subscribed == clients.size(); }, std::chrono::seconds(60));
  if (o.presence) {
    // Every earlier member hears of every later one: wait for the N(N-1)/2 member_added frames of
    // the join phase to arrive so that they do not queue in front of the measured events.
    const size_t n = clients.size();
    s.RunUntil([&] { return member_added >= n * (n - 1) / 2; }, std::chrono::seconds(60));
  }

  auto publishers = s.ConnectPublishers(o.concurrency);

  const size_t total_events = static_cast<size_t>(o.rate * o.duration);
  arrivals.resize(std::min<size_t>(total_events, 10'000'000));
  size_t sent = 0, accepted = 0, answered = 0;
  CpuWindow cpu(o);
  const auto start = Clock::now();
  size_t max_lag_events = 0;
  // Open loop: event i is due at start + i/R; it goes out on the next idle publisher.
  auto pump = [&] {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const size_t due = std::min(total_events, static_cast<size_t>(elapsed * o.rate) + 1);
    for (auto& p : publishers) {
      if (sent >= due) break;
      if (p->busy()) continue;
      const std::string data =
          "{\"t\":" + std::to_string(NowMicros()) + ",\"s\":" + std::to_string(sent) + "}";
      const std::string body =
          base::Dump({{"name", "bench"}, {"channel", channel}, {"data", data}});
      ++sent;
      p->Publish(body, [&](int status) {
        ++answered;
        accepted += status == 200;
      });
    }
    max_lag_events = std::max(max_lag_events, due - std::min(due, sent));
  };
  boost::asio::steady_timer tick(s.io());
  std::function<void()> schedule = [&] {
    pump();
    if (sent < total_events) {
      tick.expires_after(std::chrono::microseconds(500));
      tick.async_wait([&](boost::system::error_code ec) {
        if (!ec) schedule();
      });
    }
  };
  schedule();
  const auto bound = std::chrono::milliseconds(static_cast<int64_t>(o.duration * 1000) + 60000);
  s.RunUntil([&] { return answered == total_events; }, bound);
  const double publish_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const size_t expected = accepted * clients.size();
  s.RunUntil([&] { return received >= expected; }, std::chrono::seconds(15));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  cpu.Stop();
  tick.cancel();

  base::Json& r = s.report();
  r["scenario"] = o.presence ? "fanout-presence" : "fanout";
  r["label"] = o.label;
  r["subscribers"] = clients.size();
  r["rate"] = o.rate;
  r["duration_s"] = o.duration;
  r["published"] = accepted;
  r["publish_errors"] = answered - accepted;
  r["publish_seconds"] = publish_seconds;
  r["publisher_max_lag_events"] = max_lag_events;
  r["expected"] = expected;
  r["delivered"] = received;
  r["lost"] = expected > received ? expected - received : 0;
  r["duplicates"] = received > expected ? received - expected : 0;
  r["delivered_per_s"] = received / seconds;
  r["p50_ms"] = latency.PercentileMs(50);
  r["p99_ms"] = latency.PercentileMs(99);
  r["max_ms"] = latency.MaxMs();
  LatencyRecorder first, spread;
  for (const Arrivals& a : arrivals) {
    if (a.last == 0 && a.first == INT64_MAX) continue;
    first.Add(a.first);
    spread.Add(a.last - a.first);
  }
  r["first_copy_p50_ms"] = first.PercentileMs(50);
  r["first_copy_p99_ms"] = first.PercentileMs(99);
  r["fanout_spread_p50_ms"] = spread.PercentileMs(50);
  r["fanout_spread_p99_ms"] = spread.PercentileMs(99);
  cpu.Report(r, "msg", static_cast<double>(received), seconds);
  for (auto& c : clients) c->Close();
  return 0;
}

}  // namespace sockudo::bench
