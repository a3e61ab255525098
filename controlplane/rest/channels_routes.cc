#include "absl/strings/str_cat.h"
#include "controlplane/rest/routes.h"
#include "controlplane/service/app_proto.h"
#include "controlplane/service/channels_service.h"
#include "controlplane/service/resource_names.h"

namespace sockudo::controlplane::rest {

bool RouteChannels(RestCall& call, service::ChannelsService* channels, const JsonReply& reply) {
  const auto& s = call.segments;
  if (s.size() < 3 || s[0] != "apps" || s[2] != "channels") return false;
  if (channels == nullptr) {
    reply(absl::UnimplementedError("the Channels API is not served here"));
    return true;
  }
  if (call.method != "GET" || !call.verb.empty()) {
    reply(call.verb.empty() ? MethodNotAllowed(call)
                            : absl::NotFoundError(absl::StrCat("no route ", call.Path())));
    return true;
  }
  if (s.size() == 3) {
    call.audit->method = "ListChannels";
    call.audit->resource = service::AppName(s[1]);
    v1::ListChannelsRequest request;
    request.set_parent(call.audit->resource);
    if (auto st = ParsePaging(call, &request); !st.ok()) return reply(st), true;
    if (auto it = call.query.find("prefix"); it != call.query.end()) {
      request.set_prefix(it->second);
    }
    channels->ListChannels(
        request, [reply](absl::StatusOr<v1::ListChannelsResponse> r) { ReplyWith(reply, r); });
  } else if (s.size() == 4) {
    call.audit->method = "GetChannel";
    call.audit->resource = service::ChildResourceName(s[1], "channels", s[3]);
    v1::GetChannelRequest request;
    request.set_name(call.audit->resource);
    channels->GetChannel(request, [reply](absl::StatusOr<v1::Channel> r) { ReplyWith(reply, r); });
  } else if (s.size() == 5 && s[4] == "members") {
    call.audit->method = "ListMembers";
    call.audit->resource = service::ChildResourceName(s[1], "channels", s[3]);
    v1::ListMembersRequest request;
    request.set_parent(call.audit->resource);
    if (auto st = ParsePaging(call, &request); !st.ok()) return reply(st), true;
    channels->ListMembers(
        request, [reply](absl::StatusOr<v1::ListMembersResponse> r) { ReplyWith(reply, r); });
  } else {
    reply(absl::NotFoundError(absl::StrCat("no route ", call.Path())));
  }
  return true;
}

}  // namespace sockudo::controlplane::rest
