// File: handlers.h
// The HTTP API endpoints, one file each. Called by the Router after authentication; they answer
// through `respond` exactly once.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/apps/app.h"
#include "common/base/json.h"
#include "dataplane/http/http_types.h"
#include "dataplane/node/node_context.h"

namespace sockudo::dataplane::http::handlers {

struct ApiCall {
  node::NodeContext& node;
  std::shared_ptr<const apps::App> app;
  const HttpRequest& request;
  base::Json body;  // POST body object
};

void HandleEvents(const ApiCall& call, Respond respond);
void HandleBatchEvents(const ApiCall& call, Respond respond);
void HandleChannels(const ApiCall& call, Respond respond);
void HandleChannel(const ApiCall& call, const std::string& channel, Respond respond);
void HandleChannelUsers(const ApiCall& call, const std::string& channel, Respond respond);
// terminate_connections (4009) and force_reconnect (4200).
void HandleUserDisconnect(const ApiCall& call, const std::string& user_id, int code,
                          Respond respond);

// Unauthenticated operational endpoints (/, /live, /ready, /up, /usage); false when `path` is
// not one.
bool HandleHealth(node::NodeContext& node, const HttpRequest& request, const std::string& path,
                  Respond& respond);

// The app's budget for this call (max_backend_events_per_second with `backend_events`, else
// max_read_requests_per_second): when spent, answers 429 with Retry-After; otherwise runs `next`
// with the X-RateLimit headers for its answer. Without a limit (or with rate_limiter.driver
// `none`) `next` runs at once with no headers. With a shared store `next` runs later on a worker
// thread, so it must not touch `call` (copy what it needs before).
void CheckRate(const ApiCall& call, bool backend_events, int64_t cost, Respond respond,
               std::function<void(Respond, Headers)> next);

}  // namespace sockudo::dataplane::http::handlers
