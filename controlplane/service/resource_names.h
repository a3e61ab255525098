// File: resource_names.h
// Resource names below an app: `apps/{app}/users/{user}` and `apps/{app}/channels/{channel}`.
// The last part may contain '/' only for channels (Pusher channel names cannot, but the parser
// keeps everything after the collection id). Errors are INVALID_ARGUMENT naming `field`.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace sockudo::controlplane::service {

struct ChildName {
  std::string app_id;
  std::string child;  // user id or channel name
};

// `collection` is "users" or "channels".
absl::StatusOr<ChildName> ParseChildName(const std::string& name, const char* collection,
                                         const char* field);
std::string ChildResourceName(const std::string& app_id, const char* collection,
                              const std::string& child);

}  // namespace sockudo::controlplane::service
