// File: worker_state.h
// The registries one worker thread owns: its connections, who of them is subscribed where and
// who is signed in as whom. Reached only from that worker's thread (adapters post closures to
// it through WorkerPool; connection::Handle resumes one connection there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "dataplane/channels/channel_index.h"

namespace sockudo::dataplane::node {

struct WorkerState {
  size_t id = 0;
  channels::ConnectionIndex channels;  // (app, channel) -> connections
  channels::ConnectionIndex users;     // (app, user id) -> signed-in connections
  // Open connections by serial number. A serial is never reused, so a handle to a connection
  // that closed finds nothing even when another one took its memory.
  absl::flat_hash_map<uint64_t, connection::Connection*> connections;
  uint64_t next_serial = 1;

  connection::Connection* Find(uint64_t serial) const {
    auto it = connections.find(serial);
    return it == connections.end() ? nullptr : it->second;
  }
};

// The WorkerState of the worker running on this thread, or null on any other thread. Set by the
// worker's thread (and by tests that run work inline).
WorkerState*& CurrentWorker();

// The workers of a node, as the adapter sees them.
class WorkerPool {
 public:
  virtual ~WorkerPool() = default;
  virtual size_t size() const = 0;
  // Runs `fn` on worker `index`'s thread with its state.
  virtual void Post(size_t index, std::function<void(WorkerState&)> fn) = 0;
};

}  // namespace sockudo::dataplane::node
