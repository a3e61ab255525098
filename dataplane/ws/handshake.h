// File: handshake.h
// The server side of the RFC 6455 opening handshake, without I/O: which upgrade requests are
// acceptable (anything else on /app/{key} is answered 400 and never upgraded) and the
// Sec-WebSocket-Accept value of an accepted one.
//
//   if (auto why = UpgradeProblem(key, version)) return Reply(400, *why);
//   Send101(AcceptKey(key));
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sockudo::dataplane::ws {

// Why an upgrade with these Sec-WebSocket-Key / Sec-WebSocket-Version values (nullopt when the
// header is missing) cannot be accepted, or nullopt when it can. The key must be the base64 of 16
// bytes (RFC 6455 §4.2.1 item 5) and the version exactly 13.
std::optional<std::string> UpgradeProblem(std::optional<std::string_view> key,
                                          std::optional<std::string_view> version);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key.
std::string AcceptKey(std::string_view client_key);

}  // namespace sockudo::dataplane::ws
