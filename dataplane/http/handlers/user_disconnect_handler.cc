// POST /apps/{app_id}/users/{user_id}/terminate_connections and force_reconnect: every socket
// signed in as the user, on every node.
#include "common/protocol/close_codes.h"
#include "dataplane/http/handlers/handlers.h"

namespace sockudo::dataplane::http::handlers {

void HandleUserDisconnect(const ApiCall& call, const std::string& user_id, int code,
                          Respond respond) {
  const char* message = code == protocol::close_code::kUnauthorized
                            ? protocol::close_message::kTerminated
                            : protocol::close_message::kForceReconnect;
  // Best effort across nodes: only a request that could not be sent fails the call.
  call.node.adapter->DisconnectUser(
      call.app->id, user_id, code, message, [respond = std::move(respond)](absl::Status sent) {
        if (!sent.ok()) {
          return respond(JsonError(503, "The other nodes could not be reached. Try again."));
        }
        respond(JsonOk(R"({"ok":true})"));
      });
}

}  // namespace sockudo::dataplane::http::handlers
