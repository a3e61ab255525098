// File: status_convert.h
// absl::Status <-> grpc::Status (the canonical codes are numbered alike).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sockudo::controlplane::grpc_api {

inline ::grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return ::grpc::Status::OK;
  return ::grpc::Status(static_cast<::grpc::StatusCode>(status.code()),
                        std::string(status.message()));
}

}  // namespace sockudo::controlplane::grpc_api
