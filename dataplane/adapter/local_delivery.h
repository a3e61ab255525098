// File: local_delivery.h
// What this node does for its own sockets, by posting one closure per worker that walks the
// worker's own index (no lock, no copy per recipient): deliver a shared frame to a channel or a
// user, close a user's sockets, and gather socket ids for the diagnostic requests. Thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/protocol/shared_frame.h"
#include "dataplane/channels/channel_registry.h"
#include "dataplane/node/worker_state.h"
#include "dataplane/users/user_registry.h"

namespace sockudo::dataplane::adapter {

class LocalDelivery {
 public:
  LocalDelivery(node::WorkerPool& workers, const channels::ChannelRegistry& channels,
                const users::UserRegistry& users)
      : workers_(workers), channels_(channels), users_(users) {}

  // Every local socket subscribed to `channel` except `except_socket_id` ("" excludes none).
  void ToChannel(const std::string& app_id, const std::string& channel,
                 const protocol::SharedFrame& frame, const std::string& except_socket_id);
  // Every local socket signed in as `user_id` except `except_socket_id`.
  void ToUser(const std::string& app_id, const std::string& user_id,
              const protocol::SharedFrame& frame, const std::string& except_socket_id);
  // Closes every local socket signed in as `user_id` (error frame, then close frame).
  void DisconnectUser(const std::string& app_id, const std::string& user_id, int code,
                      const std::string& message);
  // Closes every local socket of `app_id` ("" for every app) that `which` selects.
  void CloseWhere(const std::string& app_id, int code, const std::string& message,
                  std::function<bool(const connection::Connection&)> which);
  // Socket ids of the local subscribers of a channel, or ("" channel) of every local socket of
  // the app. `done` runs on a worker thread.
  void SocketIds(const std::string& app_id, const std::string& channel,
                 std::function<void(std::vector<std::string>)> done);

 private:
  node::WorkerPool& workers_;
  const channels::ChannelRegistry& channels_;
  const users::UserRegistry& users_;
};

}  // namespace sockudo::dataplane::adapter
