#include "controlplane/service/resource_names.h"

#include "absl/strings/str_cat.h"

namespace sockudo::controlplane::service {

absl::StatusOr<ChildName> ParseChildName(const std::string& name, const char* collection,
                                         const char* field) {
  const std::string middle = absl::StrCat("/", collection, "/");
  const size_t at = name.find(middle);
  if (name.rfind("apps/", 0) != 0 || at == std::string::npos || at <= 5 ||
      at + middle.size() >= name.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": expected apps/{app}/", collection, "/{id}, got \"", name, "\""));
  }
  ChildName out{name.substr(5, at - 5), name.substr(at + middle.size())};
  if (out.app_id.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": expected apps/{app}/", collection, "/{id}, got \"", name, "\""));
  }
  return out;
}

std::string ChildResourceName(const std::string& app_id, const char* collection,
                              const std::string& child) {
  return absl::StrCat("apps/", app_id, "/", collection, "/", child);
}

}  // namespace sockudo::controlplane::service
