// GET /apps/{app_id}/channels/{channel_name}/users.
#include "common/protocol/channel_name.h"
#include "dataplane/http/handlers/handlers.h"

namespace sockudo::dataplane::http::handlers {
namespace {
void Answer(node::NodeContext& node, const std::string& app_id, const std::string& channel,
            Headers headers, Respond respond);
}  // namespace

void HandleChannelUsers(const ApiCall& call, const std::string& channel, Respond respond) {
  if (!protocol::ClassifyChannel(channel).IsPresence() ||
      protocol::CheckChannelName(channel, call.app->ChannelNameLimit(call.node.config.limits)) !=
          protocol::NameCheck::kOk) {
    return respond(JsonError(400, "The channel must be a presence channel."));
  }
  CheckRate(call, false, 1, std::move(respond),
            [node = &call.node, app_id = call.app->id, channel](Respond respond, Headers headers) {
              Answer(*node, app_id, channel, std::move(headers), std::move(respond));
            });
}

namespace {

void Answer(node::NodeContext& node, const std::string& app_id, const std::string& channel,
            Headers headers, Respond respond) {
  node.adapter->GetPresenceMembers(
      app_id, channel, [headers, respond](adapter::Answer<std::vector<std::string>> answer) {
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

}  // namespace

}  // namespace sockudo::dataplane::http::handlers
