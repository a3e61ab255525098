// File: handlers.h
// The HTTP API endpoints (spec/http-api.md §3), one file each. Called by the Router after
// authentication; they answer through `respond` exactly once.
#pragma once

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

// Unauthenticated operational endpoints (spec/http-api.md §4); false when `path` is not one.
bool HandleHealth(node::NodeContext& node, const HttpRequest& request, const std::string& path,
                  Respond& respond);

// 429 when the app's budget for this call is spent; adds the X-RateLimit headers otherwise.
// Returns true when the call may proceed.
bool CheckRate(const ApiCall& call, bool backend_events, int64_t cost, Respond& respond,
               std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace sockudo::dataplane::http::handlers
