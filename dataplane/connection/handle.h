// File: handle.h
// A reference to a Connection that any thread may keep and use: the work it carries runs on the
// connection's own worker, and is dropped if the connection has closed by then. This is how an
// answer from the bus (which arrives on the adapter's thread) gets back to the socket that asked.
//
//   auto handle = c.handle();
//   adapter.JoinPresence(join, [handle](PresenceJoinAnswer a) {
//     handle.Resume([a = std::move(a)](Connection& c) { c.Send(...); });
//   });
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "dataplane/node/worker_state.h"

namespace sockudo::dataplane::connection {

class Connection;

class Handle {
 public:
  Handle() = default;
  Handle(node::WorkerPool* pool, size_t worker, uint64_t serial)
      : pool_(pool), worker_(worker), serial_(serial) {}

  // Runs `fn` with the connection if it is still open: at once when called on its worker's
  // thread, else posted there.
  void Resume(std::function<void(Connection&)> fn) const;
  // Runs `fn` later on the connection's worker (never inside this call), if it is still open.
  void Post(std::function<void(Connection&)> fn) const;

 private:
  node::WorkerPool* pool_ = nullptr;
  size_t worker_ = 0;
  uint64_t serial_ = 0;
};

}  // namespace sockudo::dataplane::connection
