// File: horizontal_adapter.h
// The one Adapter of every node, over any bus driver (Sockudo's HorizontalAdapterBase): local
// delivery through LocalDelivery, plus, when the driver is not `local`, one bus message per
// publish, the request types of bus::RequestType with correlation ids and timeouts
// (bus::RequestRouter), presence replication with owner sequence numbers and resync
// (PresenceReplica), heartbeats, dead-node detection and the leader's cleanup (ClusterHealth),
// and answers to the requests of peers and observers (with `local`, only an embedded control
// plane asks).
//
// Threads: the adapter's methods may be called from any thread. With `local`, or when it needs
// no peer, a call finishes on the caller's thread. Cluster state (pending requests, heartbeat
// table, replica, sequence counter) lives on the adapter's cluster thread; broadcasts that
// arrive are delivered straight from the driver's thread.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "common/bus/request_router.h"
#include "common/bus/transport.h"
#include "common/config/config.h"
#include "dataplane/adapter/adapter.h"
#include "dataplane/adapter/cluster_health.h"
#include "dataplane/adapter/join_watches.h"
#include "dataplane/adapter/local_delivery.h"
#include "dataplane/adapter/presence_replica.h"
#include "dataplane/node/node_context.h"

namespace sockudo::dataplane::adapter {

// What heartbeats say about this node.
struct NodeInfo {
  std::string process_id;
  std::string version;
  std::string host;
  int64_t port = 0;
  int64_t started_at_ms = 0;
  // With the `local` driver: heartbeat on the in-process bus anyway, every second, so that the
  // embedded control plane's cluster view shows this node (no dead-node detection runs).
  bool local_heartbeats = false;
};

// Applies an AppChanged notice: `action` is "created", "updated", "deleted", "disabled", "enabled"
// or "secret_rotated"; `old_key` the key before the change. Runs on the adapter's cluster thread.
using AppChangedHandler = std::function<void(const std::string& app_id, const std::string& action,
                                             const std::string& old_key)>;

class HorizontalAdapter : public Adapter, private bus::Transport::Listener {
 public:
  HorizontalAdapter(const config::Config& config, node::NodeContext& node,
                    node::WorkerPool& workers, std::unique_ptr<bus::Transport> transport,
                    NodeInfo info, std::unique_ptr<bus::Transport> fallback = nullptr);
  ~HorizontalAdapter() override;

  const std::string& node_id() const { return identity_.node_id; }
  // Set before Start().
  void SetAppChangedHandler(AppChangedHandler handler) { app_changed_ = std::move(handler); }
  bus::Transport& transport() { return *transport_; }

  // Adapter
  absl::Status Start() override;
  void Stop() override;
  bool Healthy() const override;
  ClusterMetrics Metrics() const override;
  void Broadcast(const std::string& app_id, const std::string& channel, protocol::SharedFrame frame,
                 const std::string& except_socket_id, StatusCallback done) override;
  void Fence(std::chrono::milliseconds timeout, StatusCallback done) override;
  void SendToUser(const std::string& app_id, const std::string& user_id,
                  protocol::SharedFrame frame, const std::string& except_socket_id,
                  StatusCallback done) override;
  void DisconnectUser(const std::string& app_id, const std::string& user_id, int code,
                      const std::string& message, StatusCallback done) override;
  void GetChannel(const std::string& app_id, const std::string& channel,
                  std::function<void(Answer<ChannelCounts>)> done) override;
  void GetChannels(const std::string& app_id, const std::string& prefix, bool with_user_counts,
                   std::function<void(Answer<ChannelList>)> done) override;
  void GetPresenceMembers(const std::string& app_id, const std::string& channel,
                          std::function<void(Answer<std::vector<std::string>>)> done) override;
  void CountRemoteConnections(const std::string& app_id,
                              std::function<void(Answer<int64_t>)> done) override;
  void JoinPresence(const PresenceJoin& join,
                    std::function<void(PresenceJoinAnswer)> done) override;
  void LeavePresence(const std::string& app_id, const std::string& channel,
                     const std::string& socket_id, const std::string& member_key) override;
  void SignIn(const std::string& app_id, const std::string& user_id,
              const std::vector<std::string>& watchlist) override;
  void SignOut(const std::string& app_id, const std::string& user_id,
               const std::vector<std::string>& watchlist) override;
  void GetWatchlistStatus(const std::string& app_id, std::vector<std::string> user_ids,
                          std::function<void(WatchlistStatus)> done) override;

  // Counters for metrics and tests.
  struct Stats {
    std::atomic<int64_t> dropped_messages{0};  // unparsable or unexpected bus payloads
    std::atomic<int64_t> broadcasts_received{0};
    std::atomic<int64_t> requests_received{0};
    std::atomic<int64_t> requests_sent{0};
    std::atomic<int64_t> dead_nodes_cleaned{0};
    std::atomic<int64_t> requests_resolved{0};    // every expected peer answered in time
    std::atomic<int64_t> requests_uncomplete{0};  // deadline hit or not published
    std::atomic<int64_t> members_reannounced{0};  // member_removed of a peer contradicted
  };
  const Stats& stats() const { return stats_; }
  // Peers in the heartbeat table (read on any thread; updated on the cluster thread).
  size_t known_peers() const { return known_peers_.load(); }

 private:
  using Result = bus::RequestRouter::Result;

  // bus::Transport::Listener (driver thread)
  void OnMessage(bus::Incoming message) override;
  void OnResubscribed() override;
  void OnHealthChanged(bool healthy) override;
  // A cache channel's event from the control plane (cache_event): kept as this node's last event
  // of the channel, as if it had been published here.
  void KeepInCache(const bus::BroadcastMessage& m);
  // Ends the fence `token` (cluster thread): its marker came back, its timer fired, its publish
  // failed or the adapter stops. Later ends of the same fence do nothing.
  void EndFence(const std::string& token, absl::Status status);

  // Cluster thread.
  void RunOnCluster(std::function<void()> fn);
  void CountPeers(std::function<void(size_t)> done);
  // Sends `request` to every peer and collects the answers; `failed` tells whether the request
  // could not be published at all.
  void Ask(bus::RequestBody request, bus::RequestRouter::EarlyReturn early,
           std::function<void(Result, bool failed)> done);
  void Tell(bus::RequestBody request);  // fire and forget, on the requests channel
  void HandleRequest(bus::RequestBody request, std::string reply_address);
  void Respond(const std::string& address, bus::ResponseBody response);
  void OnHeartbeat(const bus::RequestBody& request);
  void OnNodeDead(const bus::RequestBody& request);
  void PeersChanged();
  void SendHeartbeat(const std::optional<std::string>& to_node);
  void ScheduleHeartbeat();
  void ScheduleCleanup();
  void CleanUpDeadNodes();
  // Joins and leaves were missed: drop the peers' presence entries and resync with every peer.
  void ResyncWithPeers();
  void SyncPresenceTo(const std::string& node);
  // member_removed for a user of a dead node, unless it still has a connection somewhere.
  void RemoveIfGone(const std::string& app_id, const std::string& channel,
                    const std::string& user_key, const std::string& user_id_json);
  void NotifyWatchers(const std::string& app_id, const std::string& user_id, bool online);
  // After the user's first sign-in (last sign-out) here: online/offline for watchers everywhere,
  // unless another node still holds a connection of the user.
  void AnnounceWatchlistChange(const std::string& app_id, const std::string& user_id, bool online);
  // Sends member_added again when a peer's member_removed names a user with a socket here.
  void ReannounceIfHeld(const std::string& app_id, const std::string& channel,
                        std::string_view removed_frame);
  void ReplicateJoin(const PresenceJoin& join);
  void ReplicateLeave(const std::string& app_id, const std::string& channel,
                      const std::string& socket_id);
  base::Json HeartbeatMetadata();
  bus::RequestBody NewRequest(bus::RequestType type, const std::string& app_id);

  const config::Config& config_;
  node::NodeContext& node_;
  LocalDelivery delivery_;
  std::unique_ptr<bus::Transport> transport_;
  NodeInfo info_;
  bus::Identity identity_;
  bool clustered_;       // a real bus: publishes, asks peers, heartbeats
  bool health_enabled_;  // heartbeats, dead-node detection, presence replication
  // adapter.fallback_to_local: the in-process bus to run alone on when the configured one cannot
  // be reached at startup. Null otherwise.
  std::unique_ptr<bus::Transport> fallback_;
  std::chrono::milliseconds request_timeout_;

  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::unique_ptr<bus::RequestRouter> router_;
  boost::asio::steady_timer heartbeat_timer_{io_};
  boost::asio::steady_timer cleanup_timer_{io_};
  ClusterHealth health_;
  PresenceReplica replica_;
  JoinWatches join_watches_;
  int64_t sequence_ = 0;
  bool resync_pending_ = false;
  // Peers this node must send its presence state to again once they answer its resync heartbeat
  // (they stay counted meanwhile, so cluster-wide questions still reach them).
  std::set<std::string> resync_peers_;
  std::optional<std::chrono::steady_clock::time_point> declared_dead_at_;  // last NodeDead of self
  // Peers told they had been declared dead, until their resync heartbeat (see OnHeartbeat).
  std::set<std::string> told_dead_;
  bool stopping_ = false;
  std::atomic<bool> bus_healthy_{true};
  std::atomic<size_t> known_peers_{0};
  Stats stats_;
  AppChangedHandler app_changed_;
  // Fences waiting for their marker, by token (cluster thread).
  struct PendingFence {
    StatusCallback done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  std::map<std::string, PendingFence> fences_;
};

}  // namespace sockudo::dataplane::adapter
