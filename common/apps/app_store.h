// File: app_store.h
// Where the data plane reads apps from. Drivers sit beside this interface: memory/ (config +
// default app). Implementations are thread-safe.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/apps/app.h"
#include "common/apps/app_changes.h"

namespace sockudo::apps {

class AppStore {
 public:
  virtual ~AppStore() = default;
  // WebSocket lookup: exact, case-sensitive key. nullptr when unknown.
  virtual std::shared_ptr<const App> FindByKey(std::string_view key) const = 0;
  // HTTP API lookup by path id. nullptr when unknown.
  virtual std::shared_ptr<const App> FindById(std::string_view id) const = 0;
  virtual std::vector<std::shared_ptr<const App>> All() const = 0;
  // An AppChanged notice for the app `id` whose key was `old_key`: a store that caches records
  // drops and refetches them. The default does nothing (the store reads its own source on every
  // lookup).
  virtual void Invalidate(const std::string& id, const std::string& old_key) {}
  // Stores that reload on their own (a periodic full reload) tell `listener`, on their own
  // thread, of the deletions and disablings they find (app_changes.h). The default reloads
  // nothing and never calls it.
  virtual void SetChangeListener(AppChangeListener listener) {}
};

}  // namespace sockudo::apps
