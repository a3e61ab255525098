#include "common/apps/memory/memory_app_store.h"

#include "absl/strings/str_cat.h"

namespace sockudo::apps {

absl::StatusOr<std::unique_ptr<MemoryAppStore>> MemoryAppStore::Create(std::vector<App> apps) {
  std::unique_ptr<MemoryAppStore> store(new MemoryAppStore());
  for (App& app : apps) {
    auto shared = std::make_shared<const App>(std::move(app));
    if (!store->by_id_.emplace(shared->id, shared).second) {
      return absl::InvalidArgumentError(absl::StrCat("app ", shared->id, ": duplicate id"));
    }
    if (!store->by_key_.emplace(shared->key, shared).second) {
      return absl::InvalidArgumentError(absl::StrCat("app ", shared->id, ": duplicate key"));
    }
    store->apps_.push_back(std::move(shared));
  }
  return store;
}

std::shared_ptr<const App> MemoryAppStore::FindByKey(std::string_view key) const {
  auto it = by_key_.find(std::string(key));
  return it == by_key_.end() ? nullptr : it->second;
}

std::shared_ptr<const App> MemoryAppStore::FindById(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const App>> MemoryAppStore::All() const { return apps_; }

}  // namespace sockudo::apps
