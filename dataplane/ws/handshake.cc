#include "dataplane/ws/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace sockudo::dataplane::ws {
namespace {

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// 16 bytes encode to 22 base64 characters and "==". The last character before the padding
// carries only 2 bits of data, so its low 4 bits must be zero: one of A, Q, g, w.
bool IsSixteenBytesBase64(std::string_view key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i) {
    if (!IsBase64Char(key[i])) return false;
  }
  const char last = key[21];
  return last == 'A' || last == 'Q' || last == 'g' || last == 'w';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> UpgradeProblem(std::optional<std::string_view> key,
                                          std::optional<std::string_view> version) {
  if (!version.has_value()) return "Missing Sec-WebSocket-Version (expected 13)";
  if (Trim(*version) != "13") return "Unsupported Sec-WebSocket-Version (expected 13)";
  if (!key.has_value()) return "Missing Sec-WebSocket-Key";
  if (!IsSixteenBytesBase64(Trim(*key)))
    return "Invalid Sec-WebSocket-Key (expected the base64 of 16 bytes)";
  return std::nullopt;
}

std::string AcceptKey(std::string_view client_key) {
  static constexpr char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(Trim(client_key));
  input += kGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(encoded), static_cast<size_t>(n));
}

}  // namespace sockudo::dataplane::ws
