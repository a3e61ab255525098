// File: app_store_factory.h
// Builds the app store chosen by `app_manager.driver`; fails startup for a driver that cannot run.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "common/apps/app_store.h"
#include "common/apps/writable_app_store.h"
#include "common/config/config.h"

namespace sockudo::apps {

absl::StatusOr<std::unique_ptr<AppStore>> MakeAppStore(const config::Config& config);

// The store the control plane writes: `memory` (the config's apps, changes lost on restart) or
// `file` (app_manager.file.path, atomic replace; FileAppStore::Reload on SIGHUP).
absl::StatusOr<std::unique_ptr<WritableAppStore>> MakeWritableAppStore(
    const config::Config& config);

}  // namespace sockudo::apps
