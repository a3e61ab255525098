// GET /apps/{app_id}/channels/{channel_name} (spec/http-api.md §3.4).
#include "absl/strings/str_split.h"
#include "common/protocol/channel_name.h"
#include "dataplane/http/handlers/handlers.h"

namespace sockudo::dataplane::http::handlers {

void HandleChannel(const ApiCall& call, const std::string& channel, Respond respond) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!CheckRate(call, false, 1, respond, headers)) return;
  if (protocol::CheckChannelName(channel, call.app->ChannelNameLimit(call.node.config.limits)) !=
      protocol::NameCheck::kOk) {
    return respond(JsonError(400, "Invalid channel name: " + channel));
  }
  const protocol::ChannelTraits traits = protocol::ClassifyChannel(channel);
  bool want_cache = false;
  if (const std::string* info = call.request.Param("info")) {
    for (absl::string_view part : absl::StrSplit(*info, ',')) {
      if (part == "user_count" && !traits.IsPresence()) {
        return respond(JsonError(400, "user_count is only available for presence channels"));
      }
      want_cache = want_cache || part == "cache";
    }
  }
  std::optional<cache::CachedEvent> cached;
  if (want_cache && traits.cache) cached = call.node.cache.Get(call.app->id, channel);
  call.node.adapter->GetChannel(
      call.app->id, channel,
      [traits, cached, headers, respond](adapter::Answer<adapter::ChannelCounts> answer) {
        const adapter::ChannelCounts& counts = answer.value;
        base::Json out = {{"occupied", counts.subscription_count > 0},
                          {"subscription_count", counts.subscription_count}};
        if (traits.IsPresence()) out["user_count"] = counts.user_count;
        if (cached.has_value()) {
          out["cache"] = {
              {"event", cached->event}, {"data", cached->data}, {"ttl", cached->ttl_seconds}};
        }
        HttpResponse r = JsonOk(base::Dump(out));
        r.headers = headers;
        respond(std::move(r));
      });
}

}  // namespace sockudo::dataplane::http::handlers
