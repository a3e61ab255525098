// File: worker_state.h
// The registries one worker thread owns: its connections, who of them is subscribed where and
// who is signed in as whom. Reached only from that worker's thread (adapters post closures to
// it through WorkerPool).
#pragma once

#include <cstddef>
#include <functional>
#include <unordered_set>

#include "dataplane/channels/channel_index.h"

namespace sockudo::dataplane::node {

struct WorkerState {
  size_t id = 0;
  channels::ConnectionIndex channels;  // (app, channel) -> connections
  channels::ConnectionIndex users;     // (app, user id) -> signed-in connections
  std::unordered_set<connection::Connection*> connections;
};

// The workers of a node, as the adapter sees them.
class WorkerPool {
 public:
  virtual ~WorkerPool() = default;
  virtual size_t size() const = 0;
  // Runs `fn` on worker `index`'s thread with its state.
  virtual void Post(size_t index, std::function<void(WorkerState&)> fn) = 0;
};

}  // namespace sockudo::dataplane::node
