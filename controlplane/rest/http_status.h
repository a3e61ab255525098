// File: http_status.h
// Canonical status code -> HTTP status, as Google's REST mapping does (google/rpc/code.proto), and
// the JSON error body {"error":{"code":404,"message":"...","status":"NOT_FOUND"}}.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace sockudo::controlplane::rest {

int HttpStatusFor(absl::StatusCode code);
std::string ErrorJson(const absl::Status& status);

}  // namespace sockudo::controlplane::rest
