// File: local_hub.h
// The in-process bus of the `local` driver: the participants of one process (the node, and the
// control plane embedded in it) register here and exchange messages as they would over Redis or
// NATS, each delivered on the receiver's own thread. Thread-safe. Owned by whoever wires the
// process (the Server); transports keep a reference.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/bus/transport.h"

namespace sockudo::bus::local {

class LocalHub {
 public:
  struct Endpoint {
    Identity identity;
    // Queues a message for the endpoint's thread. Runs under the hub's lock: it may Send, but
    // must not Join or Leave.
    std::function<void(Incoming)> deliver;
  };

  void Join(const Endpoint* endpoint) {
    std::lock_guard lock(mu_);
    endpoints_.push_back(endpoint);
  }
  void Leave(const Endpoint* endpoint) {
    std::lock_guard lock(mu_);
    std::erase(endpoints_, endpoint);
  }

  // Every endpoint but `from` that subscribes to `channel` (observers: requests only), or the
  // one whose node id is `node_id` (inbox) or whose reply inbox is `reply_hex`. A broadcast goes
  // back to `from` too, as Redis and NATS (without no_echo) send a subscriber its own messages.
  // The fan-out happens under the lock, as in a broker: all receivers queue any two messages in
  // the same order, so a message one node sends because it received another (a member
  // re-announced after a stale member_removed) never overtakes that one at a third node. The
  // lock is recursive: an endpoint that handles a message inline may send from `deliver`.
  // Once Leave returns, nothing is being delivered to that endpoint.
  void Send(const Endpoint* from, Channel channel, const std::string& payload,
            const std::string& reply_to, const std::string& address = "") {
    std::lock_guard lock(mu_);
    for (const Endpoint* e : endpoints_) {
      const bool match = channel == Channel::kNodeInbox    ? e->identity.node_id == address
                         : channel == Channel::kReplyInbox ? e->identity.reply_hex == address
                         : channel == Channel::kRequests   ? e != from
                         : channel == Channel::kBroadcast  ? !e->identity.observer
                                                           : e != from && !e->identity.observer;
      if (match) e->deliver(Incoming{channel, payload, reply_to});
    }
  }

  // Data nodes on the hub.
  size_t Nodes() const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const Endpoint* e : endpoints_) n += e->identity.observer ? 0 : 1;
    return n;
  }

 private:
  mutable std::recursive_mutex mu_;
  std::vector<const Endpoint*> endpoints_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sockudo::bus::local
