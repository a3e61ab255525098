// Several data-plane nodes in one process, clustered over one in-process bus: each node has its
// own config, app store, NodeContext, worker and HorizontalAdapter, and the adapters talk through
// LocalTransports on a shared LocalHub while their config names a clustered driver ("nats"), so
// they publish, ask their peers, heartbeat and replicate presence exactly as on a real bus.
//
// Threads: each adapter runs its cluster thread and its transport thread; the test thread is
// every node's worker: work posted to a node's worker waits until WaitUntil() (or Drain()) runs
// it. Every wait polls a condition with a deadline.
//
//   testutil::ClusterFixture cluster(2);
//   auto& a1 = cluster[0].Connect("1.1");
//   cluster[0].Subscribe(a1, "news");
//   cluster[1].adapter->Broadcast("app-id", "news", frame, "", nullptr);
//   ASSERT_TRUE(cluster.WaitUntil([&] { return !a1.transport.frames.empty(); }));
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/apps/memory/memory_app_store.h"
#include "common/bus/envelope.h"
#include "common/bus/local/local_hub.h"
#include "common/bus/local/local_transport.h"
#include "common/config/config.h"
#include "common/crypto/pusher_signature.h"
#include "dataplane/adapter/horizontal_adapter.h"
#include "dataplane/connection/connection.h"
#include "tests/testutil/node_fixture.h"

namespace sockudo::testutil {

// One worker that any thread may post to; the test thread runs the work in Drain(), as that
// node's worker (CurrentWorker() points at this pool's state while it runs).
class SharedManualPool : public dataplane::node::WorkerPool {
 public:
  size_t size() const override { return 1; }
  void Post(size_t, std::function<void(dataplane::node::WorkerState&)> fn) override {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(fn));
  }
  // Work posted and not run yet.
  size_t pending() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }
  // Runs what was posted, and what that posts, until nothing is left. Returns how many ran.
  size_t Drain() {
    size_t ran = 0;
    AsWorker([&] {
      for (;;) {
        std::function<void(dataplane::node::WorkerState&)> fn;
        {
          std::lock_guard lock(mu_);
          if (queue_.empty()) return;
          fn = std::move(queue_.front());
          queue_.pop_front();
        }
        fn(state);
        ++ran;
      }
    });
    return ran;
  }
  // Runs `fn` on the calling thread as this worker.
  void AsWorker(const std::function<void()>& fn) {
    dataplane::node::WorkerState*& current = dataplane::node::CurrentWorker();
    dataplane::node::WorkerState* saved = current;
    current = &state;
    fn();
    current = saved;
  }

  dataplane::node::WorkerState state;

 private:
  mutable std::mutex mu_;
  std::deque<std::function<void(dataplane::node::WorkerState&)>> queue_;
};

// A bus driver wrapper that can cut its node off the bus as a crash or a partition would:
// Sever() stops the inner transport (the node leaves the hub and hears nothing more), and
// every later publish fails at once (completions run inline with Unavailable).
class SeverableTransport : public bus::Transport {
 public:
  explicit SeverableTransport(std::unique_ptr<bus::Transport> inner) : inner_(std::move(inner)) {}

  void Sever() {
    severed_ = true;
    inner_->Stop();
  }
  bool severed() const { return severed_; }

  absl::Status Start(const bus::Identity& identity, Listener* listener) override {
    return inner_->Start(identity, listener);
  }
  void Stop() override { inner_->Stop(); }
  void Publish(bus::Channel channel, std::string payload, bus::Completion done) override {
    if (severed_) return Fail(std::move(done));
    inner_->Publish(channel, std::move(payload), std::move(done));
  }
  void PublishToNode(std::string_view node_id, std::string payload, bus::Completion done) override {
    if (severed_) return Fail(std::move(done));
    inner_->PublishToNode(node_id, std::move(payload), std::move(done));
  }
  void PublishRequest(std::string_view request_id, std::string payload,
                      bus::Completion done) override {
    if (severed_) return Fail(std::move(done));
    inner_->PublishRequest(request_id, std::move(payload), std::move(done));
  }
  void Reply(std::string_view address, std::string payload, bus::Completion done) override {
    if (severed_) return Fail(std::move(done));
    inner_->Reply(address, std::move(payload), std::move(done));
  }
  std::string ReplyTo() const override { return inner_->ReplyTo(); }
  void CountNodes(std::function<void(std::optional<size_t>)> done) override {
    if (severed_) return done(std::nullopt);
    inner_->CountNodes(std::move(done));
  }
  bool Healthy() const override { return !severed_ && inner_->Healthy(); }
  // Reports what a NATS connection with no_echo reports (the hub itself always echoes).
  void ReportNoEcho() { no_echo_ = true; }
  bool HearsOwnBroadcasts() const override { return !no_echo_ && inner_->HearsOwnBroadcasts(); }
  void Post(std::function<void()> fn) override { inner_->Post(std::move(fn)); }
  std::string_view name() const override { return inner_->name(); }

 private:
  static void Fail(bus::Completion done) {
    if (done) done(absl::UnavailableError("severed from the bus"));
  }

  std::unique_ptr<bus::Transport> inner_;
  std::atomic<bool> severed_{false};
  std::atomic<bool> no_echo_{false};
};

// A bare participant on the hub, counted as a data node: it records what it receives, answers
// requests with what `respond` returns (nothing when unset: a peer that never answers), and can
// publish raw payloads as if it were any node.
class FakePeer {
 public:
  using Responder = std::function<std::vector<bus::ResponseBody>(const bus::RequestBody&)>;

  explicit FakePeer(bus::local::LocalHub& hub, Responder respond = nullptr)
      : hub_(hub), respond_(std::move(respond)) {
    endpoint_.identity = {bus::NewUuid(), bus::UuidHex(bus::NewUuid()), /*observer=*/false};
    endpoint_.deliver = [this](bus::Incoming m) { OnMessage(std::move(m)); };
    Join();
  }
  ~FakePeer() { Leave(); }

  // On the hub (counted as a node, receiving) or off it, as a crashed node. The object stays
  // alive until the fixture ends, so a message already on its way to it is harmless.
  void Join() {
    if (!joined_.exchange(true)) hub_.Join(&endpoint_);
  }
  void Leave() {
    if (joined_.exchange(false)) hub_.Leave(&endpoint_);
  }

  const std::string& node_id() const { return endpoint_.identity.node_id; }
  void Publish(bus::Channel channel, const std::string& payload) {
    hub_.Send(&endpoint_, channel, payload, "");
  }
  // Publishes `r` on the requests channel as this node (request id and node id filled in).
  void Tell(bus::RequestBody r) {
    r.request_id = bus::NewUuid();
    r.node_id = node_id();
    Publish(bus::Channel::kRequests, bus::EncodeRequest(r));
  }
  void Heartbeat() {
    bus::RequestBody r;
    r.app_id = "cluster";
    r.request_type = bus::RequestType::kHeartbeat;
    r.timestamp = 1;
    Tell(std::move(r));
  }
  // Requests received, broadcast or sent to its inbox (any thread may have delivered them).
  std::vector<bus::RequestBody> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void OnMessage(bus::Incoming m) {
    if (m.channel != bus::Channel::kRequests && m.channel != bus::Channel::kNodeInbox) return;
    auto request = bus::DecodeRequest(m.payload);
    if (!request.ok()) return;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(*request);
    }
    if (!respond_ || bus::IsFireAndForget(request->request_type)) return;
    for (bus::ResponseBody& r : respond_(*request)) {
      r.request_id = request->request_id;
      r.app_id = request->app_id;
      if (r.node_id.empty()) r.node_id = node_id();
      hub_.Send(&endpoint_, bus::Channel::kReplyInbox, bus::EncodeResponse(r), "",
                request->reply_to.value_or(""));
    }
  }

  bus::local::LocalHub& hub_;
  Responder respond_;
  bus::local::LocalHub::Endpoint endpoint_;
  std::atomic<bool> joined_{false};
  mutable std::mutex mu_;
  std::vector<bus::RequestBody> requests_;
};

// A value a callback delivers on another thread.
template <class T>
class Eventually {
 public:
  std::function<void(T)> Set() {
    return [this](T value) {
      std::lock_guard lock(mu_);
      value_ = std::move(value);
    };
  }
  bool ready() const {
    std::lock_guard lock(mu_);
    return value_.has_value();
  }
  T get() const {
    std::lock_guard lock(mu_);
    return *value_;
  }

 private:
  mutable std::mutex mu_;
  std::optional<T> value_;
};

// One node of the cluster.
class ClusterNode {
 public:
  struct Client {
    std::string socket_id;
    FakeTransport transport;
    std::unique_ptr<dataplane::connection::Connection> connection;
  };

  ClusterNode(bus::local::LocalHub& hub, const config::Config& cfg, apps::App app) : config(cfg) {
    config.activity_timeout = 120;
    config.user_authentication_timeout = 30;
    store = *apps::MemoryAppStore::Create({std::move(app)});
    node = std::make_unique<dataplane::node::NodeContext>(config, *store);
    node->workers = &pool;
    auto severable =
        std::make_unique<SeverableTransport>(std::make_unique<bus::local::LocalTransport>(hub));
    transport = severable.get();
    adapter = std::make_unique<dataplane::adapter::HorizontalAdapter>(
        config, *node, pool, std::move(severable), dataplane::adapter::NodeInfo{});
    node->adapter = adapter.get();
  }
  ~ClusterNode() {
    CloseAll();
    adapter->Stop();
    pool.Drain();
  }

  // A registered, opened connection of the default app.
  Client& Connect(const std::string& socket_id) {
    node->connections.Admit("app-id", socket_id, 0, 0);
    Client& c = clients.emplace_back();
    c.socket_id = socket_id;
    pool.AsWorker([&] {
      c.connection = std::make_unique<dataplane::connection::Connection>(
          *node, pool.state, store->FindById("app-id"), socket_id, c.transport);
      c.connection->Open(now);
    });
    return c;
  }
  // An inbound client message, handled on this node's worker.
  void Send(Client& c, const std::string& text) {
    pool.AsWorker([&] { c.connection->OnMessage(text, now); });
  }
  void Subscribe(Client& c, const std::string& channel) {
    Send(c,
         base::Dump(base::Json{{"event", "pusher:subscribe"}, {"data", {{"channel", channel}}}}));
  }
  // A signed presence subscription as `user_id_json` (a JSON string or number).
  void JoinPresence(Client& c, const std::string& channel, const std::string& user_id_json,
                    const std::string& user_info_json = "null") {
    const std::string channel_data =
        "{\"user_id\":" + user_id_json + ",\"user_info\":" + user_info_json + "}";
    const std::string auth = crypto::ClientAuth("app-key", "app-secret",
                                                c.socket_id + ":" + channel + ":" + channel_data);
    Send(c, base::Dump(base::Json{
                {"event", "pusher:subscribe"},
                {"data", {{"channel", channel}, {"auth", auth}, {"channel_data", channel_data}}}}));
  }
  void Unsubscribe(Client& c, const std::string& channel) {
    Send(c,
         base::Dump(base::Json{{"event", "pusher:unsubscribe"}, {"data", {{"channel", channel}}}}));
  }
  // Closes every connection (disconnect cleanup: presence leaves, sign-outs).
  void CloseAll() {
    pool.AsWorker([&] {
      for (Client& c : clients) c.connection.reset();
    });
    pool.Drain();
  }

  config::Config config;
  std::unique_ptr<apps::MemoryAppStore> store;
  SharedManualPool pool;
  std::unique_ptr<dataplane::node::NodeContext> node;
  SeverableTransport* transport = nullptr;  // owned by the adapter
  std::unique_ptr<dataplane::adapter::HorizontalAdapter> adapter;
  std::list<Client> clients;  // stable addresses
  dataplane::connection::Connection::Clock::time_point now{};
};

class ClusterFixture {
 public:
  // A clustered driver with short intervals; a node timeout no test reaches by accident.
  static config::Config ClusterConfig() {
    config::Config c;
    c.adapter.driver = "nats";
    c.adapter.nats.request_timeout_ms = 1000;
    c.adapter.cluster_health.enabled = true;
    c.adapter.cluster_health.heartbeat_interval_ms = 50;
    c.adapter.cluster_health.node_timeout_ms = 10000;
    c.adapter.cluster_health.cleanup_interval_ms = 50;
    return c;
  }

  explicit ClusterFixture(size_t nodes, const config::Config& config = ClusterConfig(),
                          apps::App app = apps::DefaultApp()) {
    for (size_t i = 0; i < nodes; ++i) {
      nodes_.push_back(std::make_unique<ClusterNode>(hub, config, app));
    }
    for (auto& n : nodes_) {
      absl::Status st = n->adapter->Start();
      if (!st.ok()) ADD_FAILURE() << "adapter start: " << st;
    }
  }
  ~ClusterFixture() {
    // Every socket leaves while the whole cluster is up, then the nodes stop one by one; a node
    // or a fake peer is destroyed only once nothing can still send to it.
    for (auto& n : nodes_) n->CloseAll();
    for (auto& n : nodes_) n->adapter->Stop();
    nodes_.clear();
    peers_.clear();
  }

  // A bare participant on the hub (see FakePeer), owned by the fixture.
  FakePeer& AddPeer(FakePeer::Responder respond = nullptr) {
    return *peers_.emplace_back(std::make_unique<FakePeer>(hub, std::move(respond)));
  }

  ClusterNode& operator[](size_t i) { return *nodes_[i]; }
  size_t size() const { return nodes_.size(); }

  // Runs every node's worker until `done` holds or `limit` passes; true when it held.
  bool WaitUntil(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::milliseconds(1500)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      for (auto& n : nodes_) n->pool.Drain();
      if (done()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  // Every live node has heard a heartbeat of every other one.
  bool WaitForMesh(std::chrono::milliseconds limit = std::chrono::milliseconds(1500)) {
    return WaitUntil(
        [&] {
          for (auto& n : nodes_) {
            if (n->adapter->known_peers() != nodes_.size() - 1) return false;
          }
          return true;
        },
        limit);
  }
  // Runs `call(callback)` and waits for the callback's value.
  template <class T>
  std::optional<T> Await(const std::function<void(std::function<void(T)>)>& call,
                         std::chrono::milliseconds limit = std::chrono::milliseconds(1500)) {
    auto result = std::make_shared<Eventually<T>>();
    call([result](T value) { result->Set()(std::move(value)); });
    if (!WaitUntil([&] { return result->ready(); }, limit)) return std::nullopt;
    return result->get();
  }

  bus::local::LocalHub hub;  // outlives every node

 private:
  std::vector<std::unique_ptr<ClusterNode>> nodes_;
  std::list<std::unique_ptr<FakePeer>> peers_;
};

}  // namespace sockudo::testutil
