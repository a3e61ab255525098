#include "controlplane/auth/token_authenticator.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hmac.h"

namespace sockudo::controlplane::auth {
namespace {

constexpr std::string_view kBearer = "Bearer ";

std::string RandomKey() {
  std::string key(32, '0');
  for (char& c : key) c = static_cast<char>('a' + crypto::SecureRandom(26));
  return key;
}

}  // namespace

TokenAuthenticator::TokenAuthenticator(std::optional<std::string> token) : mac_key_(RandomKey()) {
  if (token.has_value()) expected_mac_ = crypto::HmacSha256Hex(mac_key_, *token);
}

absl::StatusOr<std::optional<std::string>> TokenAuthenticator::TokenFromConfig(
    const config::ControlPlaneConfig& config) {
  if (config.auth_token.has_value()) {
    std::string token(absl::StripAsciiWhitespace(*config.auth_token));
    if (token.empty()) return absl::InvalidArgumentError("control_plane.auth_token: empty");
    return std::optional<std::string>(std::move(token));
  }
  if (config.auth_token_file.has_value()) {
    std::ifstream in(*config.auth_token_file);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("control_plane.auth_token_file: cannot read ", *config.auth_token_file));
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string token(absl::StripAsciiWhitespace(text.str()));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("control_plane.auth_token_file: ", *config.auth_token_file, " is empty"));
    }
    return std::optional<std::string>(std::move(token));
  }
  return std::optional<std::string>();
}

absl::Status TokenAuthenticator::Check(std::string_view authorization) const {
  if (!expected_mac_.has_value()) return absl::OkStatus();
  if (authorization.empty()) {
    return absl::UnauthenticatedError("missing bearer token (Authorization: Bearer <token>)");
  }
  if (authorization.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(std::string(authorization.substr(0, kBearer.size())),
                              std::string(kBearer))) {
    return absl::UnauthenticatedError("Authorization must be \"Bearer <token>\"");
  }
  const std::string mac = crypto::HmacSha256Hex(mac_key_, authorization.substr(kBearer.size()));
  if (!crypto::ConstantTimeEquals(mac, *expected_mac_)) {
    return absl::UnauthenticatedError("invalid bearer token");
  }
  return absl::OkStatus();
}

}  // namespace sockudo::controlplane::auth
