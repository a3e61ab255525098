// POST /apps/{app_id}/events.
#include <variant>

#include "dataplane/http/gather.h"
#include "dataplane/http/handlers/handlers.h"
#include "dataplane/http/publisher.h"

namespace sockudo::dataplane::http::handlers {
namespace {

// Answers once the bus has the event (or failed to take it: 503), then with the info asked for.
void PublishAndAnswer(node::NodeContext& node, const apps::App& app,
                      std::shared_ptr<const EventToPublish> shared, Headers headers,
                      Respond respond) {
  Publish(node, app, *shared,
          [node = &node, app_id = app.id, shared, headers = std::move(headers),
           respond = std::move(respond)](absl::Status published) mutable {
            const EventToPublish& event = *shared;
            if (!published.ok()) return respond(PublishUnavailable());
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
              ChannelInfoAttributes(*node, app_id, event.channels[i], event.info,
                                    [gather, i](base::Json v) { gather->Set(i, std::move(v)); });
            }
          });
}

}  // namespace

void HandleEvents(const ApiCall& call, Respond respond) {
  auto validated = ValidateEvent(*call.app, call.node.config.limits, call.body);
  if (auto* error = std::get_if<HttpResponse>(&validated)) return respond(std::move(*error));
  auto shared =
      std::make_shared<const EventToPublish>(std::get<EventToPublish>(std::move(validated)));
  const auto cost = static_cast<int64_t>(shared->channels.size());
  CheckRate(call, true, cost, std::move(respond),
            [node = &call.node, app = call.app, shared](Respond respond, Headers headers) {
              PublishAndAnswer(*node, *app, shared, std::move(headers), std::move(respond));
            });
}

}  // namespace sockudo::dataplane::http::handlers
