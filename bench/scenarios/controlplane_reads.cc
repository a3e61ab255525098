// controlplane-reads: GetApp against a running control plane in a closed loop, first over REST
// (--concurrency keep-alive HTTP/1.1 connections, GET /v1/apps/{id} with the bearer header), then
// over gRPC (--concurrency calls in flight on one channel, the generated Apps stub's callback
// API), each for --duration s (at most 60 s and kMaxCallsPerTransport calls). Per transport:
// calls/s, p50/p99 latency, errors (a non-200 answer, a non-OK status, a transport error or a
// timeout, or an answer without the app's id) and the control plane's CPU per call (--server-pid).
//
// REST runs on the Scenario's io_context thread. gRPC completions run on gRPC's callback threads,
// which start the next call themselves (no hop to another thread per call); the counters are
// shared under Tally::mu.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bench/latency_recorder.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"
#include "sockudo/controlplane/v1/apps.grpc.pb.h"

namespace sockudo::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace v1 = sockudo::controlplane::v1;

constexpr double kMaxDurationS = 60;
constexpr size_t kMaxCallsPerTransport = 2'000'000;
constexpr int kMaxConcurrency = 256;
constexpr size_t kMaxErrorsPerTransport = 1000;  // past this the server is refusing: stop
constexpr auto kCallTimeout = std::chrono::seconds(5);
constexpr auto kDrainTimeout = std::chrono::seconds(10);

// One keep-alive HTTP/1.1 connection sending the same GET, one request at a time. A transport
// error or a server that closes the connection makes the next call reconnect (counted).
class RestGetter : public std::enable_shared_from_this<RestGetter> {
 public:
  RestGetter(net::io_context& io, Endpoint endpoint, const std::string& target,
             const std::string& token)
      : stream_(io), endpoint_(std::move(endpoint)) {
    request_.method(http::verb::get);
    request_.target(target);
    request_.version(11);
    request_.set(http::field::host, endpoint_.host);
    if (!token.empty()) request_.set(http::field::authorization, "Bearer " + token);
    request_.keep_alive(true);
  }

  // `done(status, body)`: status 0 on a transport error or timeout.
  void Get(std::function<void(int, const std::string&)> done) {
    if (!connected_) {
      ++connects_;
      beast::error_code ignored;
      stream_.socket().close(ignored);
      buffer_.clear();
      stream_.expires_after(kCallTimeout);
      const net::ip::tcp::endpoint ep(net::ip::make_address(endpoint_.host),
                                      static_cast<unsigned short>(endpoint_.port));
      stream_.async_connect(
          ep, [self = shared_from_this(), done = std::move(done)](beast::error_code ec) mutable {
            if (ec) return done(0, ec.message());
            self->stream_.socket().set_option(net::ip::tcp::no_delay(true));
            self->connected_ = true;
            self->Get(std::move(done));
          });
      return;
    }
    stream_.expires_after(kCallTimeout);
    http::async_write(
        stream_, request_,
        [self = shared_from_this(), done = std::move(done)](beast::error_code ec, size_t) mutable {
          if (ec) {
            self->connected_ = false;
            return done(0, ec.message());
          }
          self->response_ = {};
          http::async_read(self->stream_, self->buffer_, self->response_,
                           [self, done = std::move(done)](beast::error_code ec2, size_t) {
                             if (ec2 || !self->response_.keep_alive()) self->connected_ = false;
                             if (ec2) return done(0, ec2.message());
                             done(static_cast<int>(self->response_.result_int()),
                                  self->response_.body());
                           });
        });
  }

  int connects() const { return connects_; }

 private:
  beast::tcp_stream stream_;
  Endpoint endpoint_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
  bool connected_ = false;
  int connects_ = 0;
};

// What one transport's run counts; its report goes under "<transport>_" keys. Every field is
// guarded by `mu` (taken by the gRPC callback threads; uncontended on the REST thread).
struct Tally {
  std::mutex mu;
  LatencyRecorder latency{kMaxCallsPerTransport};
  size_t ok = 0;      // successful calls completed inside the measured window
  size_t errors = 0;  // failed calls, inside the window or while draining
  size_t in_flight = 0;
  size_t started = 0;
  bool stopping = false;  // the window is over: start no more calls
  std::string first_error;

  // Records a finished call (t0 = its start); then true when the loop may start another, which
  // is counted as started.
  bool Finish(int64_t t0, bool success, const std::string& error) {
    std::lock_guard lock(mu);
    --in_flight;
    if (success) {
      latency.Add(NowMicros() - t0);
      if (!stopping) ++ok;
    } else {
      ++errors;
      if (first_error.empty()) first_error = error;
    }
    return StartLocked();
  }
  bool Start() {
    std::lock_guard lock(mu);
    return StartLocked();
  }
  size_t InFlight() {
    std::lock_guard lock(mu);
    return in_flight;
  }

 private:
  bool StartLocked() {
    if (stopping || started >= kMaxCallsPerTransport || errors >= kMaxErrorsPerTransport) {
      return false;
    }
    ++started;
    ++in_flight;
    return true;
  }
};

// Runs the window: `start_all()` launches the loops, which stop when `tally.stopping` is set.
// Writes calls/s, latency, errors and CPU per call under `prefix`.
void Measure(Scenario& s, const std::string& prefix, Tally& tally,
             const std::function<void()>& start_all) {
  const Options& o = s.options();
  CpuWindow cpu(o);
  const auto start = Clock::now();
  start_all();
  // Ends early only when every loop stopped (call or error cap).
  s.RunUntil([&] { return tally.InFlight() == 0; },
             std::chrono::milliseconds(static_cast<int64_t>(o.duration * 1000)));
  {
    std::lock_guard lock(tally.mu);
    tally.stopping = true;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  cpu.Stop();
  const bool drained = s.RunUntil([&] { return tally.InFlight() == 0; }, kDrainTimeout);

  std::lock_guard lock(tally.mu);
  base::Json t = base::Json::object();
  t["duration_s"] = seconds;
  t["calls_ok"] = tally.ok;
  t["errors"] = tally.errors;
  t["calls_per_s"] = seconds > 0 ? tally.ok / seconds : 0.0;
  t["p50_ms"] = tally.latency.PercentileMs(50);
  t["p99_ms"] = tally.latency.PercentileMs(99);
  t["max_ms"] = tally.latency.MaxMs();
  if (!tally.first_error.empty()) t["first_error"] = tally.first_error;
  if (!drained) t["undrained_calls"] = tally.in_flight;
  if (tally.started >= kMaxCallsPerTransport) t["call_cap_reached"] = true;
  cpu.Report(t, "call", static_cast<double>(tally.ok), seconds);
  for (auto& [key, value] : t.items()) s.report()[prefix + key] = value;
}

// REST: one closed loop per connection.
void RunRest(Scenario& s, const Endpoint& rest, const std::string& token) {
  const Options& o = s.options();
  const std::string target = "/v1/apps/" + o.app.id;
  const std::string id_field = "\"" + o.app.id + "\"";
  std::vector<std::shared_ptr<RestGetter>> getters;
  for (int i = 0; i < o.concurrency; ++i) {
    getters.push_back(std::make_shared<RestGetter>(s.io(), rest, target, token));
  }
  Tally tally;
  // Runs one call on `g` (already counted as started), then the next while Finish allows.
  std::function<void(std::shared_ptr<RestGetter>)> call = [&](std::shared_ptr<RestGetter> g) {
    const int64_t t0 = NowMicros();
    g->Get([&, g, t0](int status, const std::string& body) {
      const bool ok = status == 200 && body.find(id_field) != std::string::npos;
      const std::string error = ok ? ""
                                : status == 0
                                    ? "transport: " + body
                                    : "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
      if (tally.Finish(t0, ok, error)) call(g);
    });
  };
  Measure(s, "rest_", tally, [&] {
    for (auto& g : getters) {
      if (tally.Start()) call(g);
    }
  });
  int connects = 0;
  for (auto& g : getters) connects += g->connects();
  s.report()["rest_connects"] = connects;  // == concurrency when every connection stayed open
}

// gRPC: `concurrency` lanes, each with one call in flight at a time, on one channel.
void RunGrpc(Scenario& s, const Endpoint& grpc_endpoint, const std::string& token) {
  const Options& o = s.options();
  const std::string address = grpc_endpoint.host + ":" + std::to_string(grpc_endpoint.port);
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = v1::Apps::NewStub(channel);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + kCallTimeout)) {
    s.report()["grpc_errors"] = 1;
    s.report()["grpc_first_error"] = "cannot connect to " + address;
    return;
  }
  struct Lane {
    std::unique_ptr<grpc::ClientContext> context;
    v1::GetAppRequest request;
    v1::App response;
  };
  std::vector<std::shared_ptr<Lane>> lanes;
  for (int i = 0; i < o.concurrency; ++i) {
    auto lane = std::make_shared<Lane>();
    lane->request.set_name("apps/" + o.app.id);
    lanes.push_back(std::move(lane));
  }
  Tally tally;
  // Runs one call on `lane` (already counted as started); its callback, on a gRPC thread, starts
  // the next while Finish allows. The previous context is replaced only after its callback ran.
  std::function<void(std::shared_ptr<Lane>)> call = [&](std::shared_ptr<Lane> lane) {
    lane->context = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) lane->context->AddMetadata("authorization", "Bearer " + token);
    lane->context->set_deadline(std::chrono::system_clock::now() + kCallTimeout);
    lane->response.Clear();
    const int64_t t0 = NowMicros();
    stub->async()->GetApp(lane->context.get(), &lane->request, &lane->response,
                          [&, lane, t0](const grpc::Status& status) {
                            const bool ok = status.ok() && lane->response.id() == o.app.id;
                            const std::string error =
                                ok            ? ""
                                : status.ok() ? "OK with another app id: " + lane->response.id()
                                              : "code " + std::to_string(status.error_code()) +
                                                    ": " + status.error_message();
                            if (tally.Finish(t0, ok, error)) call(lane);
                          });
  };
  Measure(s, "grpc_", tally, [&] {
    for (auto& lane : lanes) {
      if (tally.Start()) call(lane);
    }
  });
}

}  // namespace

int RunControlplaneReads(Scenario& s, const Endpoint& rest, const Endpoint& grpc_endpoint,
                         const std::string& token) {
  const Options& o = s.options();
  base::Json& r = s.report();
  r["scenario"] = "controlplane-reads";
  r["label"] = o.label;
  if (o.duration <= 0 || o.duration > kMaxDurationS || o.concurrency > kMaxConcurrency) {
    r["error"] = "bounds: 0 < --duration <= 60 s, --concurrency <= 256";
    return 2;
  }
  r["app_id"] = o.app.id;
  r["concurrency"] = o.concurrency;
  r["max_calls_per_transport"] = kMaxCallsPerTransport;
  RunRest(s, rest, token);
  RunGrpc(s, grpc_endpoint, token);
  const bool failed =
      r.value("rest_errors", size_t{0}) > 0 || r.value("grpc_errors", size_t{0}) > 0 ||
      r.value("rest_calls_ok", size_t{0}) == 0 || r.value("grpc_calls_ok", size_t{0}) == 0;
  return failed ? 1 : 0;
}

}  // namespace sockudo::bench
