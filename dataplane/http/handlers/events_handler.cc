// POST /apps/{app_id}/events (spec/http-api.md §3.1).
#include <variant>

#include "dataplane/http/gather.h"
#include "dataplane/http/handlers/handlers.h"
#include "dataplane/http/publisher.h"

namespace sockudo::dataplane::http::handlers {

void HandleEvents(const ApiCall& call, Respond respond) {
  auto validated = ValidateEvent(*call.app, call.node.config.limits, call.body);
  if (auto* error = std::get_if<HttpResponse>(&validated)) return respond(std::move(*error));
  const EventToPublish event = std::get<EventToPublish>(std::move(validated));
  std::vector<std::pair<std::string, std::string>> headers;
  if (!CheckRate(call, true, static_cast<int64_t>(event.channels.size()), respond, headers)) return;

  Publish(call.node, *call.app, event);
  if (event.info.empty()) {
    HttpResponse r = JsonOk(R"({"ok":true})");
    r.headers = std::move(headers);
    return respond(std::move(r));
  }
  auto gather = Gather<base::Json>::Create(
      event.channels.size(),
      [channels = event.channels, headers, respond](std::vector<base::Json> infos) {
        base::Json out = {{"channels", base::Json::object()}};
        for (size_t i = 0; i < channels.size(); ++i)
          out["channels"][channels[i]] = std::move(infos[i]);
        HttpResponse r = JsonOk(base::Dump(out));
        r.headers = headers;
        respond(std::move(r));
      });
  for (size_t i = 0; i < event.channels.size(); ++i) {
    ChannelInfoAttributes(call.node, call.app->id, event.channels[i], event.info,
                          [gather, i](base::Json v) { gather->Set(i, std::move(v)); });
  }
}

}  // namespace sockudo::dataplane::http::handlers
