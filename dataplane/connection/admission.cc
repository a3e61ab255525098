#include "dataplane/connection/admission.h"

#include "absl/strings/str_cat.h"
#include "common/apps/origin_matcher.h"
#include "common/protocol/close_codes.h"

namespace sockudo::dataplane::connection {

namespace cc = protocol::close_code;
namespace cm = protocol::close_message;

namespace {

// Registers a fresh socket id within the node cap and `app_limit` connections of the app on this
// node (0: no quota).
Admission Register(node::NodeContext& node, std::shared_ptr<const apps::App> app,
                   int64_t app_limit) {
  // A node-wide uniqueness check is enough: ids are two independent draws from [0, 10^10), so a
  // clash with a socket on another node is as unlikely as one of 2^66 events.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string socket_id = node::NewSocketId();
    switch (node.connections.Admit(app->id, socket_id, node.config.max_connections, app_limit)) {
      case node::Admission::kAdmitted:
        return Admitted{std::move(app), std::move(socket_id)};
      case node::Admission::kNodeFull:
        return Refused{cc::kOverCapacity, cm::kOverCapacity};
      case node::Admission::kAppOverQuota:
        return Refused{cc::kOverQuota, cm::kOverQuota};
      case node::Admission::kDuplicateId:
        continue;  // astronomically rare: draw again
    }
  }
  return Refused{cc::kReconnectNow, cm::kServerClosing};
}

}  // namespace

void Admit(node::NodeContext& node, std::string_view app_key, std::optional<std::string> origin,
           std::function<void(Admission)> done) {
  if (node.draining.load()) return done(Refused{cc::kReconnectNow, cm::kServerClosing});
  auto app = node.apps.FindByKey(app_key);
  if (!app) {
    return done(Refused{cc::kAppNotFound,
                        absl::StrCat("App key ", std::string(app_key), " does not exist.")});
  }
  if (!app->enabled) return done(Refused{cc::kAppDisabled, cm::kAppDisabled});
  if (app->allowed_origins.has_value() && !app->allowed_origins->empty() &&
      !apps::OriginAllowed(*app->allowed_origins, origin.value_or(""))) {
    return done(Refused{cc::kUnauthorized, cm::kOriginNotAllowed});
  }
  if (app->max_connections <= 0) return done(Register(node, std::move(app), 0));
  // The quota counts the whole cluster: this node's share is checked atomically when the id is
  // registered, the others' (a snapshot) shrink the room it may use.
  node.adapter->CountRemoteConnections(
      app->id, [&node, app, done = std::move(done)](adapter::Answer<int64_t> remote) mutable {
        const int64_t room = app->max_connections - remote.value;
        if (room <= 0) return done(Refused{cc::kOverQuota, cm::kOverQuota});
        done(Register(node, std::move(app), room));
      });
}

}  // namespace sockudo::dataplane::connection
