#include "dataplane/connection/connection.h"
#include "dataplane/connection/handlers/handlers.h"

namespace sockudo::dataplane::connection::handlers {

void HandlePing(Connection& c, const protocol::InboundFrame& /*frame*/) {
  c.Send(protocol::PongFrame());
}

}  // namespace sockudo::dataplane::connection::handlers
