#include "bench/scenario.h"

#include <cstdio>
#include <iostream>

#include "common/crypto/pusher_signature.h"

namespace sockudo::bench {

bool Scenario::RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    io_.restart();
    io_.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::vector<std::shared_ptr<WsClient>> Scenario::ConnectMany(int n, WsClient::OnMessage on_message,
                                                             std::chrono::milliseconds timeout) {
  std::vector<std::shared_ptr<WsClient>> all;
  all.reserve(n);
  int started = 0, finished = 0, in_flight = 0;
  std::function<void()> pump = [&] {
    while (in_flight < options_.connect_parallelism && started < n) {
      auto client = std::make_shared<WsClient>(io_, options_.ws, options_.app.key, on_message);
      client->index = started++;
      ++in_flight;
      all.push_back(client);
      client->Connect([&](bool) {
        --in_flight;
        ++finished;
        pump();
      });
    }
  };
  pump();
  RunUntil([&] { return finished == n; }, timeout);
  std::vector<std::shared_ptr<WsClient>> open;
  for (auto& c : all) {
    if (c->open()) open.push_back(c);
  }
  return open;
}

std::string Scenario::SubscribeFrame(const WsClient& client, const std::string& channel,
                                     const std::string& user_id) const {
  base::Json data = {{"channel", channel}};
  if (channel.rfind("presence-", 0) == 0) {
    const std::string channel_data =
        base::Dump({{"user_id", user_id}, {"user_info", {{"name", user_id}}}});
    data["channel_data"] = channel_data;
    data["auth"] = crypto::ClientAuth(options_.app.key, options_.app.secret,
                                      client.socket_id() + ":" + channel + ":" + channel_data);
  } else if (channel.rfind("private-", 0) == 0) {
    data["auth"] = crypto::ClientAuth(options_.app.key, options_.app.secret,
                                      client.socket_id() + ":" + channel);
  }
  return base::Dump({{"event", "pusher:subscribe"}, {"data", data}});
}

void Scenario::Print() const {
  std::cout << base::Dump(report_) << "\n";
  std::cerr << "\n";
  for (const auto& [key, value] : report_.items()) {
    std::string v =
        value.is_number_float() ? std::to_string(value.get<double>()) : base::Dump(value);
    std::fprintf(stderr, "  %-28s %s\n", key.c_str(), v.c_str());
  }
}

}  // namespace sockudo::bench
