// File: app_changes.h
// Changes of the app set that open sockets must follow, found by comparing two snapshots: an app
// that is gone ("deleted") or switched off ("disabled"). Stores that reload on their own (the
// cache's full reload, a file reloaded on SIGHUP) report them, so a socket of an app deleted
// without an AppChanged notice reaching the node (lost on the bus, a hand-edited file) still
// closes once the change is seen.
//
//   for (const AppChange& c : ClosingChanges(before, after)) Apply(c.id, c.action, c.old_key);
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/apps/app.h"

namespace sockudo::apps {

struct AppChange {
  std::string id;
  std::string action;   // "deleted" or "disabled", as in AppChanged notices
  std::string old_key;  // the key the app had in `before`

  bool operator==(const AppChange&) const = default;
};

using AppChangeListener = std::function<void(const AppChange&)>;

// The deletions and disablings from `before` to `after`, in id order.
std::vector<AppChange> ClosingChanges(const std::vector<std::shared_ptr<const App>>& before,
                                      const std::vector<std::shared_ptr<const App>>& after);

}  // namespace sockudo::apps
