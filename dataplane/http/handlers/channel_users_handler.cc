// GET /apps/{app_id}/channels/{channel_name}/users (spec/http-api.md §3.5).
#include "common/protocol/channel_name.h"
#include "dataplane/http/handlers/handlers.h"

namespace sockudo::dataplane::http::handlers {

void HandleChannelUsers(const ApiCall& call, const std::string& channel, Respond respond) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!CheckRate(call, false, 1, respond, headers)) return;
  if (!protocol::ClassifyChannel(channel).IsPresence() ||
      protocol::CheckChannelName(channel, call.app->ChannelNameLimit(call.node.config.limits)) !=
          protocol::NameCheck::kOk) {
    return respond(JsonError(400, "The channel must be a presence channel."));
  }
  call.node.adapter->GetPresenceMembers(
      call.app->id, channel, [headers, respond](adapter::Answer<std::vector<std::string>> answer) {
        const std::vector<std::string>& ids = answer.value;
        // Member ids are stored as JSON values so numbers stay
        // numbers.
        std::string body = "{\"users\":[";
        for (size_t i = 0; i < ids.size(); ++i) {
          if (i > 0) body.push_back(',');
          body += "{\"id\":" + ids[i] + "}";
        }
        body += "]}";
        HttpResponse r = JsonOk(std::move(body));
        r.headers = headers;
        respond(std::move(r));
      });
}

}  // namespace sockudo::dataplane::http::handlers
