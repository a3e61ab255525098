// File: session_env.h
// What every HTTP and WebSocket session of a node shares: the node context, the router and the
// worker it lives on. Cheap to copy; the referenced objects outlive all sessions.
#pragma once

#include "dataplane/http/router.h"
#include "dataplane/node/node_context.h"
#include "dataplane/node/worker_state.h"

namespace sockudo::dataplane::ws {

class SendRing;

struct SessionEnv {
  node::NodeContext* node;
  http::Router* router;
  node::WorkerState* worker;
  bool metrics_listener = false;
  SendRing* send_ring = nullptr;  // the worker's io_uring for WebSocket writes, if any
};

}  // namespace sockudo::dataplane::ws
