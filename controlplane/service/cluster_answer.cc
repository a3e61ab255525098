#include "controlplane/service/cluster_answer.h"

#include "absl/strings/str_cat.h"

namespace sockudo::controlplane::service {

v1::ClusterAnswer ToClusterAnswer(const bus::RequestRouter::Result& result) {
  v1::ClusterAnswer answer;
  answer.set_responses_received(static_cast<int32_t>(result.responses.size()));
  answer.set_expected_responses(static_cast<int32_t>(result.expected));
  answer.set_complete(result.complete);
  return answer;
}

absl::Status RequireApp(const apps::AppStore& apps, const std::string& app_id) {
  if (apps.FindById(app_id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("apps/", app_id, ": no such app"));
  }
  return absl::OkStatus();
}

}  // namespace sockudo::controlplane::service
