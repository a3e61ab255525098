#include "controlplane/service/channels_service.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/protocol/channel_name.h"
#include "controlplane/service/app_proto.h"
#include "controlplane/service/cluster_answer.h"
#include "controlplane/service/pager.h"
#include "controlplane/service/resource_names.h"
#include "google/protobuf/util/json_util.h"

namespace sockudo::controlplane::service {
namespace {

using Result = bus::RequestRouter::Result;

bus::RequestBody ChannelRequest(bus::RequestType type, const std::string& app_id,
                                const std::string& channel) {
  bus::RequestBody request;
  request.request_type = type;
  request.app_id = app_id;
  if (!channel.empty()) request.channel = channel;
  return request;
}

// Presence members of every node, united by user id (a user on two nodes counts once).
std::map<std::string, bus::PresenceMemberInfo> UniteMembers(const Result& result) {
  std::map<std::string, bus::PresenceMemberInfo> members;
  for (const bus::ResponseBody& r : result.responses) {
    for (const auto& [key, info] : r.members) members.emplace(key, info);
  }
  return members;
}

absl::Status CheckChannel(const std::string& channel) {
  if (protocol::CheckChannelName(channel, 200) != protocol::NameCheck::kOk) {
    return absl::InvalidArgumentError(absl::StrCat("name: invalid channel name \"", channel, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

void ChannelsService::ListChannels(const v1::ListChannelsRequest& request,
                                   Callback<v1::ListChannelsResponse> done) {
  auto app_id = AppIdFromName(request.parent(), "parent");
  if (!app_id.ok()) return done(app_id.status());
  if (auto st = RequireApp(*apps_, *app_id); !st.ok()) return done(st);
  auto pager =
      Pager::Make(request.page_size(), request.page_token(), kDefaultPageSize, "ListChannels");
  if (!pager.ok()) return done(pager.status());
  observer_->Ask(ChannelRequest(bus::RequestType::kChannelsWithSocketsCount, *app_id, ""),
                 [app_id = *app_id, prefix = request.prefix(), pager = *std::move(pager),
                  done = std::move(done)](absl::StatusOr<Result> r) mutable {
                   if (!r.ok()) return done(r.status());
                   std::map<std::string, int64_t> counts;  // sorted by name
                   for (const bus::ResponseBody& resp : r->responses) {
                     for (const auto& [channel, n] : resp.channels_with_sockets_count)
                       counts[channel] += n;
                   }
                   v1::ListChannelsResponse response;
                   for (const auto& [channel, n] : counts) {
                     if (n <= 0 || channel.rfind(prefix, 0) != 0 || !pager.Take(channel)) continue;
                     v1::Channel* c = response.add_channels();
                     c->set_name(ChildResourceName(app_id, "channels", channel));
                     c->set_channel(channel);
                     c->set_occupied(true);
                     c->set_subscription_count(n);
                   }
                   response.set_total_size(pager.total());
                   response.set_next_page_token(pager.next_page_token());
                   *response.mutable_answer() = ToClusterAnswer(*r);
                   done(std::move(response));
                 });
}

void ChannelsService::GetChannel(const v1::GetChannelRequest& request, Callback<v1::Channel> done) {
  auto name = ParseChildName(request.name(), "channels", "name");
  if (!name.ok()) return done(name.status());
  if (auto st = CheckChannel(name->child); !st.ok()) return done(st);
  if (auto st = RequireApp(*apps_, name->app_id); !st.ok()) return done(st);
  const bool presence = protocol::ClassifyChannel(name->child).IsPresence();
  observer_->Ask(
      ChannelRequest(bus::RequestType::kChannelSocketsCount, name->app_id, name->child),
      [this, name = *name, presence, done = std::move(done)](absl::StatusOr<Result> r) mutable {
        if (!r.ok()) return done(r.status());
        v1::Channel channel;
        channel.set_name(ChildResourceName(name.app_id, "channels", name.child));
        channel.set_channel(name.child);
        int64_t sockets = 0;
        for (const bus::ResponseBody& resp : r->responses) sockets += resp.sockets_count;
        channel.set_subscription_count(sockets);
        channel.set_occupied(sockets > 0);
        *channel.mutable_answer() = ToClusterAnswer(*r);
        if (!presence) return done(std::move(channel));
        observer_->Ask(
            ChannelRequest(bus::RequestType::kChannelMembers, name.app_id, name.child),
            [channel = std::move(channel),
             done = std::move(done)](absl::StatusOr<Result> members) mutable {
              if (!members.ok()) return done(members.status());
              channel.set_user_count(static_cast<int64_t>(UniteMembers(*members).size()));
              if (!members->complete) channel.mutable_answer()->set_complete(false);
              done(std::move(channel));
            });
      });
}

void ChannelsService::ListMembers(const v1::ListMembersRequest& request,
                                  Callback<v1::ListMembersResponse> done) {
  auto name = ParseChildName(request.parent(), "channels", "parent");
  if (!name.ok()) return done(name.status());
  if (auto st = CheckChannel(name->child); !st.ok()) return done(st);
  if (!protocol::ClassifyChannel(name->child).IsPresence()) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("parent: ", name->child, " is not a presence channel")));
  }
  if (auto st = RequireApp(*apps_, name->app_id); !st.ok()) return done(st);
  auto pager =
      Pager::Make(request.page_size(), request.page_token(), kDefaultPageSize, "ListMembers");
  if (!pager.ok()) return done(pager.status());
  observer_->Ask(
      ChannelRequest(bus::RequestType::kChannelMembers, name->app_id, name->child),
      [pager = *std::move(pager), done = std::move(done)](absl::StatusOr<Result> r) mutable {
        if (!r.ok()) return done(r.status());
        v1::ListMembersResponse response;
        for (const auto& [key, info] : UniteMembers(*r)) {  // sorted by user id
          if (!pager.Take(key)) continue;
          v1::Member* m = response.add_members();
          m->set_user_id(key);
          // A member's user_info is JSON the node already parsed.
          (void)google::protobuf::util::JsonStringToMessage(info.user_info_json,
                                                            m->mutable_user_info());
        }
        response.set_total_size(pager.total());
        response.set_next_page_token(pager.next_page_token());
        *response.mutable_answer() = ToClusterAnswer(*r);
        done(std::move(response));
      });
}

}  // namespace sockudo::controlplane::service
