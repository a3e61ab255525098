// File: cluster_service.h
// The Cluster API (proto/sockudo/controlplane/v1/cluster.proto) over the BusObserver's node
// view: nodes with the metadata of their last heartbeat, a health summary with per-app totals,
// and the change stream behind WatchCluster. Thread-safe; answers from memory, never the bus.
#pragma once

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/cluster/bus_observer.h"
#include "sockudo/controlplane/v1/cluster.pb.h"

namespace sockudo::controlplane::service {

class ClusterService {
 public:
  explicit ClusterService(cluster::BusObserver* observer) : observer_(observer) {}

  absl::StatusOr<v1::ListNodesResponse> ListNodes(const v1::ListNodesRequest& request) const;
  absl::StatusOr<v1::Node> GetNode(const v1::GetNodeRequest& request) const;
  absl::StatusOr<v1::ClusterHealth> GetClusterHealth(
      const v1::GetClusterHealthRequest& request) const;

  // WatchCluster: `snapshot` gets one SNAPSHOT event per known node, then `fn` every change,
  // on the observer's thread, until Unwatch(id).
  uint64_t Watch(std::function<void(v1::ClusterEvent)> fn, std::vector<v1::ClusterEvent>* snapshot);
  void Unwatch(uint64_t id);

  static v1::Node NodeToProto(const cluster::NodeSnapshot& node);

  static constexpr int kDefaultPageSize = 100;

 private:
  cluster::BusObserver* observer_;
};

}  // namespace sockudo::controlplane::service
