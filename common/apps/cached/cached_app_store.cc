#include "common/apps/cached/cached_app_store.h"

#include <algorithm>

#include "common/base/logging.h"

namespace sockudo::apps {
namespace {

constexpr auto kMissRetry = std::chrono::seconds(1);
constexpr size_t kMaxPendingKeys = 1000;  // unknown keys waiting for a lookup

}  // namespace

absl::StatusOr<std::unique_ptr<CachedAppStore>> CachedAppStore::Create(
    std::unique_ptr<AppSource> source, std::chrono::seconds full_reload) {
  auto all = source->LoadAll();
  if (!all.ok()) return all.status();
  std::unique_ptr<CachedAppStore> store(new CachedAppStore(std::move(source), full_reload));
  {
    std::lock_guard lock(store->mu_);
    for (const auto& app : *all) store->Put(app);
  }
  store->thread_ = std::thread([s = store.get()] { s->Run(); });
  return store;
}

CachedAppStore::CachedAppStore(std::unique_ptr<AppSource> source, std::chrono::seconds full_reload)
    : source_(std::move(source)), full_reload_(full_reload) {}

CachedAppStore::~CachedAppStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CachedAppStore::SetRefreshedHook(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  refreshed_ = std::move(hook);
}

void CachedAppStore::SetChangeListener(AppChangeListener listener) {
  std::lock_guard lock(mu_);
  changes_ = std::move(listener);
}

void CachedAppStore::Put(const std::shared_ptr<const App>& app) {
  Drop(app->id);
  by_id_[app->id] = app;
  by_key_[app->key] = app;
  key_misses_.erase(app->key);
}

void CachedAppStore::Drop(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  auto key = by_key_.find(it->second->key);
  if (key != by_key_.end() && key->second->id == id) by_key_.erase(key);
  by_id_.erase(it);
}

std::shared_ptr<const App> CachedAppStore::FindById(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : it->second;
}

std::shared_ptr<const App> CachedAppStore::FindByKey(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(std::string(key));
  if (it != by_key_.end()) return it->second;
  // Unknown: look it up in the background, at most once per kMissRetry per key.
  const auto now = std::chrono::steady_clock::now();
  auto [miss, inserted] = key_misses_.try_emplace(std::string(key), now);
  if ((inserted || now - miss->second >= kMissRetry) && keys_to_fetch_.size() < kMaxPendingKeys) {
    miss->second = now;
    keys_to_fetch_.emplace_back(key);
    wake_.notify_one();
  }
  if (key_misses_.size() > 10 * kMaxPendingKeys) key_misses_.clear();
  return nullptr;
}

std::vector<std::shared_ptr<const App>> CachedAppStore::All() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const App>> out;
  out.reserve(by_id_.size());
  for (const auto& [id, app] : by_id_) out.push_back(app);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  return out;
}

void CachedAppStore::Invalidate(const std::string& id, const std::string& old_key) {
  std::lock_guard lock(mu_);
  ids_to_fetch_.push_back(id);
  if (!old_key.empty()) key_misses_.erase(old_key);
  wake_.notify_one();
}

void CachedAppStore::Run() {
  auto log = base::Logger("apps");
  auto next_reload = std::chrono::steady_clock::now() + full_reload_;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const bool reload_due =
        full_reload_.count() > 0 && std::chrono::steady_clock::now() >= next_reload;
    if (ids_to_fetch_.empty() && keys_to_fetch_.empty() && !reload_due) {
      if (full_reload_.count() > 0) {
        wake_.wait_until(lock, next_reload);
      } else {
        wake_.wait(lock);
      }
      continue;
    }
    std::function<void()> hook = refreshed_;
    std::vector<AppChange> closing;
    if (!ids_to_fetch_.empty()) {
      const std::string id = std::move(ids_to_fetch_.front());
      ids_to_fetch_.pop_front();
      lock.unlock();
      auto app = source_->LookupById(id);
      lock.lock();
      if (!app.ok()) {
        log->warn("apps/{}: cannot refresh ({}); keeping the cached record", id,
                  std::string(app.status().message()));
      } else if (*app == nullptr) {
        Drop(id);
      } else {
        Put(*app);
      }
    } else if (!keys_to_fetch_.empty()) {
      const std::string key = std::move(keys_to_fetch_.front());
      keys_to_fetch_.pop_front();
      if (by_key_.count(key) != 0) continue;
      lock.unlock();
      auto app = source_->LookupByKey(key);
      lock.lock();
      if (app.ok() && *app != nullptr) Put(*app);
    } else {
      next_reload = std::chrono::steady_clock::now() + full_reload_;
      lock.unlock();
      auto all = source_->LoadAll();
      lock.lock();
      if (!all.ok()) {
        log->warn("app cache: reload failed ({}); keeping {} cached apps",
                  std::string(all.status().message()), by_id_.size());
        continue;
      }
      std::vector<std::shared_ptr<const App>> before;
      before.reserve(by_id_.size());
      for (const auto& [id, app] : by_id_) before.push_back(app);
      closing = ClosingChanges(before, *all);
      by_id_.clear();
      by_key_.clear();
      for (const auto& app : *all) Put(app);
    }
    AppChangeListener listener = closing.empty() ? nullptr : changes_;
    if (hook || listener) {
      lock.unlock();
      if (listener) {
        for (const AppChange& c : closing) listener(c);
      }
      if (hook) hook();
      lock.lock();
    }
  }
}

}  // namespace sockudo::apps
