// File: token_authenticator.h
// Bearer-token check shared by the gRPC and REST adapters. The expected token comes from
// control_plane.auth_token, CONTROL_PLANE_TOKEN or the file control_plane.auth_token_file
// (trimmed). Tokens are compared as HMACs of equal length in constant time, so neither the position
// of the first difference nor the token's length leaks. Without a token (embedded mode on 127.0.0.1
// only) every call is accepted. Immutable after construction; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/config/config.h"

namespace sockudo::controlplane::auth {

class TokenAuthenticator {
 public:
  // nullopt: no token configured, calls are not checked.
  explicit TokenAuthenticator(std::optional<std::string> token);

  // Resolves the token from config (auth_token, else the trimmed content of auth_token_file).
  // Errors name the key; an empty token is an error.
  static absl::StatusOr<std::optional<std::string>> TokenFromConfig(
      const config::ControlPlaneConfig& config);

  // `authorization` is the Authorization header / metadata value ("Bearer <token>").
  // UNAUTHENTICATED when it is missing, malformed or wrong.
  absl::Status Check(std::string_view authorization) const;

  bool enabled() const { return expected_mac_.has_value(); }

 private:
  std::optional<std::string> expected_mac_;
  std::string mac_key_;
};

}  // namespace sockudo::controlplane::auth
