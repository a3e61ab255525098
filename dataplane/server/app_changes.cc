#include "dataplane/server/app_changes.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "common/protocol/close_codes.h"
#include "dataplane/connection/connection.h"

namespace sockudo::dataplane::server {

size_t ApplyAppChange(node::NodeContext& node, const std::string& app_id, std::string_view action,
                      const std::string& old_key) {
  namespace cc = protocol::close_code;
  const bool deleted = action == "deleted";
  const bool disabled = action == "disabled";
  base::Logger("apps")->info("app {}: {}", app_id, std::string(action));
  if ((!deleted && !disabled) || node.workers == nullptr) return 0;
  const int code = deleted ? cc::kAppNotFound : cc::kAppDisabled;
  const std::string message = deleted ? absl::StrCat("App key ", old_key, " does not exist.")
                                      : std::string(protocol::close_message::kAppDisabled);
  const size_t n = node.workers->size();
  for (size_t i = 0; i < n; ++i) {
    node.workers->Post(i, [app_id, code, message](node::WorkerState& state) {
      // Closing edits state.connections: collect first.
      std::vector<connection::Connection*> doomed;
      for (const auto& [serial, c] : state.connections) {
        if (!c->closed() && c->app().id == app_id) doomed.push_back(c);
      }
      for (connection::Connection* c : doomed) c->CloseWithError(code, message);
    });
  }
  return n;
}

}  // namespace sockudo::dataplane::server
