// File: admission.h
// The checks every accepted upgrade runs, in the order of spec/pusher-protocol.md §2.1:
// draining, unknown key, disabled app, origin, node cap, app quota. On success the socket id is
// registered and counted; the caller then builds the Connection.
#pragma once

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

std::variant<Admitted, Refused> Admit(node::NodeContext& node, std::string_view app_key,
                                      std::optional<std::string_view> origin);

}  // namespace sockudo::dataplane::connection
