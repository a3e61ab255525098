#include "common/bus/redis/bus_channels.h"

#include <utility>

#include "common/bus/names.h"

namespace sockudo::bus::redis {

BusChannels::BusChannels(std::string prefix)
    : prefix_(std::move(prefix)),
      broadcast_(RedisChannel(prefix_, Channel::kBroadcast)),
      requests_(RedisChannel(prefix_, Channel::kRequests)),
      responses_(RedisChannel(prefix_, Channel::kResponses)) {}

void BusChannels::Bind(const Identity& identity) {
  node_inbox_ = NodeInbox(identity.node_id);
  reply_inbox_ = RedisChannel(prefix_, Channel::kReplyInbox, identity.reply_hex);
  subscriptions_ = identity.observer ? std::vector<std::string>{requests_, reply_inbox_}
                                     : std::vector<std::string>{broadcast_, requests_, responses_,
                                                                node_inbox_, reply_inbox_};
}

std::string BusChannels::NodeInbox(std::string_view node_id) const {
  return RedisChannel(prefix_, Channel::kNodeInbox, node_id);
}

std::optional<Channel> BusChannels::Classify(std::string_view channel) const {
  if (channel == broadcast_) return Channel::kBroadcast;
  if (channel == requests_) return Channel::kRequests;
  if (channel == responses_) return Channel::kResponses;
  if (channel == node_inbox_) return Channel::kNodeInbox;
  if (channel == reply_inbox_) return Channel::kReplyInbox;
  return std::nullopt;
}

}  // namespace sockudo::bus::redis
