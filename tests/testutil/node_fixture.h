// File: node_fixture.h
// A data-plane node without sockets or threads, for unit tests and fuzz targets: the default app
// (client events and user authentication as asked), a NodeContext, the adapter on the `local`
// bus, one worker whose posted work runs when the test drains it, and connections over a
// FakeTransport that records what they would send.
//
//   testutil::NodeFixture node;
//   auto& c = node.Connect("1.1");
//   c.connection->OnMessage(R"({"event":"pusher:ping","data":{}})", node.now);
//   node.pool.Drain();
//   EXPECT_THAT(c.transport.frames.back(), HasSubstr("pusher:pong"));
#pragma once

#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "common/apps/memory/memory_app_store.h"
#include "common/bus/local/local_transport.h"
#include "common/config/config.h"
#include "dataplane/adapter/horizontal_adapter.h"
#include "dataplane/connection/connection.h"
#include "dataplane/connection/transport.h"

namespace sockudo::testutil {

// Records what the connection writes; closes are recorded too. `full` makes Write refuse.
class FakeTransport : public dataplane::connection::Transport {
 public:
  bool Write(const protocol::SharedFrame& frame) override {
    if (full) return false;
    frames.emplace_back(frame->text());
    return true;
  }
  void Close(int code, std::string_view, protocol::SharedFrame farewell) override {
    if (farewell) frames.emplace_back(farewell->text());
    close_code = code;
  }
  void DiscardQueued() override {
    frames.clear();
    full = false;
    ++discards;
  }

  bool full = false;
  int discards = 0;
  std::vector<std::string> frames;
  int close_code = 0;
};

// One worker whose posted work waits until Drain() runs it on the calling thread, as a worker
// would on its next turn.
class ManualPool : public dataplane::node::WorkerPool {
 public:
  ManualPool() { dataplane::node::CurrentWorker() = &state; }
  ~ManualPool() override { dataplane::node::CurrentWorker() = nullptr; }
  size_t size() const override { return 1; }
  void Post(size_t, std::function<void(dataplane::node::WorkerState&)> fn) override {
    queue.push_back(std::move(fn));
  }
  // Runs what was posted, and what that posts, until nothing is left.
  void Drain() {
    while (!queue.empty()) {
      auto fn = std::move(queue.front());
      queue.pop_front();
      fn(state);
    }
  }
  dataplane::node::WorkerState state;
  std::deque<std::function<void(dataplane::node::WorkerState&)>> queue;
};

// A node on the `local` bus, as `make run` starts it, without sockets or threads.
class NodeFixture {
 public:
  struct Client {
    FakeTransport transport;
    std::unique_ptr<dataplane::connection::Connection> connection;
  };

  explicit NodeFixture(apps::App app = apps::DefaultApp()) {
    config.activity_timeout = 120;
    config.user_authentication_timeout = 30;
    store = *apps::MemoryAppStore::Create({std::move(app)});
    node = std::make_unique<dataplane::node::NodeContext>(config, *store);
    node->workers = &pool;
    adapter = std::make_unique<dataplane::adapter::HorizontalAdapter>(
        config, *node, pool, std::make_unique<bus::local::LocalTransport>(hub),
        dataplane::adapter::NodeInfo{});
    node->adapter = adapter.get();
  }
  ~NodeFixture() {
    for (Client& c : clients) c.connection.reset();
    pool.Drain();
  }

  // A registered, opened connection of the default app with `socket_id`.
  Client& Connect(const std::string& socket_id) {
    node->connections.Admit("app-id", socket_id, 0, 0);
    Client& c = clients.emplace_back();
    c.connection = std::make_unique<dataplane::connection::Connection>(
        *node, pool.state, store->FindById("app-id"), socket_id, c.transport);
    c.connection->Open(now);
    return c;
  }

  config::Config config;
  std::unique_ptr<apps::MemoryAppStore> store;
  ManualPool pool;
  bus::local::LocalHub hub;
  std::unique_ptr<dataplane::node::NodeContext> node;
  std::unique_ptr<dataplane::adapter::HorizontalAdapter> adapter;
  std::list<Client> clients;  // stable addresses
  dataplane::connection::Connection::Clock::time_point now{};
};

}  // namespace sockudo::testutil
