// GET /apps/{app_id}/channels.
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/protocol/channel_name.h"
#include "dataplane/http/handlers/handlers.h"

namespace sockudo::dataplane::http::handlers {
namespace {
void Answer(node::NodeContext& node, const std::string& app_id, const std::string& prefix,
            bool want_users, Headers headers, Respond respond);
}  // namespace

void HandleChannels(const ApiCall& call, Respond respond) {
  const std::string* prefix_param = call.request.Param("filter_by_prefix");
  const std::string prefix = prefix_param ? *prefix_param : "";
  bool want_users = false;
  if (const std::string* info = call.request.Param("info")) {
    for (absl::string_view part : absl::StrSplit(*info, ','))
      want_users = want_users || part == "user_count";
  }
  if (want_users && !absl::StartsWith(prefix, "presence-")) {
    return respond(JsonError(400, "user_count is only available with filter_by_prefix=presence-"));
  }
  CheckRate(call, false, 1, std::move(respond),
            [node = &call.node, app_id = call.app->id, prefix, want_users](Respond respond,
                                                                          Headers headers) {
              Answer(*node, app_id, prefix, want_users, std::move(headers), std::move(respond));
            });
}

namespace {

void Answer(node::NodeContext& node, const std::string& app_id, const std::string& prefix,
            bool want_users, Headers headers, Respond respond) {
  node.adapter->GetChannels(
      app_id, prefix, want_users,
      [want_users, headers, respond](adapter::Answer<adapter::ChannelList> answer) {
        const adapter::ChannelList& list = answer.value;
        base::Json channels = base::Json::object();
        for (const auto& [name, counts] : list) {
          base::Json entry = {{"occupied", true},
                              {"subscription_count", counts.subscription_count}};
          if (want_users && protocol::ClassifyChannel(name).IsPresence())
            entry["user_count"] = counts.user_count;
          channels[name] = std::move(entry);
        }
        HttpResponse r = JsonOk(base::Dump(base::Json{{"channels", std::move(channels)}}));
        r.headers = headers;
        respond(std::move(r));
      });
}

}  // namespace

}  // namespace sockudo::dataplane::http::handlers
