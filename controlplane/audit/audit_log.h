// File: audit_log.h
// One line per control-plane call on the `audit` logger: who (authenticated principal and peer),
// what (transport, method, resource) and the outcome (canonical code and message). Never logs
// request bodies or secrets. Thread-safe.
//
//   audit::Record({.transport = "rest", .peer = "127.0.0.1:5123", .principal = "token",
//                  .method = "CreateApp", .resource = "apps/x"}, status);
#pragma once

#include <string>

#include "absl/status/status.h"

namespace sockudo::controlplane::audit {

struct Call {
  std::string transport;  // "grpc" | "rest"
  std::string peer;       // client address
  std::string principal;  // "token" when authenticated with the bearer token, "anonymous" else
  std::string method;     // RPC name, e.g. "UpdateApp"
  std::string resource;   // e.g. "apps/my-app"; empty for collection calls
};

void Record(const Call& call, const absl::Status& outcome);

}  // namespace sockudo::controlplane::audit
