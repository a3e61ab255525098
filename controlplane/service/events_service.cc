#include "controlplane/service/events_service.h"

#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/events/event_validation.h"
#include "common/protocol/channel_name.h"
#include "common/protocol/frame.h"
#include "controlplane/service/app_proto.h"

namespace sockudo::controlplane::service {

absl::StatusOr<v1::PublishEventResponse> EventsService::PublishEvent(
    const v1::PublishEventRequest& request) {
  auto app_id = AppIdFromName(request.parent(), "parent");
  if (!app_id.ok()) return app_id.status();
  auto app = apps_->FindById(*app_id);
  if (app == nullptr) return absl::NotFoundError(absl::StrCat("apps/", *app_id, ": no such app"));
  if (!app->enabled) {
    return absl::PermissionDeniedError(
        absl::StrCat("apps/", *app_id, ": the app is disabled; enable it to publish"));
  }

  base::Json item = {
      {"name", request.name()},
      {"data", request.data()},
      {"channels", std::vector<std::string>(request.channels().begin(), request.channels().end())}};
  if (!request.socket_id().empty()) item["socket_id"] = request.socket_id();
  auto validated = events::ValidateEvent(*app, limits_, item);
  if (auto* error = std::get_if<events::EventError>(&validated)) {
    return absl::InvalidArgumentError(
        error->field.empty() ? error->message : absl::StrCat(error->field, ": ", error->message));
  }
  const auto& event = std::get<events::EventToPublish>(validated);
  const double now_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  for (const std::string& channel : event.channels) {
    bus::BroadcastMessage message;
    message.app_id = app->id;
    message.channel = channel;
    message.message = protocol::ChannelEventFrame(event.name, channel, event.data);
    if (!event.socket_id.empty()) message.except_socket_id = event.socket_id;
    message.timestamp_ms = now_ms;
    message.cache_event = protocol::ClassifyChannel(channel).cache;
    if (auto st = observer_->Broadcast(std::move(message)); !st.ok()) return st;
  }
  v1::PublishEventResponse response;
  response.set_channels(static_cast<int32_t>(event.channels.size()));
  return response;
}

}  // namespace sockudo::controlplane::service
