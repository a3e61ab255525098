// File: names.h
// The wire names of the logical destinations, built by plain concatenation: the default prefix
// "sockudo_adapter:" already ends in ':', so Redis names hold "::" on purpose (as Sockudo's do).
//
//   RedisChannel("sockudo_adapter:", Channel::kBroadcast)      -> "sockudo_adapter::#broadcast"
//   RedisChannel(prefix, Channel::kNodeInbox, node_id)         -> "<prefix>:#node:<node_id>"
//   NatsSubject("sockudo_adapter:", Channel::kRequests)        -> "sockudo_adapter:.requests"
//   NatsSubject(prefix, Channel::kReplyInbox, hex)             -> "_INBOX.<hex>.*"
#pragma once

#include <string>
#include <string_view>

#include "common/bus/transport.h"

namespace sockudo::bus {

// `id`: the node id for kNodeInbox, the 32-hex reply id for kReplyInbox; unused otherwise.
std::string RedisChannel(std::string_view prefix, Channel channel, std::string_view id = "");
std::string NatsSubject(std::string_view prefix, Channel channel, std::string_view id = "");
// The reply subject of one NATS request: "_INBOX.<reply hex>.<request hex>".
std::string NatsRequestInbox(std::string_view reply_hex, std::string_view request_id);

}  // namespace sockudo::bus
