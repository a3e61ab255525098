// File: app_changes.h
// How a node applies an AppChanged notice: the node reads apps from its store on every lookup (no
// cached copy survives the change), so a new app, a new secret or new limits apply to the next
// connection or HTTP call. When the app was deleted or disabled, every local socket of it gets
// `pusher:error` and is closed with 4001 / 4003, on its own worker's thread. Callable from any
// thread (the embedded control plane calls it from its REST / gRPC threads; a bus AppChanged would
// call it from the adapter's thread).
//
//   ApplyAppChange(node, "a1", "deleted", "old-key");
#pragma once

#include <string>
#include <string_view>

#include "dataplane/node/node_context.h"

namespace sockudo::dataplane::server {

// `action` is the notice's action ("created", "updated", "deleted", "disabled", "enabled",
// "secret_rotated"); `old_key` the app's key before the change (for the 4001 message).
// Returns the number of workers asked to close sockets (0 when the action closes none).
size_t ApplyAppChange(node::NodeContext& node, const std::string& app_id, std::string_view action,
                      const std::string& old_key);

}  // namespace sockudo::dataplane::server
