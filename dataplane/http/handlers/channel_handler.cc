// GET /apps/{app_id}/channels/{channel_name}.
#include "absl/strings/str_split.h"
#include "common/protocol/channel_name.h"
#include "dataplane/http/handlers/handlers.h"

namespace sockudo::dataplane::http::handlers {
namespace {
void Answer(node::NodeContext& node, const std::string& app_id, const std::string& channel,
            protocol::ChannelTraits traits, bool want_cache, Headers headers, Respond respond);
void AnswerWithCache(node::NodeContext& node, const std::string& app_id,
                     const std::string& channel, protocol::ChannelTraits traits,
                     std::optional<cache::CachedEvent> cached, Headers headers, Respond respond);
}  // namespace

void HandleChannel(const ApiCall& call, const std::string& channel, Respond respond) {
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
  CheckRate(call, false, 1, std::move(respond),
            [node = &call.node, app_id = call.app->id, channel, traits,
             want_cache = want_cache && traits.cache](Respond respond, Headers headers) {
              Answer(*node, app_id, channel, traits, want_cache, std::move(headers),
                     std::move(respond));
            });
}

namespace {

void Answer(node::NodeContext& node, const std::string& app_id, const std::string& channel,
            protocol::ChannelTraits traits, bool want_cache, Headers headers, Respond respond) {
  if (want_cache && node.cache) {
    // The last event first (from a shared store on its own thread: back to a worker), then the
    // counts.
    auto counts = [node = &node, app_id, channel, traits, headers,
                   respond](std::optional<cache::CachedEvent> cached) {
      AnswerWithCache(*node, app_id, channel, traits, std::move(cached), headers, respond);
    };
    if (node.cache->answers_inline()) return node.cache->Get(app_id, channel, std::move(counts));
    node::WorkerPool* workers = node.workers;
    const size_t index = std::hash<std::string>{}(app_id) % workers->size();
    return node.cache->Get(
        app_id, channel,
        [workers, index, counts = std::move(counts)](std::optional<cache::CachedEvent> cached) mutable {
          workers->Post(index, [counts = std::move(counts), cached](node::WorkerState&) {
            counts(cached);
          });
        });
  }
  AnswerWithCache(node, app_id, channel, traits, std::nullopt, std::move(headers),
                  std::move(respond));
}

void AnswerWithCache(node::NodeContext& node, const std::string& app_id,
                     const std::string& channel, protocol::ChannelTraits traits,
                     std::optional<cache::CachedEvent> cached, Headers headers, Respond respond) {
  node.adapter->GetChannel(
      app_id, channel,
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

}  // namespace

}  // namespace sockudo::dataplane::http::handlers
