#include "controlplane/rest/rest_router.h"

#include <exception>
#include <future>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controlplane/audit/audit_log.h"
#include "controlplane/rest/http_status.h"
#include "controlplane/rest/routes.h"
#include "controlplane/web/web_assets.h"

namespace sockudo::controlplane::rest {

void RestRouter::HandleAsync(const RestRequest& request,
                             std::function<void(RestResponse)> done) const {
  if (request.method == "GET" || request.method == "HEAD") {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (const web::WebAsset* asset = web::FindWebAsset(path)) {
      return done(RestResponse{200, std::string(asset->body), std::string(asset->content_type)});
    }
  }
  auto call = std::make_shared<RestCall>();
  auto audit = std::make_shared<audit::Call>(
      audit::Call{"rest", request.peer, "anonymous", request.method, ""});
  call->audit = audit.get();
  const bool parsed = call->Parse(request.target);
  audit->method =
      absl::StrCat(request.method, " ", request.target.substr(0, request.target.find('?')));
  JsonReply reply = [audit, call, done = std::move(done)](absl::StatusOr<std::string> result) {
    audit::Record(*audit, result.status());
    if (!result.ok()) {
      return done(RestResponse{HttpStatusFor(result.status().code()), ErrorJson(result.status())});
    }
    if (call->stream) {
      return done(RestResponse{200, "", "text/event-stream", std::move(call->stream)});
    }
    done(RestResponse{200, *std::move(result)});
  };
  if (absl::Status auth = auth_->Check(request.authorization); !auth.ok()) return reply(auth);
  if (auth_->enabled()) audit->principal = "token";
  if (!parsed) return reply(absl::NotFoundError(absl::StrCat("no route ", audit->method)));
  call->method = request.method;
  call->body = request.body;
  try {
    if (RouteApps(*call, services_.apps, reply) || RouteCluster(*call, services_.cluster, reply) ||
        RouteUsers(*call, services_.users, reply) ||
        RouteChannels(*call, services_.channels, reply) ||
        RouteEvents(*call, services_.events, reply)) {
      return;
    }
    reply(absl::NotFoundError(absl::StrCat("no route ", call->Path())));
  } catch (const std::exception& e) {
    // Thrown before the route replied (routes reply last).
    reply(absl::InternalError(e.what()));
  }
}

RestResponse RestRouter::Handle(const RestRequest& request) const {
  auto promise = std::make_shared<std::promise<RestResponse>>();
  auto future = promise->get_future();
  HandleAsync(request, [promise](RestResponse r) { promise->set_value(std::move(r)); });
  return future.get();
}

}  // namespace sockudo::controlplane::rest
