// File: rpc_status.h
// sockudoctl's exit codes and the names of gRPC status codes as the API documents them.
#pragma once

#include <string>

#include "grpcpp/support/status.h"

namespace sockudo::cli::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;  // the server (or the local config file) said no
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitUnreachable = 3;  // no server answered at the address

// "NOT_FOUND", "UNAUTHENTICATED", ...
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace sockudo::cli::client
