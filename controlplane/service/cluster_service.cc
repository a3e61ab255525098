#include "controlplane/service/cluster_service.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "controlplane/service/pager.h"
#include "google/protobuf/util/time_util.h"

namespace sockudo::controlplane::service {
namespace {

using google::protobuf::util::TimeUtil;

int64_t IntField(const base::Json& m, const char* name) {
  auto it = m.find(name);
  return it != m.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string StringField(const base::Json& m, const char* name) {
  auto it = m.find(name);
  return it != m.end() && it->is_string() ? it->get<std::string>() : "";
}

bool BoolField(const base::Json& m, const char* name, bool fallback) {
  auto it = m.find(name);
  return it != m.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

v1::Node::State StateOf(cluster::NodeState state) {
  switch (state) {
    case cluster::NodeState::kAlive:
      return v1::Node::ALIVE;
    case cluster::NodeState::kSuspect:
      return v1::Node::SUSPECT;
    case cluster::NodeState::kDead:
      return v1::Node::DEAD;
  }
  return v1::Node::STATE_UNSPECIFIED;
}

v1::ClusterEvent::Type EventType(cluster::NodeChange::Type type) {
  using T = cluster::NodeChange::Type;
  switch (type) {
    case T::kJoined:
      return v1::ClusterEvent::NODE_JOINED;
    case T::kUpdated:
      return v1::ClusterEvent::NODE_UPDATED;
    case T::kSuspect:
      return v1::ClusterEvent::NODE_SUSPECT;
    case T::kAlive:
      return v1::ClusterEvent::NODE_ALIVE;
    case T::kDead:
      return v1::ClusterEvent::NODE_DEAD;
    case T::kForgotten:
      return v1::ClusterEvent::NODE_FORGOTTEN;
  }
  return v1::ClusterEvent::TYPE_UNSPECIFIED;
}

v1::ClusterEvent MakeEvent(v1::ClusterEvent::Type type, const cluster::NodeSnapshot& node) {
  v1::ClusterEvent event;
  event.set_type(type);
  *event.mutable_node() = ClusterService::NodeToProto(node);
  *event.mutable_time() = TimeUtil::GetCurrentTime();
  return event;
}

}  // namespace

v1::Node ClusterService::NodeToProto(const cluster::NodeSnapshot& node) {
  const base::Json& m = node.metadata;
  v1::Node out;
  out.set_name(absl::StrCat("nodes/", node.id));
  out.set_id(node.id);
  const std::string host = StringField(m, "host");
  const int64_t port = IntField(m, "port");
  if (!host.empty() || port != 0) out.set_address(absl::StrCat(host, ":", port));
  out.set_version(StringField(m, "version"));
  out.set_process_id(StringField(m, "process_id"));
  if (const int64_t started = IntField(m, "started_at_ms"); started > 0) {
    *out.mutable_start_time() = TimeUtil::MillisecondsToTimestamp(started);
    const int64_t now_ms = TimeUtil::TimestampToMilliseconds(TimeUtil::GetCurrentTime());
    out.set_uptime_seconds(std::max<int64_t>(0, (now_ms - started) / 1000));
  }
  out.set_connections(IntField(m, "connections"));
  out.set_channels(IntField(m, "channels"));
  out.set_presence_members(IntField(m, "presence_members"));
  out.set_memory_bytes(IntField(m, "memory_bytes"));
  *out.mutable_last_heartbeat_time() = TimeUtil::MillisecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::milliseconds>(node.last_heartbeat.time_since_epoch())
          .count());
  out.set_last_heartbeat_age_ms(node.last_heartbeat_age_ms);
  out.set_state(StateOf(node.state));
  out.set_draining(BoolField(m, "draining", false));
  out.set_ready(BoolField(m, "ready", true));
  out.set_bus_healthy(BoolField(m, "bus_healthy", true));
  out.set_leader(node.leader);
  if (auto apps = m.find("apps"); apps != m.end() && apps->is_object()) {
    for (const auto& [app_id, totals] : apps->items()) {
      v1::AppTotals* t = out.add_apps();
      t->set_app_id(app_id);
      if (totals.is_object()) {
        t->set_connections(IntField(totals, "connections"));
        t->set_channels(IntField(totals, "channels"));
      }
    }
  }
  return out;
}

absl::StatusOr<v1::ListNodesResponse> ClusterService::ListNodes(
    const v1::ListNodesRequest& request) const {
  SOCKUDO_ASSIGN_OR_RETURN(Pager pager, Pager::Make(request.page_size(), request.page_token(),
                                                    kDefaultPageSize, "ListNodes"));
  v1::ListNodesResponse response;
  for (const cluster::NodeSnapshot& node : observer_->Nodes()) {  // sorted by id
    if (pager.Take(node.id)) *response.add_nodes() = NodeToProto(node);
  }
  response.set_total_size(pager.total());
  response.set_next_page_token(pager.next_page_token());
  return response;
}

absl::StatusOr<v1::Node> ClusterService::GetNode(const v1::GetNodeRequest& request) const {
  std::string id = request.name();
  if (id.rfind("nodes/", 0) == 0) id = id.substr(6);
  if (id.empty() || id.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: expected nodes/{id}, got \"", request.name(), "\""));
  }
  for (const cluster::NodeSnapshot& node : observer_->Nodes()) {
    if (node.id == id) return NodeToProto(node);
  }
  return absl::NotFoundError(absl::StrCat("nodes/", id, ": no such node in the cluster view"));
}

absl::StatusOr<v1::ClusterHealth> ClusterService::GetClusterHealth(
    const v1::GetClusterHealthRequest&) const {
  v1::ClusterHealth health;
  health.set_adapter(std::string(observer_->adapter()));
  health.set_bus_connected(observer_->BusHealthy());
  health.set_observer_id(observer_->id());
  std::map<std::string, v1::AppTotals> apps;
  for (const cluster::NodeSnapshot& node : observer_->Nodes()) {
    switch (node.state) {
      case cluster::NodeState::kAlive:
        health.set_alive_nodes(health.alive_nodes() + 1);
        break;
      case cluster::NodeState::kSuspect:
        health.set_suspect_nodes(health.suspect_nodes() + 1);
        break;
      case cluster::NodeState::kDead:
        health.set_dead_nodes(health.dead_nodes() + 1);
        continue;  // totals count the living only
    }
    if (node.leader) health.set_leader(node.id);
    const v1::Node n = NodeToProto(node);
    health.set_connections(health.connections() + n.connections());
    health.set_channels(health.channels() + n.channels());
    for (const v1::AppTotals& t : n.apps()) {
      v1::AppTotals& sum = apps[t.app_id()];
      sum.set_app_id(t.app_id());
      sum.set_connections(sum.connections() + t.connections());
      sum.set_channels(sum.channels() + t.channels());
    }
  }
  for (auto& [id, totals] : apps) *health.add_apps() = std::move(totals);
  if (!health.bus_connected()) {
    health.set_status(v1::ClusterHealth::UNAVAILABLE);
  } else if (health.alive_nodes() == 0 || health.suspect_nodes() > 0 || health.dead_nodes() > 0) {
    health.set_status(v1::ClusterHealth::DEGRADED);
  } else {
    health.set_status(v1::ClusterHealth::HEALTHY);
  }
  return health;
}

uint64_t ClusterService::Watch(std::function<void(v1::ClusterEvent)> fn,
                               std::vector<v1::ClusterEvent>* snapshot) {
  std::vector<cluster::NodeSnapshot> nodes;
  const uint64_t id = observer_->Watch(
      [fn = std::move(fn)](const cluster::NodeChange& change) {
        fn(MakeEvent(EventType(change.type), change.node));
      },
      &nodes);
  for (const cluster::NodeSnapshot& node : nodes) {
    snapshot->push_back(MakeEvent(v1::ClusterEvent::SNAPSHOT, node));
  }
  return id;
}

void ClusterService::Unwatch(uint64_t id) { observer_->Unwatch(id); }

}  // namespace sockudo::controlplane::service
