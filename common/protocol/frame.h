// File: frame.h
// Frames of the Pusher Channels protocol. Outbound frames are built as strings, once, and shared by
// every recipient in a SharedFrame (shared_frame.h); inbound text is parsed into an InboundFrame or
// a ParseError with the error frame to send back.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/base/json.h"
#include "common/protocol/shared_frame.h"

namespace sockudo::protocol {

// --- server -> client ----------------------------------------------------------------------
std::string ConnectionEstablishedFrame(std::string_view socket_id, int64_t activity_timeout);
// `code` nullopt renders `"code":null`; `channel` is added for client-event errors.
std::string ErrorFrame(std::optional<int> code, std::string_view message,
                       std::optional<std::string_view> channel = std::nullopt);
std::string PingFrame();
std::string PongFrame();
std::string SubscriptionSucceededFrame(std::string_view channel, std::string_view data_string);
std::string SubscriptionErrorFrame(std::string_view channel, std::string_view type,
                                   std::string_view error, int status);
std::string MemberAddedFrame(std::string_view channel, std::string_view user_id_json,
                             std::string_view user_info_json);
std::string MemberRemovedFrame(std::string_view channel, std::string_view user_id_json);
std::string SigninSuccessFrame(std::string_view user_data);
std::string WatchlistEventsFrame(const std::vector<std::string>& online,
                                 const std::vector<std::string>& offline);
std::string CacheMissFrame(std::string_view channel);
// An event published through the HTTP API: `data` is the publisher's string, sent verbatim.
std::string ChannelEventFrame(std::string_view event, std::string_view channel,
                              std::string_view data);
// A relayed client event: `data_json` is the sender's JSON value, serialized; `user_id_json`
// (presence channels only) is the sender's member id as JSON.
std::string ClientEventFrame(std::string_view event, std::string_view channel,
                             std::string_view data_json,
                             std::optional<std::string_view> user_id_json);

// --- client -> server ----------------------------------------------------------------------
struct InboundFrame {
  std::string event;
  base::Json root;  // the whole object; `data` and `channel` are read from it by handlers
};

struct ParseError {
  std::string error_frame;  // the pusher:error to send back; the connection stays open
};

std::variant<InboundFrame, ParseError> ParseInbound(std::string_view text);

}  // namespace sockudo::protocol
