// POST /apps/{app_id}/batch_events: every item validated before any is published; published in
// array order.
#include <variant>

#include "absl/strings/str_cat.h"
#include "dataplane/http/gather.h"
#include "dataplane/http/handlers/handlers.h"
#include "dataplane/http/publisher.h"

namespace sockudo::dataplane::http::handlers {

namespace {
void PublishBatch(node::NodeContext& node, const apps::App& app,
                  std::shared_ptr<const std::vector<EventToPublish>> shared, bool any_info,
                  Headers headers, Respond respond);
}  // namespace

void HandleBatchEvents(const ApiCall& call, Respond respond) {
  auto batch = call.body.find("batch");
  if (batch == call.body.end() || !batch->is_array()) {
    return respond(JsonError(400, "The received data is incorrect"));
  }
  const int64_t max_batch = call.app->EventBatchLimit(call.node.config.limits);
  if (static_cast<int64_t>(batch->size()) > max_batch) {
    return respond(JsonError(
        400, absl::StrCat("Cannot batch-send more than ", max_batch, " messages at once")));
  }
  std::vector<EventToPublish> events;
  int64_t cost = 0;
  bool any_info = false;
  for (const base::Json& item : *batch) {
    auto validated = ValidateEvent(*call.app, call.node.config.limits, item);
    if (auto* error = std::get_if<HttpResponse>(&validated)) return respond(std::move(*error));
    events.push_back(std::get<EventToPublish>(std::move(validated)));
    cost += static_cast<int64_t>(events.back().channels.size());
    any_info = any_info || !events.back().info.empty();
  }
  auto shared = std::make_shared<const std::vector<EventToPublish>>(std::move(events));
  if (shared->empty()) return PublishBatch(call.node, *call.app, shared, false, {}, respond);
  CheckRate(call, true, cost, std::move(respond),
            [node = &call.node, app = call.app, shared, any_info](Respond respond,
                                                                  Headers headers) {
              PublishBatch(*node, *app, shared, any_info, std::move(headers), std::move(respond));
            });
}

namespace {

// Published in array order; answered once the bus has them all (503 if it failed one).
void PublishBatch(node::NodeContext& node, const apps::App& app,
                  std::shared_ptr<const std::vector<EventToPublish>> shared, bool any_info,
                  Headers headers, Respond respond) {
  auto published = Gather<absl::Status>::Create(
      shared->size(),
      [node = &node, app_id = app.id, shared, any_info, headers = std::move(headers),
       respond = std::move(respond)](std::vector<absl::Status> statuses) {
        for (const absl::Status& s : statuses) {
          if (!s.ok()) return respond(PublishUnavailable());
        }
        if (!any_info) {
          HttpResponse r = JsonOk("{}");
          r.headers = headers;
          return respond(std::move(r));
        }
        const std::vector<EventToPublish>& events = *shared;
        auto gather = Gather<base::Json>::Create(
            events.size(), [headers, respond](std::vector<base::Json> infos) {
              base::Json out = {{"batch", base::Json::array()}};
              for (base::Json& info : infos) out["batch"].push_back(std::move(info));
              HttpResponse r = JsonOk(base::Dump(out));
              r.headers = headers;
              respond(std::move(r));
            });
        for (size_t i = 0; i < events.size(); ++i) {
          ChannelInfoAttributes(*node, app_id, events[i].channels.front(), events[i].info,
                                [gather, i](base::Json v) { gather->Set(i, std::move(v)); });
        }
      });
  for (size_t i = 0; i < shared->size(); ++i) {
    Publish(node, app, (*shared)[i],
            [published, i](absl::Status s) { published->Set(i, std::move(s)); });
  }
}

}  // namespace

}  // namespace sockudo::dataplane::http::handlers
