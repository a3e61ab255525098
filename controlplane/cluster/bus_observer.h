// File: bus_observer.h
// The control plane on the bus: an observer that subscribes to the requests channel and its reply
// inbox only, never heartbeats, never answers, is never counted.
// It builds the NodeView from heartbeats and NodeDead notices, asks the nodes cluster-wide
// questions (the same RequestBody types and timeouts as a node, waiting for every alive or
// suspect node), publishes AppChanged after app writes and broadcasts events for PublishEvent.
// Embedded in a `local` node it joins the in-process hub the same way.
//
// Threads: one io_context thread owns the NodeView, the RequestRouter and the watchers; every
// public method may be called from any thread. Watch callbacks run on that thread.
//
//   BusObserver observer(std::move(transport), {.heartbeat_interval = 10s, ...});
//   SOCKUDO_RETURN_IF_ERROR(observer.Start());
//   observer.Ask(request, [](absl::StatusOr<bus::RequestRouter::Result> r) { ... });
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/bus/envelope.h"
#include "common/bus/request_router.h"
#include "common/bus/transport.h"
#include "controlplane/cluster/node_view.h"

namespace sockudo::controlplane::cluster {

struct BusObserverOptions {
  std::chrono::milliseconds heartbeat_interval{10000};
  std::chrono::milliseconds node_timeout{30000};
  std::chrono::milliseconds request_timeout{5000};  // the driver's base timeout
  std::chrono::milliseconds publish_timeout{2000};  // how long a write waits for the bus
};

class BusObserver : private bus::Transport::Listener {
 public:
  using Result = bus::RequestRouter::Result;
  using AskDone = std::function<void(absl::StatusOr<Result>)>;
  using WatchFn = std::function<void(const NodeChange&)>;

  BusObserver(std::unique_ptr<bus::Transport> transport, BusObserverOptions options);
  ~BusObserver() override;

  // Connects and subscribes as an observer; an error names what could not be reached.
  absl::Status Start();
  // Finishes pending requests (incomplete), leaves the bus, joins the thread. Idempotent.
  void Stop();

  const std::string& id() const { return identity_.node_id; }
  std::string_view adapter() const { return transport_->name(); }
  bool BusHealthy() const { return healthy_.load(); }

  std::vector<NodeSnapshot> Nodes() const;

  // Calls `fn` for every change of the view from now on, on the observer's thread, until
  // Unwatch(id). `snapshot` receives the nodes known at that moment (atomically with the
  // registration: no change falls between the two).
  uint64_t Watch(WatchFn fn, std::vector<NodeSnapshot>* snapshot);
  void Unwatch(uint64_t id);

  // Sends `request` (request_id, node_id and reply_to are filled in) to every alive or suspect
  // node and hands their answers to `done`, on the observer's thread. UNAVAILABLE when the bus
  // is down or the request could not be published.
  void Ask(bus::RequestBody request, AskDone done);
  // Publishes a fire-and-forget request (AppChanged) and waits for the bus to take it.
  absl::Status Tell(bus::RequestBody request);
  // Publishes an event for every node to deliver and waits for the bus to take it.
  absl::Status Broadcast(bus::BroadcastMessage message);

 private:
  // bus::Transport::Listener (driver thread)
  void OnMessage(bus::Incoming message) override;
  void OnResubscribed() override {}
  void OnHealthChanged(bool healthy) override { healthy_ = healthy; }

  void Publish(const std::vector<NodeChange>& changes);
  void ScheduleTick();
  absl::Status WaitForPublish(const std::function<void(bus::Completion)>& publish);

  std::unique_ptr<bus::Transport> transport_;
  BusObserverOptions options_;
  bus::Identity identity_;
  std::atomic<bool> healthy_{false};

  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::unique_ptr<bus::RequestRouter> router_;  // observer thread
  boost::asio::steady_timer tick_{io_};
  bool started_ = false;

  mutable std::mutex mu_;  // view_ and watchers_ (read by Nodes() from any thread)
  NodeView view_;
  std::map<uint64_t, WatchFn> watchers_;
  uint64_t next_watch_ = 1;
};

}  // namespace sockudo::controlplane::cluster
