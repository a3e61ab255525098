#include "absl/strings/str_cat.h"
#include "controlplane/rest/routes.h"
#include "controlplane/service/app_proto.h"
#include "controlplane/service/events_service.h"

namespace sockudo::controlplane::rest {

bool RouteEvents(RestCall& call, service::EventsService* events, const JsonReply& reply) {
  const auto& s = call.segments;
  if (s.size() != 3 || s[0] != "apps" || s[2] != "events") return false;
  if (events == nullptr) {
    reply(absl::UnimplementedError("the Events API is not served here"));
    return true;
  }
  if (call.method != "POST" || !call.verb.empty()) {
    reply(call.verb.empty() ? MethodNotAllowed(call)
                            : absl::NotFoundError(absl::StrCat("no route ", call.Path())));
    return true;
  }
  call.audit->method = "PublishEvent";
  call.audit->resource = service::AppName(s[1]);
  v1::PublishEventRequest request;
  if (auto st = ParseBody(call.body, &request); !st.ok()) return reply(st), true;
  if (!request.parent().empty() && request.parent() != call.audit->resource) {
    reply(absl::InvalidArgumentError("parent: differs from the URL"));
    return true;
  }
  request.set_parent(call.audit->resource);
  events->PublishEvent(
      request, [reply](absl::StatusOr<v1::PublishEventResponse> r) { ReplyWith(reply, r); });
  return true;
}

}  // namespace sockudo::controlplane::rest
