#include "common/protocol/channel_name.h"

namespace sockudo::protocol {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ValidChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '=' || c == '@' || c == ',' || c == '.' || c == ';';
}

}  // namespace

ChannelTraits ClassifyChannel(std::string_view name) {
  if (StartsWith(name, kServerToUserPrefix)) return {ChannelType::kServerToUser, false};
  if (StartsWith(name, "private-encrypted-cache-")) return {ChannelType::kPrivateEncrypted, true};
  if (StartsWith(name, "private-encrypted-")) return {ChannelType::kPrivateEncrypted, false};
  if (StartsWith(name, "private-cache-")) return {ChannelType::kPrivate, true};
  if (StartsWith(name, "private-")) return {ChannelType::kPrivate, false};
  if (StartsWith(name, "presence-cache-")) return {ChannelType::kPresence, true};
  if (StartsWith(name, "presence-")) return {ChannelType::kPresence, false};
  if (StartsWith(name, "cache-")) return {ChannelType::kPublic, true};
  return {ChannelType::kPublic, false};
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::optional<std::string_view> ServerToUserId(std::string_view name) {
  if (!StartsWith(name, kServerToUserPrefix) || name.size() == kServerToUserPrefix.size()) {
    return std::nullopt;
  }
  return name.substr(kServerToUserPrefix.size());
}

NameCheck CheckChannelName(std::string_view name, size_t max_length) {
  if (name.empty()) return NameCheck::kInvalid;
  if (Utf8Length(name) > max_length) return NameCheck::kTooLong;
  if (StartsWith(name, kServerToUserPrefix)) {
    return ServerToUserId(name).has_value() ? NameCheck::kOk : NameCheck::kInvalid;
  }
  for (char c : name) {
    if (!ValidChar(c)) return NameCheck::kInvalid;
  }
  return NameCheck::kOk;
}

}  // namespace sockudo::protocol
