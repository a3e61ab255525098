// File: cluster_topology.h
// Who serves which slot of a Redis Cluster, built from the answer of one node to `CLUSTER SHARDS`
// (Redis >= 7) or, when that command is unknown, `CLUSTER SLOTS`:
//
//   host  `endpoint`, else `hostname`, else `ip` (SHARDS), the first element of a node entry
//         (SLOTS); a field that is absent, empty, NULL or "?" is skipped, and when none is
//         left the node is reached at the host that was asked (a lone node does not know its
//         own IP before it met another).
//   port  `tls-port` when TLS is on and the field is present and not 0, else `port`.
//   role  SHARDS: the node whose role is "master" and whose health is not "fail" (one in
//         "loading" still counts) owns the shard's slots; "replica" nodes are kept as extra
//         places to subscribe (classic pub/sub works on any node).
//
// Plain data: no I/O, copyable. A -MOVED redirection patches one slot (SetOwner) until the next
// full refresh replaces the whole map.
//
//   auto topology = ClusterTopology::FromShards(reply, asked, /*tls=*/false);
//   const NodeAddress* owner = topology->MasterOf(KeySlot("sockudo_adapter::#broadcast"));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bus/redis/redis_connection.h"

namespace sockudo::bus::redis_cluster {

struct NodeAddress {
  std::string host;
  uint16_t port = 0;

  std::string ToString() const;  // "host:port"
  // "host:port" (the last ':' separates, so a bare IPv6 host works); an empty host means
  // `default_host`. nullopt when the port is missing or not in 1..65535.
  static std::optional<NodeAddress> Parse(std::string_view host_port,
                                          std::string_view default_host);

  bool operator==(const NodeAddress& other) const {
    return port == other.port && host == other.host;
  }
  bool operator!=(const NodeAddress& other) const { return !(*this == other); }
  bool operator<(const NodeAddress& other) const {
    return host != other.host ? host < other.host : port < other.port;
  }
};

class ClusterTopology {
 public:
  ClusterTopology();  // empty: no slot is covered

  // `asked`: the node that answered (its host replaces unknown addresses). An error when the
  // reply does not have the documented shape.
  static absl::StatusOr<ClusterTopology> FromShards(const redis::RedisReply& reply,
                                                    const NodeAddress& asked, bool tls);
  static absl::StatusOr<ClusterTopology> FromSlots(const redis::RedisReply& reply,
                                                   const NodeAddress& asked);

  // The master serving `slot`, or nullptr while no master covers it.
  const NodeAddress* MasterOf(uint16_t slot) const;
  // `owner` serves `slot` from now on (-MOVED); adds it to masters() when new.
  void SetOwner(uint16_t slot, const NodeAddress& owner);

  // Masters that owned at least one slot in the reply, in its order, then those SetOwner added.
  const std::vector<NodeAddress>& masters() const { return masters_; }
  // Replicas of those masters (not failed).
  const std::vector<NodeAddress>& replicas() const { return replicas_; }
  // Masters, then replicas.
  std::vector<NodeAddress> nodes() const;
  bool IsMaster(const NodeAddress& node) const;
  size_t covered_slots() const { return covered_; }
  bool empty() const { return covered_ == 0; }
  // "127.0.0.1:7000[0-5460] 127.0.0.1:7001[5461-10922] ..." for logs and errors.
  std::string DebugString() const;

 private:
  static constexpr uint16_t kNoMaster = 0xFFFF;

  // Index of `node` in masters_, added when absent.
  uint16_t MasterIndex(const NodeAddress& node);
  void AddReplica(const NodeAddress& node);
  void Assign(int first, int last, uint16_t master);

  std::vector<NodeAddress> masters_;
  std::vector<NodeAddress> replicas_;
  std::vector<uint16_t> slot_master_;  // 16384 entries: index in masters_, or kNoMaster
  size_t covered_ = 0;
};

// From a CLUSTER NODES reply: whether the node that answered has its cluster-bus link up to every
// other node it knows, leaving out those marked failed, without an address or in handshake. Only
// then does a PUBLISH on it reach the subscribers of every node. False for a malformed reply.
bool ClusterLinksUp(std::string_view cluster_nodes);

}  // namespace sockudo::bus::redis_cluster
