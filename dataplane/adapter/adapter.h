// File: adapter.h
// How a node reaches every socket of an app, wherever it is, and how it takes every decision
// whose answer differs in a cluster: delivery to a channel or a user, user disconnects, the counts
// and lists behind the HTTP API, the app connection quota, presence joins and leaves (member_added
// / member_removed exactly once), users coming online and going offline (watchlists).
//
// One implementation, HorizontalAdapter (horizontal_adapter.h), serves every bus driver: with
// `local` it has no peers, publishes nothing and answers from this node's state at once.
//
// Calling conventions:
//   - any method may be called from any thread;
//   - a callback may run on the caller's thread before the call returns (an answer that needs no
//     peer) or later on the adapter's cluster thread: callers that touch a connection resume it
//     through its connection::Handle;
//   - every callback runs exactly once, within the request timeout (bus::RequestTimeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/protocol/shared_frame.h"

namespace sockudo::dataplane::adapter {

// An answer put together from this node and its peers. `complete` is false when a peer did not
// answer in time or the request could not be sent: the value then covers the nodes that did.
template <class T>
struct Answer {
  T value{};
  bool complete = true;
};

using StatusCallback = std::function<void(absl::Status)>;

struct ChannelCounts {
  size_t subscription_count = 0;
  size_t user_count = 0;  // distinct presence members (presence channels)
};

using ChannelList = std::vector<std::pair<std::string, ChannelCounts>>;

// One socket joining a presence channel as a member.
struct PresenceJoin {
  std::string app_id;
  std::string channel;
  std::string socket_id;
  std::string member_key;      // string form of user_id
  std::string user_id_json;    // original JSON value
  std::string user_info_json;  // compact JSON, "null" when absent
  int64_t max_members = 0;     // 0: no limit
};

struct PresenceJoinAnswer {
  bool full = false;              // refused: a new member over max_members (nothing was kept)
  std::string subscription_data;  // {"presence":{"ids","hash","count"}}, the joiner included
  bool member_added = false;      // this join sent member_added (the user is new cluster-wide)
};

struct WatchlistStatus {
  std::vector<std::string> online;
  std::vector<std::string> offline;
};

// What /metrics shows of the cluster.
struct ClusterMetrics {
  int64_t cluster_nodes = 1;  // live peers + 1
  bool bus_healthy = true;
  int64_t requests_sent = 0;
  int64_t requests_received = 0;
  int64_t requests_resolved = 0;
  int64_t requests_uncomplete = 0;
  int64_t broadcasts_received = 0;
  int64_t dead_nodes_cleaned = 0;
  int64_t transport_dropped = 0;  // bus payloads dropped: unparsable, overflow, failed publishes
  int64_t transport_reconnections = 0;
  int64_t transport_queue_depth = 0;
  std::string transport;  // the driver's name: the `transport` label
  std::vector<std::pair<std::string, int64_t>> transport_events;  // nats_events_total by event
};

class Adapter {
 public:
  virtual ~Adapter() = default;

  // --- Lifecycle
  // Joins the bus: subscriptions up, first heartbeat out.
  virtual absl::Status Start() = 0;
  // Leaves the cluster cleanly (NodeDead for itself) and closes the bus.
  virtual void Stop() = 0;
  // The bus is connected and subscribed (the adapter part of /up).
  virtual bool Healthy() const = 0;
  // Counters and gauges of the cluster for /metrics. Any thread.
  virtual ClusterMetrics Metrics() const = 0;

  // --- Delivery. The frame is built once; local sockets get it before `done` runs, whatever
  // the bus does. `done` (may be null) gets Unavailable when peers could not be reached after the
  // driver's retries: the HTTP API then answers 503.
  virtual void Broadcast(const std::string& app_id, const std::string& channel,
                         protocol::SharedFrame frame, const std::string& except_socket_id,
                         StatusCallback done) = 0;
  // `done` runs once every broadcast the bus had taken before this call has been handed to this
  // node's workers, so that work posted to them after `done` comes behind those deliveries (a
  // draining node closes a socket only after the events already owed to it). The node sends a
  // marker to itself on the broadcast channel and waits for it to come back: a broker delivers
  // it after what it took before (Redis, sharded Redis Cluster, one NATS server; classic Redis
  // Cluster only roughly). Ok at once with `local`; DeadlineExceeded after `timeout` when the
  // marker does not come back, FailedPrecondition at once when it cannot (the transport does not
  // hear its own broadcasts: NATS with no_echo).
  virtual void Fence(std::chrono::milliseconds timeout, StatusCallback done) = 0;
  // Every socket signed in as `user_id` (#server-to-user-{id}), except `except_socket_id`.
  virtual void SendToUser(const std::string& app_id, const std::string& user_id,
                          protocol::SharedFrame frame, const std::string& except_socket_id,
                          StatusCallback done) = 0;
  // Closes every socket signed in as `user_id` with `code` (error frame, then close frame).
  virtual void DisconnectUser(const std::string& app_id, const std::string& user_id, int code,
                              const std::string& message, StatusCallback done) = 0;

  // --- Queries, cluster-wide.
  virtual void GetChannel(const std::string& app_id, const std::string& channel,
                          std::function<void(Answer<ChannelCounts>)> done) = 0;
  // Occupied channels whose name starts with `prefix`; user counts of presence channels only
  // with `with_user_counts` (they cost a member list per channel across the cluster).
  virtual void GetChannels(const std::string& app_id, const std::string& prefix,
                           bool with_user_counts,
                           std::function<void(Answer<ChannelList>)> done) = 0;
  // user_id JSON values of the distinct members of a presence channel.
  virtual void GetPresenceMembers(const std::string& app_id, const std::string& channel,
                                  std::function<void(Answer<std::vector<std::string>>)> done) = 0;
  // Open connections of the app on the other nodes (this node's own count is in its registry,
  // where admission reserves a slot atomically).
  virtual void CountRemoteConnections(const std::string& app_id,
                                      std::function<void(Answer<int64_t>)> done) = 0;

  // --- Presence. Join commits this socket locally, checks the member limit and whether the user is
  // new cluster-wide, sends member_added to the channel if so, and answers with the member list for
  // the joiner's subscription_succeeded. Leave removes the socket and sends member_removed when the
  // user has no connection left anywhere.
  virtual void JoinPresence(const PresenceJoin& join,
                            std::function<void(PresenceJoinAnswer)> done) = 0;
  virtual void LeavePresence(const std::string& app_id, const std::string& channel,
                             const std::string& socket_id, const std::string& member_key) = 0;

  // --- Users (sign-in and watchlists). SignIn/SignOut keep the local user registry and send the
  // watchlist online/offline events when the user's first connection anywhere signed in or its last
  // one left.
  virtual void SignIn(const std::string& app_id, const std::string& user_id,
                      const std::vector<std::string>& watchlist) = 0;
  virtual void SignOut(const std::string& app_id, const std::string& user_id,
                       const std::vector<std::string>& watchlist) = 0;
  // Which of `user_ids` have a signed-in connection anywhere.
  virtual void GetWatchlistStatus(const std::string& app_id, std::vector<std::string> user_ids,
                                  std::function<void(WatchlistStatus)> done) = 0;
};

}  // namespace sockudo::dataplane::adapter
