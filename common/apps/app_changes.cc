#include "common/apps/app_changes.h"

#include <algorithm>
#include <map>

namespace sockudo::apps {

std::vector<AppChange> ClosingChanges(const std::vector<std::shared_ptr<const App>>& before,
                                      const std::vector<std::shared_ptr<const App>>& after) {
  std::map<std::string_view, const App*> now;
  for (const auto& app : after) now.emplace(app->id, app.get());
  std::vector<AppChange> changes;
  for (const auto& was : before) {
    auto it = now.find(was->id);
    if (it == now.end()) {
      changes.push_back({was->id, "deleted", was->key});
    } else if (was->enabled && !it->second->enabled) {
      changes.push_back({was->id, "disabled", was->key});
    }
  }
  std::sort(changes.begin(), changes.end(),
            [](const AppChange& a, const AppChange& b) { return a.id < b.id; });
  return changes;
}

}  // namespace sockudo::apps
