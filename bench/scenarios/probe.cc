// probe: one subscriber on --port and an event published to --http-port (signed HTTP API) every
// 200 ms until one arrives, for at most --duration s. Before a cross-node run it shows that the
// two nodes pass events to each other (a node can accept connections before its bus is up).
#include <algorithm>

#include "bench/scenario.h"

namespace sockudo::bench {

int RunProbe(Scenario& s) {
  const Options& o = s.options();
  const std::string channel = "bench-probe";
  bool subscribed = false, delivered = false;
  auto on_message = [&](WsClient&, std::string_view text) {
    if (text.find("\"event\":\"bench-probe\"") != std::string_view::npos)
      delivered = true;
    else if (text.find("pusher_internal:subscription_succeeded") != std::string_view::npos)
      subscribed = true;
  };
  const auto bound =
      std::chrono::milliseconds(static_cast<int64_t>(std::clamp(o.duration, 1.0, 60.0) * 1000));
  const auto start = Clock::now();
  auto clients = s.ConnectMany(1, on_message, bound);
  if (!clients.empty()) {
    clients[0]->Send(s.SubscribeFrame(*clients[0], channel, "probe"));
    s.RunUntil([&] { return subscribed; }, bound);
  }
  int attempts = 0, accepted = 0;
  std::shared_ptr<HttpPublisher> publisher;
  if (subscribed) {
    publisher = std::make_shared<HttpPublisher>(s.io(), o.http, o.app);
    const std::string body =
        base::Dump({{"name", "bench-probe"}, {"channel", channel}, {"data", "{}"}});
    auto next_attempt = Clock::now();
    // At most one request in flight; a new one every 200 ms until the event arrives.
    s.RunUntil(
        [&] {
          if (delivered) return true;
          if (!publisher->busy() && Clock::now() >= next_attempt) {
            ++attempts;
            next_attempt = Clock::now() + std::chrono::milliseconds(200);
            publisher->Publish(body, [&](int status) { accepted += status == 200; });
          }
          return false;
        },
        bound - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start));
  }
  base::Json& r = s.report();
  r["scenario"] = "probe";
  r["label"] = o.label;
  r["subscribed"] = subscribed;
  r["attempts"] = attempts;
  r["accepted"] = accepted;
  r["delivered"] = delivered;
  r["seconds"] = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& c : clients) c->Close();
  return delivered ? 0 : 1;
}

}  // namespace sockudo::bench
