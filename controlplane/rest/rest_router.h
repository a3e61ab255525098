// File: rest_router.h
// REST/JSON front of the control plane: checks the bearer token, hands each `/v1/...` call to
// the route of its API (routes.h: apps, cluster, users, channels, events), which calls the same
// service method as gRPC, and turns the outcome into the HTTP answer (status code of Google's
// REST mapping, JSON error body) and one audit line. No networking here (rest_server.h owns the
// sockets), so every route is unit-testable. Any other GET path serves the live cluster page's
// files (controlplane/web/), which need no token: the page asks for one when the API answers
// 401. Thread-safe.
//
//   router.HandleAsync(request, [](RestResponse r) { ... });   // maybe later, any thread
//   RestResponse r = router.Handle(request);                   // waits (tests)
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "controlplane/auth/token_authenticator.h"
#include "controlplane/rest/event_stream.h"
#include "controlplane/service/services.h"

namespace sockudo::controlplane::rest {

struct RestRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received
  std::string authorization;
  std::string body;
  std::string peer;  // for the audit line
};

struct RestResponse {
  int status = 200;
  std::string body;  // JSON, or a page asset
  std::string content_type = "application/json";
  std::shared_ptr<EventStream> stream;  // set: a text/event-stream that stays open (no body)
};

class RestRouter {
 public:
  RestRouter(service::Services services, const auth::TokenAuthenticator* auth)
      : services_(services), auth_(auth) {}
  // The Apps API alone.
  RestRouter(service::AppService* apps, const auth::TokenAuthenticator* auth)
      : RestRouter(service::Services{.apps = apps}, auth) {}

  // `done` runs exactly once: inside this call, or later on the thread that got the answer
  // (cluster-wide calls answer from the bus observer's thread).
  void HandleAsync(const RestRequest& request, std::function<void(RestResponse)> done) const;
  // HandleAsync, waiting for the answer.
  RestResponse Handle(const RestRequest& request) const;

 private:
  service::Services services_;
  const auth::TokenAuthenticator* auth_;
};

}  // namespace sockudo::controlplane::rest
