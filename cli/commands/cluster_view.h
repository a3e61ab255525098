// File: cluster_view.h
// How nodes print, shared by `cluster nodes` and `cluster watch`: the node table (wide adds
// version, pid, uptime, readiness, draining, bus, leader) and short state names.
#pragma once

#include <string>
#include <vector>

#include "cli/output/table.h"
#include "sockudo/controlplane/v1/cluster.pb.h"

namespace sockudo::cli {

// "alive", "suspect", "dead", "unknown"; "alive,draining" and the like when a flag applies.
std::string NodeState(const controlplane::v1::Node& node);
// One row per node; the heartbeat age is last_heartbeat_age_ms (the control plane's clock).
output::Table NodesTable(const std::vector<const controlplane::v1::Node*>& nodes, bool wide);

}  // namespace sockudo::cli
