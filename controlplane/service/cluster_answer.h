// File: cluster_answer.h
// Turns a bus request's result into the API's ClusterAnswer (responses_received,
// expected_responses, complete), and checks the app of a cluster-wide call exists.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "common/apps/app_store.h"
#include "common/bus/request_router.h"
#include "sockudo/controlplane/v1/common.pb.h"

namespace sockudo::controlplane::service {

v1::ClusterAnswer ToClusterAnswer(const bus::RequestRouter::Result& result);

// NOT_FOUND naming apps/{id} when the store has no such app.
absl::Status RequireApp(const apps::AppStore& apps, const std::string& app_id);

}  // namespace sockudo::controlplane::service
