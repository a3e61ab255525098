#include "dataplane/connection/admission.h"

#include "absl/strings/str_cat.h"
#include "common/apps/origin_matcher.h"
#include "dataplane/protocol/close_codes.h"

namespace sockudo::dataplane::connection {

namespace cc = protocol::close_code;
namespace cm = protocol::close_message;

std::variant<Admitted, Refused> Admit(node::NodeContext& node, std::string_view app_key,
                                      std::optional<std::string_view> origin) {
  if (node.draining.load()) return Refused{cc::kReconnectNow, cm::kServerClosing};
  auto app = node.apps.FindByKey(app_key);
  if (!app)
    return Refused{cc::kAppNotFound, "App key " + std::string(app_key) + " does not exist."};
  if (!app->enabled) return Refused{cc::kAppDisabled, cm::kAppDisabled};
  if (app->allowed_origins.has_value() && !app->allowed_origins->empty() &&
      !apps::OriginAllowed(*app->allowed_origins, origin.value_or(""))) {
    return Refused{cc::kUnauthorized, cm::kOriginNotAllowed};
  }
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string socket_id = node::NewSocketId();
    switch (node.connections.Admit(app->id, socket_id, node.config.max_connections,
                                   app->max_connections)) {
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

}  // namespace sockudo::dataplane::connection
