// File: local_adapter.h
// The `local` adapter: one node, no bus. Delivery posts one closure per worker carrying the
// shared frame; each worker walks its own index (no lock, no copy per recipient). Queries read
// the node-wide registries. Thread-safe.
#pragma once

#include "dataplane/adapter/adapter.h"
#include "dataplane/channels/channel_registry.h"
#include "dataplane/node/connection_registry.h"
#include "dataplane/node/worker_state.h"
#include "dataplane/presence/presence_registry.h"

namespace sockudo::dataplane::adapter {

class LocalAdapter : public Adapter {
 public:
  LocalAdapter(node::WorkerPool& workers, const channels::ChannelRegistry& channels,
               const presence::PresenceRegistry& presence,
               const node::ConnectionRegistry& connections)
      : workers_(workers), channels_(channels), presence_(presence), connections_(connections) {}

  // Adapter
  void Broadcast(const std::string& app_id, const std::string& channel, protocol::SharedFrame frame,
                 const std::string& except_socket_id) override;
  void SendToUser(const std::string& app_id, const std::string& user_id,
                  protocol::SharedFrame frame, const std::string& except_socket_id) override;
  void DisconnectUser(const std::string& app_id, const std::string& user_id, int code,
                      const std::string& message) override;
  void GetChannel(const std::string& app_id, const std::string& channel,
                  std::function<void(ChannelCounts)> done) override;
  void GetChannels(
      const std::string& app_id, const std::string& prefix,
      std::function<void(std::vector<std::pair<std::string, ChannelCounts>>)> done) override;
  void GetPresenceMembers(const std::string& app_id, const std::string& channel,
                          std::function<void(std::vector<std::string>)> done) override;
  void GetAppConnectionCount(const std::string& app_id, std::function<void(int64_t)> done) override;

 private:
  node::WorkerPool& workers_;
  const channels::ChannelRegistry& channels_;
  const presence::PresenceRegistry& presence_;
  const node::ConnectionRegistry& connections_;
};

}  // namespace sockudo::dataplane::adapter
