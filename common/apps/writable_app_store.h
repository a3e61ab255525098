// File: writable_app_store.h
// An AppStore the control plane can write: create, replace and delete whole records. Drivers:
// memory/writable_memory_app_store.h (lost on restart) and file/file_app_store.h (a JSON file,
// atomic replace). Implementations are thread-safe; a reader never sees a half-applied write.
//
//   SOCKUDO_RETURN_IF_ERROR(store.Create(app));   // ALREADY_EXISTS when the id or key is taken
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "common/apps/app_store.h"

namespace sockudo::apps {

class WritableAppStore : public AppStore {
 public:
  // ALREADY_EXISTS when another app has the id or the key.
  virtual absl::Status Create(App app) = 0;
  // Replaces the record with app.id. NOT_FOUND when there is none; ALREADY_EXISTS when the new
  // key belongs to another app.
  virtual absl::Status Update(App app) = 0;
  // NOT_FOUND when there is no app with `id`.
  virtual absl::Status Delete(std::string_view id) = 0;
};

}  // namespace sockudo::apps
