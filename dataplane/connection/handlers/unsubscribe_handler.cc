#include "dataplane/connection/connection.h"
#include "dataplane/connection/handlers/handlers.h"

namespace sockudo::dataplane::connection::handlers {

void HandleUnsubscribe(Connection& c, const protocol::InboundFrame& frame) {
  base::Json storage;
  const base::Json* data = DataObject(frame, storage);
  if (data == nullptr || !data->contains("channel") || !(*data)["channel"].is_string()) {
    c.Send(
        protocol::ErrorFrame(std::nullopt, "Invalid unsubscribe: data.channel must be a string"));
    return;
  }
  // Not subscribed (or #server-to-user-*): silently nothing.
  c.RemoveSubscription((*data)["channel"].get<std::string>());
}

}  // namespace sockudo::dataplane::connection::handlers
