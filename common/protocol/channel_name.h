// File: channel_name.h
// Channel name rules and types of the Pusher Channels protocol: allowed characters, the length
// limit, the prefix table and the `#server-to-user-{id}` pseudo-channel. Pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace sockudo::protocol {

enum class ChannelType { kPublic, kPrivate, kPrivateEncrypted, kPresence, kServerToUser };

struct ChannelTraits {
  ChannelType type = ChannelType::kPublic;
  bool cache = false;

  bool RequiresAuth() const {
    return type == ChannelType::kPrivate || type == ChannelType::kPrivateEncrypted ||
           type == ChannelType::kPresence;
  }
  bool AllowsClientEvents() const {
    return type == ChannelType::kPrivate || type == ChannelType::kPresence;
  }
  bool IsPresence() const { return type == ChannelType::kPresence; }
};

ChannelTraits ClassifyChannel(std::string_view name);

enum class NameCheck { kOk, kTooLong, kInvalid };

// Length first (in characters), then characters; `#server-to-user-{id}` is valid with a
// non-empty id.
NameCheck CheckChannelName(std::string_view name, size_t max_length);

inline constexpr std::string_view kServerToUserPrefix = "#server-to-user-";

// The user id of a `#server-to-user-{id}` name, nullopt for any other name.
std::optional<std::string_view> ServerToUserId(std::string_view name);

// Length of a UTF-8 string in code points.
size_t Utf8Length(std::string_view s);

}  // namespace sockudo::protocol
