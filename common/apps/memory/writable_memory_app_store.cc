#include "common/apps/memory/writable_memory_app_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace sockudo::apps {

absl::StatusOr<std::unique_ptr<WritableMemoryAppStore>> WritableMemoryAppStore::FromApps(
    std::vector<App> apps) {
  std::vector<std::shared_ptr<const App>> shared;
  shared.reserve(apps.size());
  for (App& app : apps) shared.push_back(std::make_shared<const App>(std::move(app)));
  SOCKUDO_ASSIGN_OR_RETURN(auto snapshot, Build(std::move(shared)));
  std::unique_ptr<WritableMemoryAppStore> store(new WritableMemoryAppStore());
  store->snapshot_ = std::move(snapshot);
  return store;
}

absl::StatusOr<std::shared_ptr<const WritableMemoryAppStore::Snapshot>>
WritableMemoryAppStore::Build(std::vector<std::shared_ptr<const App>> apps) {
  auto next = std::make_shared<Snapshot>();
  for (auto& app : apps) {
    if (!next->by_id.emplace(app->id, app).second) {
      return absl::InvalidArgumentError(absl::StrCat("app ", app->id, ": duplicate id"));
    }
    if (!next->by_key.emplace(app->key, app).second) {
      return absl::InvalidArgumentError(absl::StrCat("app ", app->id, ": duplicate key"));
    }
  }
  next->apps = std::move(apps);
  return std::shared_ptr<const Snapshot>(std::move(next));
}

std::shared_ptr<const WritableMemoryAppStore::Snapshot> WritableMemoryAppStore::Current() const {
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  return snapshot_;
}

void WritableMemoryAppStore::ReplaceAll(std::shared_ptr<const Snapshot> next) {
  std::lock_guard<std::mutex> write(write_mutex_);
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  snapshot_ = std::move(next);
}

std::shared_ptr<const App> WritableMemoryAppStore::FindByKey(std::string_view key) const {
  auto snapshot = Current();
  auto it = snapshot->by_key.find(std::string(key));
  return it == snapshot->by_key.end() ? nullptr : it->second;
}

std::shared_ptr<const App> WritableMemoryAppStore::FindById(std::string_view id) const {
  auto snapshot = Current();
  auto it = snapshot->by_id.find(std::string(id));
  return it == snapshot->by_id.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const App>> WritableMemoryAppStore::All() const {
  return Current()->apps;
}

absl::Status WritableMemoryAppStore::Commit(std::vector<std::shared_ptr<const App>> apps) {
  SOCKUDO_ASSIGN_OR_RETURN(auto next, Build(std::move(apps)));
  SOCKUDO_RETURN_IF_ERROR(Persist(*next));
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  snapshot_ = std::move(next);
  return absl::OkStatus();
}

absl::Status WritableMemoryAppStore::Create(App app) {
  std::lock_guard<std::mutex> write(write_mutex_);
  auto current = Current();
  if (current->by_id.count(app.id) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("app ", app.id, " already exists"));
  }
  if (current->by_key.count(app.key) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("key ", app.key, " belongs to another app"));
  }
  auto apps = current->apps;
  apps.push_back(std::make_shared<const App>(std::move(app)));
  return Commit(std::move(apps));
}

absl::Status WritableMemoryAppStore::Update(App app) {
  std::lock_guard<std::mutex> write(write_mutex_);
  auto current = Current();
  if (current->by_id.count(app.id) == 0) {
    return absl::NotFoundError(absl::StrCat("app ", app.id, " not found"));
  }
  auto owner = current->by_key.find(app.key);
  if (owner != current->by_key.end() && owner->second->id != app.id) {
    return absl::AlreadyExistsError(absl::StrCat("key ", app.key, " belongs to another app"));
  }
  auto apps = current->apps;
  for (auto& existing : apps) {
    if (existing->id == app.id) {
      existing = std::make_shared<const App>(std::move(app));
      break;
    }
  }
  return Commit(std::move(apps));
}

absl::Status WritableMemoryAppStore::Delete(std::string_view id) {
  std::lock_guard<std::mutex> write(write_mutex_);
  auto current = Current();
  if (current->by_id.count(std::string(id)) == 0) {
    return absl::NotFoundError(absl::StrCat("app ", std::string(id), " not found"));
  }
  std::vector<std::shared_ptr<const App>> apps;
  apps.reserve(current->apps.size());
  for (const auto& existing : current->apps) {
    if (existing->id != id) apps.push_back(existing);
  }
  return Commit(std::move(apps));
}

}  // namespace sockudo::apps
