#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controlplane/rest/routes.h"
#include "controlplane/service/resource_names.h"
#include "controlplane/service/users_service.h"

namespace sockudo::controlplane::rest {

bool RouteUsers(RestCall& call, service::UsersService* users, const JsonReply& reply) {
  std::vector<std::string> s = call.segments;
  if ((s.size() == 2 || s.size() == 3) && s[0] == "users") {
    // The short form, /v1/users/{user}:terminate?app={app}: a user id belongs to one app.
    const auto app = call.query.find("app");
    if (app == call.query.end() || app->second.empty()) {
      reply(absl::InvalidArgumentError(absl::StrCat(
          "app: a user belongs to one app; give it as ?app={app} or call /v1/apps/{app}/users/",
          s[1], call.verb.empty() ? "" : ":", call.verb)));
      return true;
    }
    s.insert(s.begin(), {"apps", app->second});
  }
  if (s.size() < 4 || s[0] != "apps" || s[2] != "users") return false;
  if (users == nullptr) {
    reply(absl::UnimplementedError("the Users API is not served here"));
    return true;
  }
  const std::string name = service::ChildResourceName(s[1], "users", s[3]);
  call.audit->resource = name;
  if (s.size() == 4 && call.verb == "terminate") {
    if (call.method != "POST") return reply(MethodNotAllowed(call)), true;
    call.audit->method = "TerminateUserConnections";
    v1::TerminateUserConnectionsRequest request;
    if (auto st = ParseBody(call.body, &request); !st.ok()) return reply(st), true;
    request.set_name(name);
    users->TerminateUserConnections(
        request,
        [reply](absl::StatusOr<v1::TerminateUserConnectionsResponse> r) { ReplyWith(reply, r); });
  } else if (s.size() == 5 && s[4] == "connections" && call.verb.empty()) {
    if (call.method != "GET") return reply(MethodNotAllowed(call)), true;
    call.audit->method = "CountUserConnections";
    v1::CountUserConnectionsRequest request;
    request.set_name(name);
    users->CountUserConnections(
        request,
        [reply](absl::StatusOr<v1::CountUserConnectionsResponse> r) { ReplyWith(reply, r); });
  } else {
    reply(absl::NotFoundError(absl::StrCat("no route ", call.Path())));
  }
  return true;
}

}  // namespace sockudo::controlplane::rest
