#include "controlplane/service/users_service.h"

#include <utility>

#include "controlplane/service/cluster_answer.h"
#include "controlplane/service/resource_names.h"

namespace sockudo::controlplane::service {
namespace {

bus::RequestBody UserRequest(bus::RequestType type, const ChildName& name) {
  bus::RequestBody request;
  request.request_type = type;
  request.app_id = name.app_id;
  // A signed-in user id is a string (pusher:signin user_data.id).
  request.user_id_json = base::Dump(base::Json(name.child));
  return request;
}

int64_t SumSockets(const bus::RequestRouter::Result& result) {
  int64_t sum = 0;
  for (const bus::ResponseBody& r : result.responses) sum += r.sockets_count;
  return sum;
}

}  // namespace

void UsersService::CountUserConnections(const v1::CountUserConnectionsRequest& request,
                                        Callback<v1::CountUserConnectionsResponse> done) {
  auto name = ParseChildName(request.name(), "users", "name");
  if (!name.ok()) return done(name.status());
  if (auto st = RequireApp(*apps_, name->app_id); !st.ok()) return done(st);
  observer_->Ask(UserRequest(bus::RequestType::kCountUserConnections, *name),
                 [done = std::move(done)](absl::StatusOr<bus::RequestRouter::Result> r) {
                   if (!r.ok()) return done(r.status());
                   v1::CountUserConnectionsResponse response;
                   response.set_connections(SumSockets(*r));
                   *response.mutable_answer() = ToClusterAnswer(*r);
                   done(std::move(response));
                 });
}

void UsersService::TerminateUserConnections(const v1::TerminateUserConnectionsRequest& request,
                                            Callback<v1::TerminateUserConnectionsResponse> done) {
  auto name = ParseChildName(request.name(), "users", "name");
  if (!name.ok()) return done(name.status());
  if (auto st = RequireApp(*apps_, name->app_id); !st.ok()) return done(st);
  // Count first (for connections_before), then close: both go to every node.
  const bus::RequestType close = request.reconnect() ? bus::RequestType::kForceReconnect
                                                     : bus::RequestType::kTerminateUserConnections;
  observer_->Ask(
      UserRequest(bus::RequestType::kCountUserConnections, *name),
      [this, name = *name, close,
       done = std::move(done)](absl::StatusOr<bus::RequestRouter::Result> counted) mutable {
        if (!counted.ok()) return done(counted.status());
        const int64_t before = SumSockets(*counted);
        observer_->Ask(UserRequest(close, name), [before, done = std::move(done)](
                                                     absl::StatusOr<bus::RequestRouter::Result> r) {
          if (!r.ok()) return done(r.status());
          v1::TerminateUserConnectionsResponse response;
          response.set_connections_before(before);
          *response.mutable_answer() = ToClusterAnswer(*r);
          done(std::move(response));
        });
      });
}

}  // namespace sockudo::controlplane::service
