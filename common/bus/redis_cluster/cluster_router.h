// File: cluster_router.h
// The cluster-client half of the redis-cluster driver (hiredis 0.14 has no cluster support): what
// the cluster looks like, how to reach each node, and where a command for a channel goes.
//
//   topology     fetched from the known nodes in turn (masters, then replicas, then the seeds;
//                suspects last): `CLUSTER SHARDS`, falling back to `CLUSTER SLOTS` when the node
//                does not know it, on a short-lived connection. Refresh() runs one fetch (callers
//                arriving meanwhile share it); RequestRefresh() asks for one in the background
//                (after a -MOVED, a connection failure, -CLUSTERDOWN...); StartPeriodicRefresh()
//                refreshes every refresh_interval (30 s). Each successful fetch replaces the map
//                and runs the topology handler.
//   connections  one shared, pipelined command connection per node, dialled lazily by the first
//                command for it (WithConnection); Dial() makes a dedicated one (subscribers,
//                topology). Every connection authenticates with the credentials of the seed of
//                the same address, else those of the first seed (the config loader already put
//                the shared cluster credentials in every seed), and uses TLS when the config or
//                any seed asks for it. A node whose dial fails, whose connection breaks, or that
//                answers -CLUSTERDOWN is suspect for suspect_time: routing avoids it when it can,
//                fetches ask it last; a successful dial clears the mark. After a refresh, idle
//                command connections to nodes that are no longer masters are closed.
//   routing      Target(channel, owner_only): the master owning the channel's slot; classic
//                pub/sub (owner_only = false) takes another master while the owner is suspect.
//                ParseRedirect() reads -MOVED / -ASK / -TRYAGAIN / -CLUSTERDOWN replies.
//
// Threads: the io_context's thread only; callbacks run there. Shutdown() closes everything and
// fails what waits with kCancelled.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/bus/redis/redis_connection.h"
#include "common/bus/redis_cluster/cluster_topology.h"
#include "common/config/config.h"

namespace boost::asio {
class io_context;
}

namespace sockudo::bus::redis_cluster {

struct RouterOptions {
  std::vector<config::RedisSeed> seeds;
  bool tls = false;               // every connection uses TLS (adapter.cluster.tls or a seed)
  config::TlsConfig tls_options;  // CA, client certificate, accept_invalid_certs
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reply_timeout{10000};
  std::chrono::milliseconds refresh_interval{30000};
  std::chrono::milliseconds suspect_time{5000};
};

// A redirection or cluster-state error in a command's reply.
struct Redirect {
  enum class Kind { kNone, kMoved, kAsk, kTryAgain, kClusterDown };
  Kind kind = Kind::kNone;
  uint16_t slot = 0;  // kMoved, kAsk
  NodeAddress to;     // kMoved, kAsk
};
// `asked_host` fills an empty host ("-MOVED 3999 :6380").
Redirect ParseRedirect(std::string_view error_text, std::string_view asked_host);

class ClusterRouter {
 public:
  using Connection = std::shared_ptr<redis::RedisConnection>;
  using DialCallback = std::function<void(absl::StatusOr<Connection>)>;
  // Gets a ready connection (status OK) or why there is none.
  using ConnectionWaiter = std::function<void(Connection, absl::Status)>;

  ClusterRouter(boost::asio::io_context& io, RouterOptions options);
  ~ClusterRouter();
  ClusterRouter(const ClusterRouter&) = delete;
  ClusterRouter& operator=(const ClusterRouter&) = delete;

  // --- Topology ---
  // Fetches the topology now (or joins the fetch under way). Fails with the last node's error
  // when no node answers; an authentication or TLS setup error stops at once.
  void Refresh(std::function<void(absl::Status)> done);
  // A background Refresh (errors are logged); coalesced with one under way.
  void RequestRefresh();
  void StartPeriodicRefresh();
  // Runs after every successful refresh and after ApplyMoved.
  void set_topology_handler(std::function<void()> handler) { on_topology_ = std::move(handler); }
  const ClusterTopology& topology() const { return topology_; }
  // A -MOVED: `to` serves `slot` now; a full refresh follows in the background.
  void ApplyMoved(uint16_t slot, const NodeAddress& to);

  // --- Connections ---
  redis::ConnectionOptions OptionsFor(const NodeAddress& node, std::string label) const;
  // A new dedicated connection, ready (authenticated) or failed. `timeout` bounds the dial.
  void Dial(const NodeAddress& node, std::string label, std::chrono::milliseconds timeout,
            DialCallback done);
  // The shared command connection of `node`, dialled on first use. Waiters run in the order
  // they came, synchronously when the connection is ready.
  void WithConnection(const NodeAddress& node, ConnectionWaiter waiter);

  // --- Routing ---
  std::optional<NodeAddress> Target(std::string_view channel, bool owner_only) const;
  // Every node worth trying for a subscription or a fetch: seeds first (their order), then the
  // topology's masters and replicas; suspects moved to the end.
  std::vector<NodeAddress> Candidates() const;
  bool IsSeed(const NodeAddress& node) const;
  void MarkSuspect(const NodeAddress& node);
  bool IsSuspect(const NodeAddress& node) const;
  // "127.0.0.1:7000,127.0.0.1:7001" (for errors and logs; never credentials).
  std::string SeedList() const;

  void Shutdown();

 private:
  struct Peer {
    Connection conn;
    bool dialing = false;
    std::vector<ConnectionWaiter> waiters;
  };

  void FetchFrom(std::shared_ptr<std::vector<NodeAddress>> order, size_t index, absl::Status last);
  void AskShards(const Connection& conn, const NodeAddress& node,
                 std::shared_ptr<std::vector<NodeAddress>> order, size_t index);
  void AskSlots(const Connection& conn, const NodeAddress& node,
                std::shared_ptr<std::vector<NodeAddress>> order, size_t index);
  void Adopt(ClusterTopology topology, const NodeAddress& from);
  void FinishFetch(absl::Status status);
  void CloseIdleNonMasters();
  void ArmPeriodic();

  boost::asio::io_context& io_;
  const RouterOptions options_;
  std::vector<NodeAddress> seeds_;
  ClusterTopology topology_;
  std::function<void()> on_topology_;

  std::map<std::string, Peer> peers_;  // by "host:port"
  // Dials under way: Shutdown closes them (a connecting RedisConnection holds its own callback,
  // which holds it, until the connect ends).
  std::set<Connection> connecting_;
  std::map<std::string, std::chrono::steady_clock::time_point> suspect_until_;

  bool fetching_ = false;
  bool fetch_again_ = false;  // a RequestRefresh came during the fetch
  Connection fetch_conn_;
  std::vector<std::function<void(absl::Status)>> fetch_waiters_;
  struct Timers;
  std::unique_ptr<Timers> timers_;
  bool shutdown_ = false;
};

}  // namespace sockudo::bus::redis_cluster
