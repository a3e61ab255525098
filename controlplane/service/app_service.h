// File: app_service.h
// The Apps API (proto/sockudo/controlplane/v1/apps.proto) as plain C++: validation, id / key /
// secret generation, field masks and paging over a WritableAppStore. gRPC (grpc/) and REST
// (rest/) only translate to and from it. Errors use canonical codes: INVALID_ARGUMENT naming the
// field, NOT_FOUND, ALREADY_EXISTS. Thread-safe: read-modify-write calls are serialised.
//
//   AppService service(store);
//   absl::StatusOr<v1::App> app = service.CreateApp(request);
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "common/apps/writable_app_store.h"
#include "google/protobuf/empty.pb.h"
#include "sockudo/controlplane/v1/apps.pb.h"

namespace sockudo::controlplane::service {

// What changed, for the AppChanged notice nodes act on.
struct AppChange {
  // The `action` values of AppChanged: an update that only flips `enabled` is kEnabled / kDisabled,
  // one that only replaces the secret is kSecretRotated.
  enum class Kind { kCreated, kUpdated, kDeleted, kDisabled, kEnabled, kSecretRotated };
  Kind kind;
  std::string id;
  std::string old_key;  // empty on create
  std::string new_key;  // empty on delete
};

// The wire name of a change (AppChanged `action`): "created", "updated", "deleted", "disabled",
// "enabled", "secret_rotated".
const char* AppChangeAction(AppChange::Kind kind);

class AppService {
 public:
  // Random printable token of `length` characters from [0-9a-f]; the default uses the OpenSSL
  // CSPRNG. Tests inject a deterministic one.
  using TokenGenerator = std::function<std::string(size_t length)>;
  // Called after every successful write, outside the service lock.
  using ChangeObserver = std::function<void(const AppChange&)>;

  explicit AppService(apps::WritableAppStore* store, TokenGenerator tokens = nullptr);

  // Checked before every write, under the write lock: an error (UNAVAILABLE while the bus is
  // down, so that no node misses the change) refuses the write.
  using WriteGate = std::function<absl::Status()>;

  void SetChangeObserver(ChangeObserver observer) { observer_ = std::move(observer); }
  void SetWriteGate(WriteGate gate) { gate_ = std::move(gate); }

  absl::StatusOr<v1::ListAppsResponse> ListApps(const v1::ListAppsRequest& request) const;
  absl::StatusOr<v1::App> GetApp(const v1::GetAppRequest& request) const;
  absl::StatusOr<v1::App> CreateApp(const v1::CreateAppRequest& request);
  absl::StatusOr<v1::App> UpdateApp(const v1::UpdateAppRequest& request);
  absl::StatusOr<google::protobuf::Empty> DeleteApp(const v1::DeleteAppRequest& request);
  absl::StatusOr<v1::App> RotateAppSecret(const v1::RotateAppSecretRequest& request);
  absl::StatusOr<v1::App> EnableApp(const v1::EnableAppRequest& request);
  absl::StatusOr<v1::App> DisableApp(const v1::DisableAppRequest& request);

  static constexpr int kDefaultPageSize = 50;

 private:
  absl::StatusOr<v1::App> SetEnabled(const std::string& name, bool enabled);
  void Notify(const AppChange& change) const;

  apps::WritableAppStore* store_;
  TokenGenerator tokens_;
  ChangeObserver observer_;
  WriteGate gate_;
  std::mutex write_mutex_;
};

}  // namespace sockudo::controlplane::service
