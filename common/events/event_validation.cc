#include "common/events/event_validation.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/protocol/channel_name.h"

namespace sockudo::events {
namespace {

constexpr char kIncorrect[] = "The received data is incorrect";
constexpr char kNoChannels[] = "Request must contain 'channels' (list) or 'channel' (string)";

EventError Error(std::string field, std::string message, int status = 400) {
  return EventError{status, std::move(message), std::move(field)};
}

}  // namespace

std::variant<EventToPublish, EventError> ValidateEvent(const apps::App& app,
                                                       const apps::LimitDefaults& limits,
                                                       const base::Json& item) {
  if (!item.is_object()) return Error("", kIncorrect);
  EventToPublish event;
  auto name = item.find("name");
  if (name == item.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return Error("name", kIncorrect);
  }
  event.name = name->get<std::string>();
  if (protocol::Utf8Length(event.name) > app.EventNameLimit(limits)) {
    return Error("name", absl::StrCat("Event name is too long. Maximum allowed size is ",
                                      app.EventNameLimit(limits), "."));
  }
  auto data = item.find("data");
  if (data == item.end()) return Error("data", kIncorrect);
  event.data = data->is_string() ? data->get<std::string>() : base::Dump(*data);

  auto channels = item.find("channels");
  auto channel = item.find("channel");
  if (channels != item.end() && !channels->is_null()) {
    if (!channels->is_array() || channels->empty()) return Error("channels", kNoChannels);
    for (const base::Json& c : *channels) {
      if (!c.is_string()) return Error("channels", kNoChannels);
      event.channels.push_back(c.get<std::string>());
    }
  } else if (channel != item.end() && channel->is_string()) {
    event.channels.push_back(channel->get<std::string>());
  } else {
    return Error("channels", kNoChannels);
  }
  const int64_t max_channels = app.EventChannelsLimit(limits);
  if (static_cast<int64_t>(event.channels.size()) > max_channels) {
    return Error("channels",
                 absl::StrCat("Cannot broadcast to more than ", max_channels, " channels at once"));
  }
  for (const std::string& c : event.channels) {
    if (protocol::CheckChannelName(c, app.ChannelNameLimit(limits)) != protocol::NameCheck::kOk) {
      return Error("channels", absl::StrCat("Invalid channel name: ", c));
    }
  }
  if (event.data.size() > app.EventPayloadLimitBytes(limits)) {
    return Error("data",
                 absl::StrCat("The event data should be less than ",
                              app.EventPayloadLimitKb(limits), " KB."),
                 413);
  }
  auto socket_id = item.find("socket_id");
  if (socket_id != item.end() && socket_id->is_string()) {
    event.socket_id = socket_id->get<std::string>();
  }
  auto info = item.find("info");
  if (info != item.end() && info->is_string()) {
    for (absl::string_view part :
         absl::StrSplit(info->get<std::string>(), ',', absl::SkipEmpty())) {
      event.info.emplace_back(part);
    }
  }
  return event;
}

}  // namespace sockudo::events
