// File: app_store.h
// Where the data plane reads apps from (spec/apps.md §5). Drivers sit beside this interface:
// memory/ (config + default app). Implementations are thread-safe.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/apps/app.h"

namespace sockudo::apps {

class AppStore {
 public:
  virtual ~AppStore() = default;
  // WebSocket lookup: exact, case-sensitive key. nullptr when unknown.
  virtual std::shared_ptr<const App> FindByKey(std::string_view key) const = 0;
  // HTTP API lookup by path id. nullptr when unknown.
  virtual std::shared_ptr<const App> FindById(std::string_view id) const = 0;
  virtual std::vector<std::shared_ptr<const App>> All() const = 0;
  // An AppChanged notice for the app `id` whose key was `old_key` (spec/cluster.md §7): a store
  // that caches records drops and refetches them. The default does nothing (the store reads its
  // own source on every lookup).
  virtual void Invalidate(const std::string& id, const std::string& old_key) {}
};

}  // namespace sockudo::apps
