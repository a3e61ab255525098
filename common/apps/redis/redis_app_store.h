// File: redis_app_store.h
// The `redis` app store: records shared by every node and the control plane. Keys, with P =
// app_manager.redis.prefix and the hash tag {apps} on all of them:
//   P{apps}:app:{id} -> flat JSON record,  P{apps}:key:{key} -> id,  P{apps}:ids -> set of ids.
// Writes are one Lua script each, so a reader never sees half of one: create fails when the id
// or the key exists, update moves the key index, delete removes all three entries.
//
// Blocking: each call is one round trip on a hiredis connection with a 100 ms connect and reply
// timeout (a lost connection is dialled again on the next call). Meant for the control plane's
// request threads and for the CachedAppStore's refresher, never a node's worker thread. A Redis
// that cannot be reached makes FindBy* answer nullptr (logged, rate-limited) and writes fail
// with UNAVAILABLE. Thread-safe (one connection behind a mutex).
//
//   auto store = RedisAppStore::Connect(config.app_manager.redis, "sockudo_apps:");
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/apps/cached/cached_app_store.h"
#include "common/apps/writable_app_store.h"
#include "common/bus/redis/redis_connection.h"
#include "common/config/config.h"

struct redisContext;

namespace sockudo::apps {

class RedisAppStore : public WritableAppStore, public AppSource {
 public:
  // Connects once to check the endpoint (UNAVAILABLE naming it otherwise).
  static absl::StatusOr<std::unique_ptr<RedisAppStore>> Connect(
      const config::RedisTarget& target, std::string prefix,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(100));
  ~RedisAppStore() override;

  // AppStore
  std::shared_ptr<const App> FindByKey(std::string_view key) const override;
  std::shared_ptr<const App> FindById(std::string_view id) const override;
  std::vector<std::shared_ptr<const App>> All() const override;

  // The same lookups with the error kept (the cache tells "absent" from "unreachable").
  // nullptr with OK status: no such app.
  absl::StatusOr<std::shared_ptr<const App>> LookupById(std::string_view id) const override;
  absl::StatusOr<std::shared_ptr<const App>> LookupByKey(std::string_view key) const override;
  absl::StatusOr<std::vector<std::shared_ptr<const App>>> LoadAll() const override;

  // WritableAppStore
  absl::Status Create(App app) override;
  absl::Status Update(App app) override;
  absl::Status Delete(std::string_view id) override;

 private:
  RedisAppStore(config::RedisTarget target, std::string prefix, std::chrono::milliseconds timeout);

  std::string AppKey(std::string_view id) const;
  std::string KeyIndex(std::string_view key) const;
  std::string IdsKey() const;
  // Runs one command (reconnecting first when needed). Caller holds mu_.
  absl::StatusOr<bus::redis::RedisReply> Command(const std::vector<std::string>& argv) const;
  absl::Status EnsureConnected() const;
  absl::StatusOr<std::shared_ptr<const App>> ParseRecord(const std::string& json) const;
  absl::Status RunScript(const char* script, const std::vector<std::string>& keys,
                         const std::vector<std::string>& args, const std::string& id,
                         const std::string& key);
  void LogUnreachable(const absl::Status& status) const;

  config::RedisTarget target_;
  std::string prefix_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex mu_;
  mutable redisContext* context_ = nullptr;
  mutable std::chrono::steady_clock::time_point last_error_log_{};
};

}  // namespace sockudo::apps
