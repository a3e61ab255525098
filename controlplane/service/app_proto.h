// File: app_proto.h
// Translates between the app record (common/apps/app.h) and its API message
// (proto/sockudo/controlplane/v1/apps.proto). Input goes through the same reader as every app
// store (apps::ReadApp), so the API accepts exactly what a config file accepts; errors name the
// field as `app.<field>`. Pure functions; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/apps/app.h"
#include "sockudo/controlplane/v1/apps.pb.h"

namespace sockudo::controlplane::service {

// INVALID_ARGUMENT naming the field when the message is not a valid app.
absl::StatusOr<apps::App> AppFromProto(const v1::App& message);

// `name` is set to apps/{id}; the secret only when `include_secret`.
v1::App AppToProto(const apps::App& app, bool include_secret);

// "apps/{id}" -> id; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::string> AppIdFromName(const std::string& name, const char* field);
std::string AppName(const std::string& id);

}  // namespace sockudo::controlplane::service
