#include "dataplane/http/publisher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dataplane/http/gather.h"
#include "dataplane/protocol/channel_name.h"
#include "dataplane/protocol/frame.h"

namespace sockudo::dataplane::http {

std::variant<EventToPublish, HttpResponse> ValidateEvent(const apps::App& app,
                                                         const apps::LimitDefaults& limits,
                                                         const base::Json& item) {
  if (!item.is_object()) return JsonError(400, "The received data is incorrect");
  EventToPublish event;
  auto name = item.find("name");
  if (name == item.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return JsonError(400, "The received data is incorrect");
  }
  event.name = name->get<std::string>();
  if (protocol::Utf8Length(event.name) > app.EventNameLimit(limits)) {
    return JsonError(400, absl::StrCat("Event name is too long. Maximum allowed size is ",
                                       app.EventNameLimit(limits), "."));
  }
  auto data = item.find("data");
  if (data == item.end()) return JsonError(400, "The received data is incorrect");
  event.data = data->is_string() ? data->get<std::string>() : base::Dump(*data);

  auto channels = item.find("channels");
  auto channel = item.find("channel");
  if (channels != item.end() && !channels->is_null()) {
    if (!channels->is_array() || channels->empty()) {
      return JsonError(400, "Request must contain 'channels' (list) or 'channel' (string)");
    }
    for (const base::Json& c : *channels) {
      if (!c.is_string())
        return JsonError(400, "Request must contain 'channels' (list) or 'channel' (string)");
      event.channels.push_back(c.get<std::string>());
    }
  } else if (channel != item.end() && channel->is_string()) {
    event.channels.push_back(channel->get<std::string>());
  } else {
    return JsonError(400, "Request must contain 'channels' (list) or 'channel' (string)");
  }
  const int64_t max_channels = app.EventChannelsLimit(limits);
  if (static_cast<int64_t>(event.channels.size()) > max_channels) {
    return JsonError(
        400, absl::StrCat("Cannot broadcast to more than ", max_channels, " channels at once"));
  }
  for (const std::string& c : event.channels) {
    if (protocol::CheckChannelName(c, app.ChannelNameLimit(limits)) != protocol::NameCheck::kOk) {
      return JsonError(400, absl::StrCat("Invalid channel name: ", c));
    }
  }
  if (event.data.size() > app.EventPayloadLimitBytes(limits)) {
    return JsonError(413, absl::StrCat("The event data should be less than ",
                                       app.EventPayloadLimitKb(limits), " KB."));
  }
  auto socket_id = item.find("socket_id");
  if (socket_id != item.end() && socket_id->is_string())
    event.socket_id = socket_id->get<std::string>();
  auto info = item.find("info");
  if (info != item.end() && info->is_string()) {
    for (absl::string_view part :
         absl::StrSplit(info->get<std::string>(), ',', absl::SkipEmpty())) {
      event.info.emplace_back(part);
    }
  }
  return event;
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
    if (protocol::ClassifyChannel(channel).cache && node.config.cache.driver != "none") {
      node.cache.Put(app.id, channel, event.name, event.data);
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
