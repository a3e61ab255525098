#include "common/apps/app_store_factory.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/apps/app_reader.h"
#include "common/apps/file/file_app_store.h"
#include "common/apps/memory/memory_app_store.h"
#include "common/apps/memory/writable_memory_app_store.h"
#include "common/base/status_macros.h"

namespace sockudo::apps {
namespace {

// The `file` driver's source: a JSON array of app records, read once at start.
absl::StatusOr<std::vector<App>> ReadAppsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("app_manager.file.path: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = base::ParseJson(text.str());
  if (!parsed || !parsed->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("app_manager.file.path: ", path, " is not a JSON array of apps"));
  }
  std::vector<App> apps;
  for (size_t i = 0; i < parsed->size(); ++i) {
    auto app = ReadApp((*parsed)[i]);
    if (!app.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, "[", i, "]: ", app.status().message()));
    }
    apps.push_back(*std::move(app));
  }
  return apps;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AppStore>> MakeAppStore(const config::Config& config) {
  const std::string& driver = config.app_manager.driver;
  if (driver == "memory") {
    SOCKUDO_ASSIGN_OR_RETURN(auto store, MemoryAppStore::Create(config.app_manager.apps));
    return std::unique_ptr<AppStore>(std::move(store));
  }
  if (driver == "file") {
    SOCKUDO_ASSIGN_OR_RETURN(auto apps, ReadAppsFile(config.app_manager.file_path));
    SOCKUDO_ASSIGN_OR_RETURN(auto store, MemoryAppStore::Create(std::move(apps)));
    return std::unique_ptr<AppStore>(std::move(store));
  }
  return absl::UnimplementedError(
      absl::StrCat("app_manager.driver: \"", driver, "\" is not available in this build yet"));
}

absl::StatusOr<std::unique_ptr<WritableAppStore>> MakeWritableAppStore(
    const config::Config& config) {
  const std::string& driver = config.app_manager.driver;
  if (driver == "memory") {
    SOCKUDO_ASSIGN_OR_RETURN(auto store, WritableMemoryAppStore::FromApps(config.app_manager.apps));
    return std::unique_ptr<WritableAppStore>(std::move(store));
  }
  if (driver == "file") {
    SOCKUDO_ASSIGN_OR_RETURN(auto store, FileAppStore::Open(config.app_manager.file_path));
    return std::unique_ptr<WritableAppStore>(std::move(store));
  }
  return absl::UnimplementedError(
      absl::StrCat("app_manager.driver: \"", driver, "\" is not available in this build yet"));
}

}  // namespace sockudo::apps
