// File: file_app_store.h
// The `file` app store (app_manager.file.path): a JSON array of flat app records. Read at Open;
// every write replaces the file atomically (write a temporary file beside it, fsync, rename) before
// the new set becomes visible, so a crash leaves either the old or the new file. Reload() re-reads
// it (on SIGHUP); when the file is unreadable or invalid the old set stays and the error is
// returned; the apps a reload finds deleted or disabled go to the change listener. Thread-safe.
//
//   SOCKUDO_ASSIGN_OR_RETURN(auto store, FileAppStore::Open("config/apps.json"));
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/apps/memory/writable_memory_app_store.h"

namespace sockudo::apps {

class FileAppStore : public WritableMemoryAppStore {
 public:
  // Fails (naming the path) when the file is missing, unreadable or not a valid app array.
  static absl::StatusOr<std::unique_ptr<FileAppStore>> Open(std::string path);

  // Re-reads the file. On error the current apps stay.
  absl::Status Reload();
  // Told of what Reload finds deleted or disabled (an edit by hand sends no AppChanged).
  void SetChangeListener(AppChangeListener listener) override;

  const std::string& path() const { return path_; }

  // Reads and validates an apps file without opening a store.
  static absl::StatusOr<std::vector<App>> ReadFile(const std::string& path);

 protected:
  // WritableMemoryAppStore
  absl::Status Persist(const Snapshot& next) override;

 private:
  explicit FileAppStore(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::mutex listener_mu_;
  AppChangeListener changes_;
};

}  // namespace sockudo::apps
