// File: admission.h
// The checks every accepted upgrade runs, in this order: draining, unknown key, disabled app,
// origin, node cap, app quota. The quota counts the app's connections on every node (through the
// adapter, when the app has max_connections); the socket id is then registered and counted on this
// node, atomically with the local part of both limits.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/apps/app.h"
#include "dataplane/node/node_context.h"

namespace sockudo::dataplane::connection {

struct Admitted {
  std::shared_ptr<const apps::App> app;
  std::string socket_id;
};

struct Refused {
  int code;
  std::string message;
};

using Admission = std::variant<Admitted, Refused>;

// Answers through `done` exactly once: before returning when no other node must be asked, else
// later on the adapter's thread.
void Admit(node::NodeContext& node, std::string_view app_key, std::optional<std::string> origin,
           std::function<void(Admission)> done);

}  // namespace sockudo::dataplane::connection
