#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controlplane/rest/routes.h"
#include "controlplane/service/cluster_service.h"

namespace sockudo::controlplane::rest {
namespace {

// WatchCluster as server-sent events: the snapshot first, then every change, each event one
// `data:` line in the JSON mapping. Changes that arrive while the snapshot is being sent wait
// behind it.
std::shared_ptr<EventStream> WatchStream(service::ClusterService* cluster) {
  struct State {
    std::mutex mu;
    EventStream::Sink sink;
    std::vector<std::string> early;  // changes seen before the snapshot went out
    bool snapshot_sent = false;
    uint64_t watch_id = 0;
    bool watching = false;
  };
  auto state = std::make_shared<State>();
  auto stream = std::make_shared<EventStream>();
  auto text = [](const v1::ClusterEvent& event) { return ToJson(event).value_or("{}"); };
  stream->open = [cluster, state, text](EventStream::Sink sink) {
    std::vector<v1::ClusterEvent> snapshot;
    const uint64_t id = cluster->Watch(
        [state, text](v1::ClusterEvent event) {
          std::lock_guard lock(state->mu);
          if (!state->snapshot_sent) return state->early.push_back(text(event));
          state->sink(text(event));
        },
        &snapshot);
    std::lock_guard lock(state->mu);
    state->sink = std::move(sink);
    state->watch_id = id;
    state->watching = true;
    for (const auto& event : snapshot) state->sink(text(event));
    for (auto& event : state->early) state->sink(std::move(event));
    state->early.clear();
    state->snapshot_sent = true;
  };
  stream->close = [cluster, state] {
    uint64_t id = 0;
    {
      std::lock_guard lock(state->mu);
      if (!state->watching) return;
      state->watching = false;
      id = state->watch_id;
    }
    cluster->Unwatch(id);
  };
  return stream;
}

}  // namespace

bool RouteCluster(RestCall& call, service::ClusterService* cluster, const JsonReply& reply) {
  const auto& s = call.segments;
  if (s.empty() || s[0] != "cluster") return false;
  if (cluster == nullptr) {
    reply(absl::UnimplementedError("the Cluster API is not served here"));
    return true;
  }
  if (s.size() == 1 && call.verb == "watch" && call.method == "GET") {
    call.audit->method = "WatchCluster";
    call.audit->resource = "cluster";
    call.stream = WatchStream(cluster);
    reply(std::string());
    return true;
  }
  if (call.method != "GET" || !call.verb.empty()) {
    reply(call.verb.empty() ? MethodNotAllowed(call)
                            : absl::NotFoundError(absl::StrCat("no route ", call.Path())));
    return true;
  }
  if (s.size() == 2 && s[1] == "nodes") {
    call.audit->method = "ListNodes";
    call.audit->resource = "nodes";
    v1::ListNodesRequest request;
    if (auto st = ParsePaging(call, &request); !st.ok()) return reply(st), true;
    ReplyWith(reply, cluster->ListNodes(request));
  } else if (s.size() == 3 && s[1] == "nodes") {
    call.audit->method = "GetNode";
    call.audit->resource = absl::StrCat("nodes/", s[2]);
    v1::GetNodeRequest request;
    request.set_name(call.audit->resource);
    ReplyWith(reply, cluster->GetNode(request));
  } else if (s.size() == 2 && s[1] == "health") {
    call.audit->method = "GetClusterHealth";
    call.audit->resource = "cluster";
    ReplyWith(reply, cluster->GetClusterHealth(v1::GetClusterHealthRequest()));
  } else {
    reply(absl::NotFoundError(absl::StrCat("no route ", call.Path())));
  }
  return true;
}

}  // namespace sockudo::controlplane::rest
