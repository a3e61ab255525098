// File: adapter.h
// How a node reaches every socket of an app, wherever it is (ARCHITECTURE.md "Adapter"):
// delivery of ready frames to a channel or a user, user disconnects, and the counting queries
// behind the HTTP API. The `local` driver (local_adapter.h) serves one node; the horizontal
// adapter will wrap a bus driver and fan the same calls out to the other nodes.
//
// Delivery calls return at once: the frame is queued to every local worker in call order.
// Query answers arrive through a callback, which may run on another thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/protocol/frame.h"

namespace sockudo::dataplane::adapter {

struct ChannelCounts {
  size_t subscription_count = 0;
  size_t user_count = 0;  // distinct presence members (presence channels)
};

class Adapter {
 public:
  virtual ~Adapter() = default;

  // Every socket subscribed to `channel` except `except_socket_id` ("" excludes none).
  virtual void Broadcast(const std::string& app_id, const std::string& channel,
                         protocol::SharedFrame frame, const std::string& except_socket_id) = 0;
  // Every socket signed in as `user_id`, except `except_socket_id`.
  virtual void SendToUser(const std::string& app_id, const std::string& user_id,
                          protocol::SharedFrame frame, const std::string& except_socket_id) = 0;
  // Closes every socket signed in as `user_id` with `code` (error frame, then close frame).
  virtual void DisconnectUser(const std::string& app_id, const std::string& user_id, int code,
                              const std::string& message) = 0;

  virtual void GetChannel(const std::string& app_id, const std::string& channel,
                          std::function<void(ChannelCounts)> done) = 0;
  virtual void GetChannels(
      const std::string& app_id, const std::string& prefix,
      std::function<void(std::vector<std::pair<std::string, ChannelCounts>>)> done) = 0;
  // user_id JSON values of the distinct members of a presence channel.
  virtual void GetPresenceMembers(const std::string& app_id, const std::string& channel,
                                  std::function<void(std::vector<std::string>)> done) = 0;
  virtual void GetAppConnectionCount(const std::string& app_id,
                                     std::function<void(int64_t)> done) = 0;
};

}  // namespace sockudo::dataplane::adapter
