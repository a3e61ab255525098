#include "common/crypto/pusher_signature.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "common/base/strings.h"
#include "common/crypto/hmac.h"

namespace sockudo::crypto {

std::string ClientAuth(std::string_view app_key, std::string_view secret,
                       std::string_view string_to_sign) {
  std::string out(app_key);
  out.push_back(':');
  out += HmacSha256Hex(secret, string_to_sign);
  return out;
}

bool VerifyClientAuth(std::string_view app_key, std::string_view secret, std::string_view auth,
                      std::string_view string_to_sign) {
  const size_t colon = auth.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view key = auth.substr(0, colon);
  const std::string_view signature = auth.substr(colon + 1);
  if (signature.size() != 64 || key != app_key) return false;
  return ConstantTimeEquals(signature, HmacSha256Hex(secret, string_to_sign));
}

std::string CanonicalQuery(const QueryParams& params) {
  std::map<std::string, std::string> sorted;
  for (const auto& [key, value] : params) {
    std::string lower = absl::AsciiStrToLower(key);
    if (lower == "auth_signature") continue;
    sorted[lower] = value;
  }
  std::string out;
  for (const auto& [key, value] : sorted) {
    if (!out.empty()) out.push_back('&');
    out += key;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string SignHttpRequest(std::string_view secret, std::string_view method, std::string_view path,
                            const QueryParams& params) {
  std::string to_sign = absl::AsciiStrToUpper(base::Av(method));
  to_sign.push_back('\n');
  to_sign.append(path);
  to_sign.push_back('\n');
  to_sign += CanonicalQuery(params);
  return HmacSha256Hex(secret, to_sign);
}

}  // namespace sockudo::crypto
