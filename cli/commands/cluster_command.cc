// sockudoctl cluster status|nodes: the Cluster service (watch is in cluster_watch.cc).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/client/all_pages.h"
#include "cli/commands/cluster_view.h"
#include "cli/commands/commands.h"
#include "sockudo/controlplane/v1/cluster.grpc.pb.h"

namespace sockudo::cli {

int RunClusterWatch(CommandEnv& env);  // cluster_watch.cc

namespace {

namespace v1 = controlplane::v1;

std::string HealthName(v1::ClusterHealth::Status status) {
  switch (status) {
    case v1::ClusterHealth::HEALTHY:
      return "healthy";
    case v1::ClusterHealth::DEGRADED:
      return "degraded";
    case v1::ClusterHealth::UNAVAILABLE:
      return "unavailable";
    default:
      return "unknown";
  }
}

std::string NodeId(const std::string& node) {
  return node.rfind("nodes/", 0) == 0 ? node.substr(6) : node;
}

}  // namespace

std::string NodeState(const v1::Node& node) {
  std::string state;
  switch (node.state()) {
    case v1::Node::ALIVE:
      state = "alive";
      break;
    case v1::Node::SUSPECT:
      state = "suspect";
      break;
    case v1::Node::DEAD:
      state = "dead";
      break;
    default:
      state = "unknown";
      break;
  }
  if (node.draining()) state += ",draining";
  return state;
}

output::Table NodesTable(const std::vector<const v1::Node*>& nodes, bool wide) {
  std::vector<std::string> headers = {"NODE",     "STATE",  "ADDRESS",       "CONNECTIONS",
                                      "CHANNELS", "MEMORY", "LAST-HEARTBEAT"};
  if (wide) {
    for (const char* h : {"PRESENCE", "VERSION", "PID", "UPTIME", "READY", "BUS", "LEADER"}) {
      headers.push_back(h);
    }
  }
  output::Table table(headers);
  for (const v1::Node* node : nodes) {
    const int64_t age = node->last_heartbeat_age_ms();
    std::string id = node->id().empty() ? NodeId(node->name()) : node->id();
    if (node->leader()) id += " *";
    std::vector<std::string> row = {
        id,
        NodeState(*node),
        node->address().empty() ? "-" : node->address(),
        std::to_string(node->connections()),
        std::to_string(node->channels()),
        output::FormatBytes(node->memory_bytes()),
        node->has_last_heartbeat_time() || age > 0 ? output::FormatAge(age) + " ago" : "-"};
    if (wide) {
      row.push_back(std::to_string(node->presence_members()));
      row.push_back(node->version().empty() ? "-" : node->version());
      row.push_back(node->process_id().empty() ? "-" : node->process_id());
      row.push_back(node->uptime_seconds() > 0 ? output::FormatAge(node->uptime_seconds() * 1000)
                                               : "0s");
      row.push_back(output::FormatBool(node->ready()));
      row.push_back(node->bus_healthy() ? "ok" : "down");
      row.push_back(output::FormatBool(node->leader()));
    }
    table.AddRow(std::move(row));
  }
  return table;
}

void AddClusterCommand(CLI::App& root, Commands& commands) {
  CLI::App* cluster =
      root.add_subcommand("cluster", "the data nodes as the control plane sees them on the bus");
  SetExamples(cluster, {"sockudoctl cluster status", "sockudoctl cluster nodes -o wide",
                        "sockudoctl cluster watch"});

  CLI::App* status = cluster->add_subcommand(
      "status", "health summary: bus, nodes alive / suspect / dead, leader, totals per app");
  SetExamples(status,
              {"sockudoctl cluster status", "sockudoctl cluster status -o json | jq .status"});
  commands.Bind(status, [](CommandEnv& env) {
    auto connection = env.Connect();
    if (!connection.ok()) return env.UsageError(std::string(connection.status().message()));
    v1::Cluster::Stub stub((*connection)->channel());
    grpc::ClientContext context;
    (*connection)->Prepare(&context);
    v1::ClusterHealth health;
    grpc::Status st = stub.GetClusterHealth(&context, v1::GetClusterHealthRequest(), &health);
    if (!st.ok()) return (*connection)->Fail(st);
    return env.PrintText(health, [&](bool wide) {
      std::vector<std::string> headers = {"STATUS", "ADAPTER", "ALIVE",       "SUSPECT",
                                          "DEAD",   "LEADER",  "CONNECTIONS", "CHANNELS"};
      if (wide) {
        headers.push_back("BUS");
        headers.push_back("OBSERVER");
      }
      output::Table table(headers);
      std::vector<std::string> row = {
          HealthName(health.status()),          health.adapter().empty() ? "-" : health.adapter(),
          std::to_string(health.alive_nodes()), std::to_string(health.suspect_nodes()),
          std::to_string(health.dead_nodes()),  health.leader().empty() ? "-" : health.leader(),
          std::to_string(health.connections()), std::to_string(health.channels())};
      if (wide) {
        row.push_back(health.bus_connected() ? "connected" : "disconnected");
        row.push_back(health.observer_id().empty() ? "-" : health.observer_id());
      }
      table.AddRow(std::move(row));
      std::string text = table.Render(env.headers());
      if (health.apps_size() > 0) {
        // Totals per app as a second table.
        output::Table apps({"APP", "CONNECTIONS", "CHANNELS"});
        for (const auto& app : health.apps()) {
          apps.AddRow(
              {app.app_id(), std::to_string(app.connections()), std::to_string(app.channels())});
        }
        absl::StrAppend(&text, "\n", apps.Render(env.headers()));
      }
      return text;
    });
  });

  auto node_id = std::make_shared<std::string>();
  CLI::App* nodes = cluster->add_subcommand(
      "nodes", "data nodes with state, connections, channels, memory, last heartbeat");
  nodes->alias("node");
  nodes->add_option("NODE", *node_id, "only this node (its id, or nodes/ID)");
  SetExamples(
      nodes,
      {"sockudoctl cluster nodes", "sockudoctl cluster nodes -o wide",
       "sockudoctl cluster nodes node-1 -o yaml",
       "sockudoctl cluster nodes -o json | jq -r '.nodes[] | select(.state==\"DEAD\") | .id'"});
  commands.Bind(nodes, [node_id](CommandEnv& env) {
    auto connection = env.Connect();
    if (!connection.ok()) return env.UsageError(std::string(connection.status().message()));
    v1::Cluster::Stub stub((*connection)->channel());
    if (!node_id->empty()) {
      v1::GetNodeRequest request;
      request.set_name("nodes/" + NodeId(*node_id));
      grpc::ClientContext context;
      (*connection)->Prepare(&context);
      v1::Node node;
      grpc::Status st = stub.GetNode(&context, request, &node);
      if (!st.ok()) return (*connection)->Fail(st);
      return env.Print(node, [&](bool wide) { return NodesTable({&node}, wide); });
    }
    v1::ListNodesResponse all;
    v1::ListNodesRequest request;
    request.set_page_size(1000);
    grpc::Status st = client::FetchAllPages<v1::ListNodesResponse>(
        **connection, request,
        [&](auto* context, const auto& r, auto* out) { return stub.ListNodes(context, r, out); },
        [&](v1::ListNodesResponse& page, bool) {
          for (auto& node : *page.mutable_nodes()) *all.add_nodes() = std::move(node);
          all.set_total_size(page.total_size());
        });
    if (!st.ok()) return (*connection)->Fail(st);
    return env.Print(all, [&](bool wide) {
      std::vector<const v1::Node*> rows;
      for (const auto& node : all.nodes()) rows.push_back(&node);
      return NodesTable(rows, wide);
    });
  });

  CLI::App* watch = cluster->add_subcommand(
      "watch",
      "live view of the nodes from the WatchCluster stream, redrawn in place until Ctrl-C; one "
      "line per event when stdout is not a terminal (-o json: one JSON object per event)");
  SetExamples(watch, {"sockudoctl cluster watch", "sockudoctl cluster watch -o wide",
                      "sockudoctl cluster watch -o json | jq -c '{type, node: .node.id}'"});
  commands.Bind(watch, [](CommandEnv& env) { return RunClusterWatch(env); });
}

}  // namespace sockudo::cli
