#include "dataplane/http/publisher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/protocol/channel_name.h"
#include "common/protocol/frame.h"
#include "dataplane/http/gather.h"

namespace sockudo::dataplane::http {

std::variant<EventToPublish, HttpResponse> ValidateEvent(const apps::App& app,
                                                         const apps::LimitDefaults& limits,
                                                         const base::Json& item) {
  auto validated = events::ValidateEvent(app, limits, item);
  if (auto* error = std::get_if<events::EventError>(&validated)) {
    return JsonError(error->http_status, error->message);
  }
  return std::get<EventToPublish>(std::move(validated));
}

void Publish(node::NodeContext& node, const apps::App& app, const EventToPublish& event,
             adapter::StatusCallback done) {
  auto gather = Gather<absl::Status>::Create(
      event.channels.size(), [done = std::move(done)](std::vector<absl::Status> statuses) {
        for (absl::Status& s : statuses) {
          if (!s.ok()) return done(std::move(s));
        }
        done(absl::OkStatus());
      });
  for (size_t i = 0; i < event.channels.size(); ++i) {
    const std::string& channel = event.channels[i];
    auto frame = protocol::MakeShared(protocol::ChannelEventFrame(event.name, channel, event.data));
    auto set = [gather, i](absl::Status s) { gather->Set(i, std::move(s)); };
    if (auto user = protocol::ServerToUserId(channel)) {
      node.adapter->SendToUser(app.id, std::string(*user), std::move(frame), event.socket_id, set);
      continue;
    }
    if (protocol::ClassifyChannel(channel).cache && node.cache) {
      node.cache->Put(app.id, channel, event.name, event.data);
    }
    node.adapter->Broadcast(app.id, channel, std::move(frame), event.socket_id, set);
  }
}

HttpResponse PublishUnavailable() {
  return JsonError(503, "The event could not be sent to the other nodes. Try again.");
}

void ChannelInfoAttributes(node::NodeContext& node, const std::string& app_id,
                           const std::string& channel, const std::vector<std::string>& info,
                           std::function<void(base::Json)> done) {
  const bool want_subs = std::find(info.begin(), info.end(), "subscription_count") != info.end();
  const bool want_users = std::find(info.begin(), info.end(), "user_count") != info.end() &&
                          protocol::ClassifyChannel(channel).IsPresence();
  if (!want_subs && !want_users) {
    done(base::Json::object());
    return;
  }
  node.adapter->GetChannel(
      app_id, channel, [want_subs, want_users, done](adapter::Answer<adapter::ChannelCounts> a) {
        const adapter::ChannelCounts& counts = a.value;
        base::Json out = base::Json::object();
        if (want_users) out["user_count"] = counts.user_count;
        if (want_subs) out["subscription_count"] = counts.subscription_count;
        done(std::move(out));
      });
}

}  // namespace sockudo::dataplane::http
