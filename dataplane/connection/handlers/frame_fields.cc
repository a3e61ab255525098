// Field readers shared by the handlers: the `data` object of a frame and the text of an id.
#include "dataplane/connection/handlers/handlers.h"

namespace sockudo::dataplane::connection::handlers {

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

std::string IdJson(const base::Json& id, std::string_view object_text, std::string_view key) {
  if (id.is_number()) {
    if (auto raw = base::RawMember(object_text, key)) return std::string(*raw);
  }
  return base::Dump(id);
}

}  // namespace sockudo::dataplane::connection::handlers
