// File: redis_bus_driver.h
// What the redis and redis-cluster bus drivers share: one io_context run by the driver's own
// thread, the Start / Stop life cycle, the publish front (run-state check, the bounded broadcast
// pipeline and the retry policy of PublishPipeline), the five channels (BusChannels), delivery of
// pushed messages to the Listener, health transitions, the subscriber PING, node counting with its
// short cache, and the counters.
//
// A deployment derives from it and supplies the hooks below: configuration checks, startup
// (discovery, connections, subscriptions), how one publish is sent (SendPublish), how the
// broker counts nodes (QueryNodeCount), the subscriber pings, and what Stop closes.
//
//   Start   under the run-state lock: called twice, no listener, an identity without node id or
//           reply id, or CheckConfig() failing → an error, nothing started. Then the channels
//           are bound, BeforeStart() runs, the thread starts and StartOnIo() gets
//           startup_timeout to report; failure (or no report 3 s past the bound) stops
//           everything and returns the error. Success starts the subscriber PING.
//   publish Publish / PublishToNode / PublishRequest / Reply from any thread: after Stop (or
//           before Start) the completion runs at once with kFailedPrecondition; a broadcast that
//           finds the pipeline full completes with kResourceExhausted on the driver thread.
//   Stop    on the driver thread: CloseConnections(), then every pending publish fails with
//           kCancelled and waiting CountNodes callbacks get nullopt; the thread is joined.
//
// Threads: Start/Stop from the owner's thread (never the driver thread), once each; Publish*,
// Reply, CountNodes, Post and the accessors from any thread; hooks, Listener calls and
// Completions on the driver thread (BeforeStart and CheckConfig on the owner's). A derived
// class's destructor must call Stop() first: the thread uses its members.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/bus/redis/bus_channels.h"
#include "common/bus/redis/guarded.h"
#include "common/bus/redis/publish_pipeline.h"
#include "common/bus/redis/redis_bus_options.h"
#include "common/bus/redis/redis_connection.h"
#include "common/bus/transport.h"
#include "spdlog/spdlog.h"

namespace sockudo::bus::redis {

class RedisBusDriver {
 public:
  using Clock = std::chrono::steady_clock;
  using CountCallback = std::function<void(std::optional<size_t>)>;

  // `name` ("redis", "redis-cluster") starts logs and errors; `class_name` names the transport in
  // misuse errors ("RedisTransport::Start called twice").
  RedisBusDriver(std::string name, std::string class_name, std::string prefix,
                 const RedisBusOptions& options, std::shared_ptr<spdlog::logger> log);
  virtual ~RedisBusDriver();
  RedisBusDriver(const RedisBusDriver&) = delete;
  RedisBusDriver& operator=(const RedisBusDriver&) = delete;

  // --- Owner thread ---
  absl::Status Start(const Identity& identity, Transport::Listener* listener);
  void Stop();

  // --- Any thread ---
  void Publish(Channel channel, std::string payload, Completion done);
  void PublishToNode(std::string_view node_id, std::string payload, Completion done);
  void PublishRequest(std::string payload, Completion done);
  // An empty address means "no reply_to": the response goes to {prefix}:#responses.
  void Reply(std::string_view address, std::string payload, Completion done);
  std::string ReplyTo() const { return channels_.reply_inbox(); }
  void CountNodes(CountCallback done);
  bool Healthy() const { return healthy_.load(); }
  void Post(std::function<void()> fn);

  uint64_t dropped() const { return pipeline_.dropped(); }
  uint64_t reconnections() const { return reconnections_.load(); }
  size_t depth() const { return pipeline_.depth(); }
  uint64_t failed() const { return pipeline_.failed(); }
  // Where the bus is, for logs ("redis://host:port/db", "redis-cluster://h1:p1,h2:p2").
  virtual std::string endpoint() const = 0;

  // The count of a `PUBSUB NUMSUB ch` / `PUBSUB SHARDNUMSUB ch` reply, or nullopt.
  static std::optional<size_t> SubscriberCount(const RedisReply& reply);

 protected:
  // --- What a deployment supplies ---
  // Checks the configuration at Start (under the run-state lock); an error fails Start.
  virtual absl::Status CheckConfig() const = 0;
  // Once the channels are bound, before the driver thread starts (owner thread).
  virtual void BeforeStart() {}
  // Connects and subscribes within `deadline`; `done` runs once on the driver thread with the
  // outcome. Sets healthy_ before reporting success.
  virtual void StartOnIo(Clock::time_point deadline, std::function<void(absl::Status)> done) = 0;
  // Sends one publish of the pipeline (PublishPipeline::Sender).
  virtual void SendPublish(const PublishPipeline::JobPtr& job, PublishPipeline::Reply reply) = 0;
  // Asks the broker how many data nodes listen on broadcast; `done` once (nullopt: it cannot
  // tell, or it failed). Results are cached for count_cache.
  virtual void QueryNodeCount(CountCallback done) = 0;
  // Sends PING on the subscriber connection(s) (a silent break then trips the reply timeout);
  // false stops the pings until StartPing().
  virtual bool PingSubscribers() = 0;
  // Stop: cancels timers and closes every connection (driver thread, stopping() is true).
  virtual void CloseConnections() = 0;
  // What startup errors start with: name() by default.
  virtual std::string StartupContext() const { return name_; }
  // Appended to the "bus connected" log line (" mode=sharded").
  virtual std::string ConnectedDetail() const { return ""; }

  // --- For the deployment ---
  boost::asio::io_context& io() { return io_; }
  const RedisBusOptions& options() const { return options_; }
  const BusChannels& channels() const { return channels_; }
  // Driver thread: Stop has begun.
  bool stopping() const { return stopping_; }
  // Any thread: between Start and Stop.
  bool running() const;
  // A pushed `message` / `smessage` on one of the subscriptions goes to Listener::OnMessage;
  // anything else is logged at debug level and dropped.
  void Deliver(Push push);
  // Health changes run OnHealthChanged, and OnResubscribed when it comes back.
  void SetHealthy(bool healthy);
  void StartPing();
  void StopPing();

  std::atomic<bool> healthy_{false};
  std::atomic<uint64_t> reconnections_{0};  // subscriptions restored after a break

 private:
  enum class RunState { kNew, kRunning, kStopped };

  // Runs user code with its exceptions caught and logged.
  template <typename Fn>
  void Guard(const char* what, Fn&& fn) {
    Guarded(*log_, what, std::forward<Fn>(fn));
  }
  absl::Status NotRunning() const;
  // Takes a running publish to the driver thread (a broadcast into the ordered pipeline).
  void Enqueue(std::string channel, std::string payload, Completion done, bool broadcast);
  void CountOnIo(CountCallback done);
  void FinishCount(std::optional<size_t> n);
  void Run();
  void Shutdown();

  const std::string name_;
  const std::string class_name_;
  const RedisBusOptions options_;
  const std::shared_ptr<spdlog::logger> log_;
  BusChannels channels_;  // bound by Start before the driver thread runs, then read-only
  Transport::Listener* listener_ = nullptr;

  mutable std::mutex mu_;  // run_state_, and posting against Stop
  RunState run_state_ = RunState::kNew;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;

  // Driver thread only below.
  bool stopping_ = false;
  PublishPipeline pipeline_;
  boost::asio::steady_timer ping_timer_;
  bool count_cached_ = false;
  size_t count_value_ = 0;
  Clock::time_point count_time_;
  bool count_in_flight_ = false;
  std::vector<CountCallback> count_waiters_;
};

}  // namespace sockudo::bus::redis
