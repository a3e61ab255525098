#include "common/bus/names.h"

namespace sockudo::bus {

namespace {

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

}  // namespace

std::string_view ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kBroadcast:
      return "broadcast";
    case Channel::kRequests:
      return "requests";
    case Channel::kResponses:
      return "responses";
    case Channel::kNodeInbox:
      return "node";
    case Channel::kReplyInbox:
      return "reply";
  }
  return "unknown";
}

std::string RedisChannel(std::string_view prefix, Channel channel, std::string_view id) {
  switch (channel) {
    case Channel::kNodeInbox:
      return Cat({prefix, ":#node:", id});
    case Channel::kReplyInbox:
      return Cat({prefix, ":#reply:", id});
    default:
      return Cat({prefix, ":#", ChannelName(channel)});
  }
}

std::string NatsSubject(std::string_view prefix, Channel channel, std::string_view id) {
  switch (channel) {
    case Channel::kNodeInbox:
      return Cat({prefix, ".node.", id});
    case Channel::kReplyInbox:
      return Cat({"_INBOX.", id, ".*"});
    default:
      return Cat({prefix, ".", ChannelName(channel)});
  }
}

std::string NatsRequestInbox(std::string_view reply_hex, std::string_view request_id) {
  // Request ids are UUIDs; the subject token is their 32 hex digits.
  std::string out = Cat({"_INBOX.", reply_hex, "."});
  for (char c : request_id) {
    if (c != '-') out.push_back(c);
  }
  return out;
}

}  // namespace sockudo::bus
