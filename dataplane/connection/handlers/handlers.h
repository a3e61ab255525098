// File: handlers.h
// One handler per client event, each in its own file. They run on the connection's worker thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/protocol/frame.h"

namespace sockudo::dataplane::connection {
class Connection;
}

namespace sockudo::dataplane::connection::handlers {

void HandlePing(Connection& c, const protocol::InboundFrame& frame);
void HandleSubscribe(Connection& c, const protocol::InboundFrame& frame);
void HandleUnsubscribe(Connection& c, const protocol::InboundFrame& frame);
void HandleSignin(Connection& c, const protocol::InboundFrame& frame);
void HandleClientEvent(Connection& c, const protocol::InboundFrame& frame,
                       std::chrono::steady_clock::time_point now);

// `data` of a subscribe/unsubscribe/signin frame as an object: old clients send the object as a
// JSON string. nullptr when it is neither.
const base::Json* DataObject(const protocol::InboundFrame& frame, base::Json& storage);

// The JSON text of `id`, member `key` of the object `object_text` that was parsed into it:
// numbers keep the text they were sent with, so 100000000000000000000000000001 neither becomes
// 1e+29 nor merges with its neighbours.
std::string IdJson(const base::Json& id, std::string_view object_text, std::string_view key);

}  // namespace sockudo::dataplane::connection::handlers
