#include "bench/scenario.h"

#include <cstdio>
#include <iostream>

#include "bench/proc_stats.h"
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

std::vector<std::shared_ptr<HttpPublisher>> Scenario::ConnectPublishers(int n) {
  std::vector<std::shared_ptr<HttpPublisher>> publishers;
  int connected = 0;
  for (int i = 0; i < n; ++i) {
    auto p = std::make_shared<HttpPublisher>(io_, options_.http, options_.app);
    p->Connect([&](bool ok) { connected += ok; });
    publishers.push_back(p);
  }
  RunUntil([&] { return connected == n; }, std::chrono::seconds(10));
  return publishers;
}

namespace {

std::vector<pid_t> Concat(std::vector<pid_t> a, const std::vector<pid_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

CpuWindow::CpuWindow(const Options& options)
    : server_pids_(Concat(options.server_pids, options.extra_pids)),
      extra_pids_(options.extra_pids),
      broker_pids_(options.broker_pids),
      server_start_(SampleProcesses(server_pids_).cpu_seconds),
      extra_start_(SampleProcesses(extra_pids_).cpu_seconds),
      broker_start_(SampleProcesses(broker_pids_).cpu_seconds),
      bench_start_(SelfCpuSeconds()) {}

void CpuWindow::Stop() {
  const ProcSample end = SampleProcesses(server_pids_);
  server_cpu_ = end.cpu_seconds - server_start_;
  rss_kb_ = end.rss_kb;
  extra_cpu_ = SampleProcesses(extra_pids_).cpu_seconds - extra_start_;
  const ProcSample broker = SampleProcesses(broker_pids_);
  broker_cpu_ = broker.cpu_seconds - broker_start_;
  broker_rss_kb_ = broker.rss_kb;
  bench_cpu_ = SelfCpuSeconds() - bench_start_;
}

void CpuWindow::Report(base::Json& r, const std::string& unit, double units, double seconds) const {
  auto per_unit = [&](double cpu) { return units > 0 ? cpu * 1e6 / units : 0.0; };
  r["server_cpu_s"] = server_cpu_;
  r["server_cpu_us_per_" + unit] = per_unit(server_cpu_);
  r["server_rss_kb"] = rss_kb_;
  if (!extra_pids_.empty()) {
    r["extra_cpu_s"] = extra_cpu_;
    r["extra_cpu_us_per_" + unit] = per_unit(extra_cpu_);
  }
  if (!broker_pids_.empty()) {
    r["broker_cpu_s"] = broker_cpu_;
    r["broker_cpu_us_per_" + unit] = per_unit(broker_cpu_);
    r["broker_rss_kb"] = broker_rss_kb_;
  }
  r["bench_cpu_s"] = bench_cpu_;
  r["bench_cpu_share"] = seconds > 0 ? bench_cpu_ / seconds : 0.0;
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
