#include "dataplane/connection/connection.h"
#include "dataplane/connection/handlers/handlers.h"

namespace sockudo::dataplane::connection::handlers {

void HandlePing(Connection& c, const protocol::InboundFrame& /*frame*/) {
  c.Send(protocol::PongFrame());
}

const base::Json* DataObject(const protocol::InboundFrame& frame, base::Json& storage) {
  auto it = frame.root.find("data");
  if (it == frame.root.end()) return nullptr;
  if (it->is_object()) return &*it;
  if (it->is_string()) {
    auto parsed = base::ParseJson(it->get_ref<const std::string&>());
    if (parsed.has_value() && parsed->is_object()) {
      storage = std::move(*parsed);
      return &storage;
    }
  }
  return nullptr;
}

}  // namespace sockudo::dataplane::connection::handlers
