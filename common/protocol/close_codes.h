// File: close_codes.h
// Every Pusher error/close code this server sends, with the message texts. 4001-4099: the client
// must not reconnect; 4100-4199: back off, then reconnect; 4200-4299: reconnect now.
#pragma once

namespace sockudo::protocol {

namespace close_code {
inline constexpr int kAppNotFound = 4001;
inline constexpr int kAppDisabled = 4003;
inline constexpr int kOverQuota = 4004;
inline constexpr int kUnauthorized = 4009;
inline constexpr int kOverCapacity = 4100;
inline constexpr int kReconnectNow = 4200;
inline constexpr int kPongNotReceived = 4201;
inline constexpr int kClientEventRejected = 4301;
inline constexpr int kServerError = 4302;
// WebSocket-level closes (RFC 6455 §7.4.1): close frame only, no pusher:error.
inline constexpr int kProtocolError = 1002;
inline constexpr int kInvalidPayload = 1007;
inline constexpr int kMessageTooBig = 1009;
}  // namespace close_code

namespace close_message {
inline constexpr char kServerClosing[] = "Server is closing. Please reconnect shortly.";
inline constexpr char kAppDisabled[] = "The app is not enabled.";
inline constexpr char kOriginNotAllowed[] = "Origin not allowed";
inline constexpr char kOverCapacity[] = "Over capacity";
inline constexpr char kOverQuota[] = "Application is over connection quota";
inline constexpr char kPongNotReceived[] = "Pong reply not received";
inline constexpr char kNotAuthorizedInTime[] = "Connection not authorized within timeout.";
inline constexpr char kTerminated[] = "You got disconnected by the app.";
inline constexpr char kForceReconnect[] = "Reconnect requested by the app.";
inline constexpr char kSlowConsumer[] = "Client is too slow to receive messages; reconnect later.";
inline constexpr char kSigninFailed[] = "Connection not authorized.";
}  // namespace close_message

}  // namespace sockudo::protocol
