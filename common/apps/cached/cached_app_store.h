// File: cached_app_store.h
// What a node reads apps through when they live in a shared store: an in-memory copy of every app,
// so a lookup on a worker thread is a map lookup and never touches the network. One refresher
// thread keeps it current:
//   - all apps are loaded before the node serves (Create fails when the store cannot be read);
//   - Invalidate(id, old_key) (an AppChanged notice) refetches that app at once: new, changed,
//     deleted, a rotated secret;
//   - a key nobody knows is looked up in the background (an app created while the notice was
//     lost), at most once per second per key; the connection that asked is refused meanwhile;
//   - every `full_reload` (app_manager.cache.ttl; 0 = never) everything is reloaded, and what
//     the reload finds deleted or disabled goes to the change listener.
// While the store is unreachable the last copy keeps serving. Thread-safe.
//
//   auto cached = CachedAppStore::Create(std::move(redis_store), std::chrono::seconds(300));
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/apps/app_store.h"

namespace sockudo::apps {

// The lookups the cache needs from its source, with errors kept (nullptr + OK = absent).
class AppSource {
 public:
  virtual ~AppSource() = default;
  virtual absl::StatusOr<std::shared_ptr<const App>> LookupById(std::string_view id) const = 0;
  virtual absl::StatusOr<std::shared_ptr<const App>> LookupByKey(std::string_view key) const = 0;
  virtual absl::StatusOr<std::vector<std::shared_ptr<const App>>> LoadAll() const = 0;
};

class CachedAppStore : public AppStore {
 public:
  static absl::StatusOr<std::unique_ptr<CachedAppStore>> Create(std::unique_ptr<AppSource> source,
                                                                std::chrono::seconds full_reload);
  ~CachedAppStore() override;

  // AppStore
  std::shared_ptr<const App> FindByKey(std::string_view key) const override;
  std::shared_ptr<const App> FindById(std::string_view id) const override;
  std::vector<std::shared_ptr<const App>> All() const override;
  void Invalidate(const std::string& id, const std::string& old_key) override;
  // Told of what a full reload finds deleted or disabled (a lost AppChanged notice).
  void SetChangeListener(AppChangeListener listener) override;

  // Called on the refresher thread after each applied change (tests wait on it).
  void SetRefreshedHook(std::function<void()> hook);

 private:
  CachedAppStore(std::unique_ptr<AppSource> source, std::chrono::seconds full_reload);
  void Run();
  void Put(const std::shared_ptr<const App>& app);  // caller holds mu_
  void Drop(const std::string& id);                 // caller holds mu_

  std::unique_ptr<AppSource> source_;
  std::chrono::seconds full_reload_;

  mutable std::mutex mu_;
  mutable std::condition_variable wake_;
  std::unordered_map<std::string, std::shared_ptr<const App>> by_id_;
  std::unordered_map<std::string, std::shared_ptr<const App>> by_key_;
  mutable std::deque<std::string> ids_to_fetch_;
  mutable std::deque<std::string> keys_to_fetch_;
  mutable std::map<std::string, std::chrono::steady_clock::time_point> key_misses_;
  std::function<void()> refreshed_;
  AppChangeListener changes_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sockudo::apps
