#include "controlplane/service/app_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/status_macros.h"
#include "common/crypto/hmac.h"
#include "controlplane/service/app_proto.h"
#include "controlplane/service/pager.h"
#include "google/protobuf/util/field_mask_util.h"

namespace sockudo::controlplane::service {
namespace {

using google::protobuf::FieldMask;
using google::protobuf::util::FieldMaskUtil;

constexpr size_t kIdLength = 16;
constexpr size_t kKeyLength = 20;
constexpr size_t kSecretLength = 40;

std::string RandomHex(size_t length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(length, '0');
  for (char& c : out) c = kHex[crypto::SecureRandom(16)];
  return out;
}

// Ids and keys travel in URL paths (`/apps/{id}`, `/app/{key}`, `/v1/apps/{id}:verb`).
absl::Status CheckIdentifier(const std::string& value, const char* field) {
  for (char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": only letters, digits, '_', '.' and '-' are allowed"));
    }
  }
  return absl::OkStatus();
}

// Fields a mask may not name: identity is fixed, `name` is output only.
absl::Status CheckMaskPath(const std::string& path) {
  if (path == "name" || path == "id") {
    return absl::InvalidArgumentError(absl::StrCat("update_mask: ", path, " cannot be changed"));
  }
  return absl::OkStatus();
}

// The fields present in `app` (an empty mask means "what was given"), minus name and id.
FieldMask MaskOfSetFields(const v1::App& app) {
  FieldMask mask;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  app.GetReflection()->ListFields(app, &fields);
  for (const auto* field : fields) {
    if (field->name() == "name" || field->name() == "id") continue;
    mask.add_paths(field->name());
  }
  return mask;
}

}  // namespace

const char* AppChangeAction(AppChange::Kind kind) {
  switch (kind) {
    case AppChange::Kind::kCreated:
      return "created";
    case AppChange::Kind::kUpdated:
      return "updated";
    case AppChange::Kind::kDeleted:
      return "deleted";
    case AppChange::Kind::kDisabled:
      return "disabled";
    case AppChange::Kind::kEnabled:
      return "enabled";
    case AppChange::Kind::kSecretRotated:
      return "secret_rotated";
  }
  return "updated";
}

AppService::AppService(apps::WritableAppStore* store, TokenGenerator tokens)
    : store_(store), tokens_(tokens ? std::move(tokens) : TokenGenerator(RandomHex)) {}

void AppService::Notify(const AppChange& change) const {
  if (observer_) observer_(change);
}

absl::StatusOr<v1::ListAppsResponse> AppService::ListApps(
    const v1::ListAppsRequest& request) const {
  SOCKUDO_ASSIGN_OR_RETURN(Pager pager, Pager::Make(request.page_size(), request.page_token(),
                                                    kDefaultPageSize, "ListApps"));
  auto all = store_->All();
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  v1::ListAppsResponse response;
  for (const auto& app : all) {
    if (pager.Take(app->id)) *response.add_apps() = AppToProto(*app, /*include_secret=*/false);
  }
  response.set_total_size(pager.total());
  response.set_next_page_token(pager.next_page_token());
  return response;
}

absl::StatusOr<v1::App> AppService::GetApp(const v1::GetAppRequest& request) const {
  SOCKUDO_ASSIGN_OR_RETURN(std::string id, AppIdFromName(request.name(), "name"));
  auto app = store_->FindById(id);
  if (!app) return absl::NotFoundError(absl::StrCat("app ", id, " not found"));
  return AppToProto(*app, /*include_secret=*/false);
}

absl::StatusOr<v1::App> AppService::CreateApp(const v1::CreateAppRequest& request) {
  if (!request.has_app()) return absl::InvalidArgumentError("app: required");
  v1::App message = request.app();
  if (!request.app_id().empty()) {
    if (!message.id().empty() && message.id() != request.app_id()) {
      return absl::InvalidArgumentError("app_id: differs from app.id");
    }
    message.set_id(request.app_id());
  }
  SOCKUDO_RETURN_IF_ERROR(CheckIdentifier(message.id(), "app.id"));
  SOCKUDO_RETURN_IF_ERROR(CheckIdentifier(message.key(), "app.key"));
  const bool generated_id = message.id().empty();
  const bool generated_key = message.key().empty();
  if (generated_id) message.set_id(tokens_(kIdLength));
  if (generated_key) message.set_key(tokens_(kKeyLength));
  if (message.secret().empty()) message.set_secret(tokens_(kSecretLength));
  if (!message.has_enabled()) message.set_enabled(true);
  SOCKUDO_ASSIGN_OR_RETURN(apps::App app, AppFromProto(message));
  {
    std::lock_guard<std::mutex> lock(write_mutex_);
    if (gate_) SOCKUDO_RETURN_IF_ERROR(gate_());
    absl::Status status = store_->Create(app);
    // A generated id or key that collides is retried once with fresh randomness.
    if (absl::IsAlreadyExists(status) && (generated_id || generated_key)) {
      if (generated_id) app.id = tokens_(kIdLength);
      if (generated_key) app.key = tokens_(kKeyLength);
      status = store_->Create(app);
    }
    SOCKUDO_RETURN_IF_ERROR(status);
  }
  Notify({AppChange::Kind::kCreated, app.id, "", app.key});
  return AppToProto(app, /*include_secret=*/true);
}

absl::StatusOr<v1::App> AppService::UpdateApp(const v1::UpdateAppRequest& request) {
  if (!request.has_app()) return absl::InvalidArgumentError("app: required");
  std::string id;
  if (!request.app().name().empty()) {
    SOCKUDO_ASSIGN_OR_RETURN(id, AppIdFromName(request.app().name(), "app.name"));
    if (!request.app().id().empty() && request.app().id() != id) {
      return absl::InvalidArgumentError("app.id: differs from app.name");
    }
  } else if (!request.app().id().empty()) {
    id = request.app().id();
  } else {
    return absl::InvalidArgumentError("app.name: required");
  }
  FieldMask mask = request.has_update_mask() && request.update_mask().paths_size() > 0
                       ? request.update_mask()
                       : MaskOfSetFields(request.app());
  for (const std::string& path : mask.paths()) {
    SOCKUDO_RETURN_IF_ERROR(CheckMaskPath(path));
    if (!FieldMaskUtil::GetFieldDescriptors(v1::App::descriptor(), path, nullptr)) {
      return absl::InvalidArgumentError(absl::StrCat("update_mask: unknown field \"", path, "\""));
    }
  }
  if (mask.paths_size() == 0) return absl::InvalidArgumentError("update_mask: names no field");
  if (FieldMaskUtil::IsPathInFieldMask("key", mask)) {
    SOCKUDO_RETURN_IF_ERROR(CheckIdentifier(request.app().key(), "app.key"));
  }

  apps::App updated;
  std::string old_key;
  bool was_enabled = true;
  {
    std::lock_guard<std::mutex> lock(write_mutex_);
    if (gate_) SOCKUDO_RETURN_IF_ERROR(gate_());
    auto current = store_->FindById(id);
    if (!current) return absl::NotFoundError(absl::StrCat("app ", id, " not found"));
    old_key = current->key;
    was_enabled = current->enabled;
    v1::App merged = AppToProto(*current, /*include_secret=*/true);
    FieldMaskUtil::MergeOptions options;
    options.set_replace_message_fields(true);
    options.set_replace_repeated_fields(true);
    FieldMaskUtil::MergeMessageTo(request.app(), mask, options, &merged);
    SOCKUDO_ASSIGN_OR_RETURN(updated, AppFromProto(merged));
    SOCKUDO_RETURN_IF_ERROR(store_->Update(updated));
  }
  // Disabling through an update closes the app's sockets like DisableApp does.
  AppChange::Kind kind = AppChange::Kind::kUpdated;
  if (was_enabled && !updated.enabled) kind = AppChange::Kind::kDisabled;
  Notify({kind, updated.id, old_key, updated.key});
  return AppToProto(updated, /*include_secret=*/false);
}

absl::StatusOr<google::protobuf::Empty> AppService::DeleteApp(const v1::DeleteAppRequest& request) {
  SOCKUDO_ASSIGN_OR_RETURN(std::string id, AppIdFromName(request.name(), "name"));
  std::string old_key;
  {
    std::lock_guard<std::mutex> lock(write_mutex_);
    if (gate_) SOCKUDO_RETURN_IF_ERROR(gate_());
    auto current = store_->FindById(id);
    if (!current) return absl::NotFoundError(absl::StrCat("app ", id, " not found"));
    old_key = current->key;
    SOCKUDO_RETURN_IF_ERROR(store_->Delete(id));
  }
  Notify({AppChange::Kind::kDeleted, id, old_key, ""});
  return google::protobuf::Empty();
}

absl::StatusOr<v1::App> AppService::RotateAppSecret(const v1::RotateAppSecretRequest& request) {
  SOCKUDO_ASSIGN_OR_RETURN(std::string id, AppIdFromName(request.name(), "name"));
  apps::App updated;
  {
    std::lock_guard<std::mutex> lock(write_mutex_);
    if (gate_) SOCKUDO_RETURN_IF_ERROR(gate_());
    auto current = store_->FindById(id);
    if (!current) return absl::NotFoundError(absl::StrCat("app ", id, " not found"));
    updated = *current;
    updated.secret = tokens_(kSecretLength);
    SOCKUDO_RETURN_IF_ERROR(store_->Update(updated));
  }
  Notify({AppChange::Kind::kSecretRotated, updated.id, updated.key, updated.key});
  return AppToProto(updated, /*include_secret=*/true);
}

absl::StatusOr<v1::App> AppService::EnableApp(const v1::EnableAppRequest& request) {
  return SetEnabled(request.name(), true);
}

absl::StatusOr<v1::App> AppService::DisableApp(const v1::DisableAppRequest& request) {
  return SetEnabled(request.name(), false);
}

absl::StatusOr<v1::App> AppService::SetEnabled(const std::string& name, bool enabled) {
  SOCKUDO_ASSIGN_OR_RETURN(std::string id, AppIdFromName(name, "name"));
  apps::App updated;
  {
    std::lock_guard<std::mutex> lock(write_mutex_);
    if (gate_) SOCKUDO_RETURN_IF_ERROR(gate_());
    auto current = store_->FindById(id);
    if (!current) return absl::NotFoundError(absl::StrCat("app ", id, " not found"));
    updated = *current;
    updated.enabled = enabled;
    SOCKUDO_RETURN_IF_ERROR(store_->Update(updated));
  }
  Notify({enabled ? AppChange::Kind::kEnabled : AppChange::Kind::kDisabled, updated.id, updated.key,
          updated.key});
  return AppToProto(updated, /*include_secret=*/false);
}

}  // namespace sockudo::controlplane::service
