#include "absl/strings/str_cat.h"
#include "controlplane/rest/routes.h"
#include "controlplane/service/cluster_service.h"

namespace sockudo::controlplane::rest {

bool RouteCluster(RestCall& call, service::ClusterService* cluster, const JsonReply& reply) {
  const auto& s = call.segments;
  if (s.empty() || s[0] != "cluster") return false;
  if (cluster == nullptr) {
    reply(absl::UnimplementedError("the Cluster API is not served here"));
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
    auto size = QueryInt(call, "page_size");
    if (!size.ok()) return reply(size.status()), true;
    request.set_page_size(*size);
    if (auto it = call.query.find("page_token"); it != call.query.end()) {
      request.set_page_token(it->second);
    }
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
