#include "dataplane/server/worker.h"

#include <boost/asio/post.hpp>
#include <vector>

#include "common/base/logging.h"
#include "dataplane/connection/connection.h"

namespace sockudo::dataplane::server {

Worker::Worker(size_t id) : guard_(boost::asio::make_work_guard(io_)), tick_(io_) {
  state_.id = id;
}

Worker::~Worker() {
  StopNow();
  Join();
}

bool Worker::EnableSendRing(std::string* why_not) {
  send_ring_ = ws::SendRing::Create(io_, why_not);
  return send_ring_ != nullptr;
}

void Worker::Start() {
  ScheduleTick();
  thread_ = std::thread([this] {
    node::CurrentWorker() = &state_;
    // No exception may stop a worker: one escaping a handler is a bug, logged, and the loop goes
    // on serving every other connection (the handler's own session is dropped with it).
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        base::Logger("server")->error("BUG: exception escaped a handler on worker {}: {}",
                                      state_.id, e.what());
      }
    }
  });
}

void Worker::ScheduleTick() {
  tick_.expires_after(std::chrono::seconds(1));
  tick_.async_wait([this](boost::system::error_code ec) {
    if (ec || !ticking_) return;
    const auto now = std::chrono::steady_clock::now();
    // Tick may close a connection, which removes it from the set: walk a copy.
    // Tick may close a connection, which removes it from the map: walk the serials.
    std::vector<uint64_t> serials;
    serials.reserve(state_.connections.size());
    for (const auto& [serial, c] : state_.connections) serials.push_back(serial);
    for (uint64_t serial : serials) {
      if (connection::Connection* c = state_.Find(serial)) c->Tick(now);
    }
    ScheduleTick();
  });
}

void Worker::ReleaseWork() {
  boost::asio::post(io_, [this] {
    ticking_ = false;
    tick_.cancel();
  });
  guard_.reset();
}

void Worker::StopNow() { io_.stop(); }

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace sockudo::dataplane::server
