// File: writable_memory_app_store.h
// A writable in-memory app store: an immutable snapshot (ids, keys) replaced as a whole on every
// write, so a lookup only copies one shared_ptr under a short lock. Writes are serialised. The
// `file` driver derives from it and persists each new snapshot before it is published.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/apps/writable_app_store.h"

namespace sockudo::apps {

class WritableMemoryAppStore : public WritableAppStore {
 public:
  // Fails (INVALID_ARGUMENT) when two apps share an id or a key.
  static absl::StatusOr<std::unique_ptr<WritableMemoryAppStore>> FromApps(std::vector<App> apps);

  // AppStore
  std::shared_ptr<const App> FindByKey(std::string_view key) const override;
  std::shared_ptr<const App> FindById(std::string_view id) const override;
  std::vector<std::shared_ptr<const App>> All() const override;

  // WritableAppStore
  absl::Status Create(App app) override;
  absl::Status Update(App app) override;
  absl::Status Delete(std::string_view id) override;

 protected:
  WritableMemoryAppStore() = default;

  struct Snapshot {
    std::vector<std::shared_ptr<const App>> apps;  // in insertion order
    std::unordered_map<std::string, std::shared_ptr<const App>> by_id;
    std::unordered_map<std::string, std::shared_ptr<const App>> by_key;
  };
  // Builds a snapshot; INVALID_ARGUMENT naming the app on a duplicate id or key.
  static absl::StatusOr<std::shared_ptr<const Snapshot>> Build(
      std::vector<std::shared_ptr<const App>> apps);

  // Called with the write lock held before `next` is published; an error aborts the write.
  virtual absl::Status Persist(const Snapshot& next) { return absl::OkStatus(); }

  // Replaces every app at once (a reload), under the write lock, without Persist.
  void ReplaceAll(std::shared_ptr<const Snapshot> next);

 private:
  std::shared_ptr<const Snapshot> Current() const;
  // Persists and publishes `apps` as the new snapshot. Caller holds write_mutex_.
  absl::Status Commit(std::vector<std::shared_ptr<const App>> apps);

  std::mutex write_mutex_;  // serialises writers (held across Persist)
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_ = std::make_shared<Snapshot>();
};

}  // namespace sockudo::apps
