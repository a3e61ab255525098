#include "common/apps/app_store_factory.h"

#include "absl/strings/str_cat.h"
#include "common/apps/cached/cached_app_store.h"
#include "common/apps/file/file_app_store.h"
#include "common/apps/memory/memory_app_store.h"
#include "common/apps/memory/writable_memory_app_store.h"
#include "common/apps/redis/redis_app_store.h"
#include "common/base/status_macros.h"

namespace sockudo::apps {

absl::StatusOr<std::unique_ptr<AppStore>> MakeAppStore(const config::Config& config) {
  const std::string& driver = config.app_manager.driver;
  if (driver == "memory") {
    SOCKUDO_ASSIGN_OR_RETURN(auto store, MemoryAppStore::Create(config.app_manager.apps));
    return std::unique_ptr<AppStore>(std::move(store));
  }
  if (driver == "file") {
    // Read-only here, but reloadable on SIGHUP.
    SOCKUDO_ASSIGN_OR_RETURN(auto store, FileAppStore::Open(config.app_manager.file_path));
    return std::unique_ptr<AppStore>(std::move(store));
  }
  if (driver == "redis") {
    // Nodes never wait on Redis for an app: they read an in-memory copy kept current by
    // AppChanged notices.
    SOCKUDO_ASSIGN_OR_RETURN(auto redis, RedisAppStore::Connect(config.app_manager.redis,
                                                                config.app_manager.redis_prefix));
    SOCKUDO_ASSIGN_OR_RETURN(
        auto store, CachedAppStore::Create(std::move(redis),
                                           std::chrono::seconds(config.app_manager.cache_ttl)));
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
  if (driver == "redis") {
    SOCKUDO_ASSIGN_OR_RETURN(auto store, RedisAppStore::Connect(config.app_manager.redis,
                                                                config.app_manager.redis_prefix));
    return std::unique_ptr<WritableAppStore>(std::move(store));
  }
  return absl::UnimplementedError(
      absl::StrCat("app_manager.driver: \"", driver, "\" is not available in this build yet"));
}

}  // namespace sockudo::apps
