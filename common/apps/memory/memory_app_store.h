// File: memory_app_store.h
// The `memory` app store: a fixed set of apps from the config file and environment. Immutable
// after construction, so lookups need no lock.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/apps/app_store.h"

namespace sockudo::apps {

class MemoryAppStore : public AppStore {
 public:
  // Fails when two apps share an id or a key.
  static absl::StatusOr<std::unique_ptr<MemoryAppStore>> Create(std::vector<App> apps);

  // AppStore
  std::shared_ptr<const App> FindByKey(std::string_view key) const override;
  std::shared_ptr<const App> FindById(std::string_view id) const override;
  std::vector<std::shared_ptr<const App>> All() const override;

 private:
  MemoryAppStore() = default;
  std::vector<std::shared_ptr<const App>> apps_;
  std::unordered_map<std::string, std::shared_ptr<const App>> by_key_;
  std::unordered_map<std::string, std::shared_ptr<const App>> by_id_;
};

}  // namespace sockudo::apps
