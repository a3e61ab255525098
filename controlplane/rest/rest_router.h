// File: rest_router.h
// REST/JSON front of the control plane: maps `/v1/...` routes to the same service calls gRPC
// uses, translating bodies and responses with protobuf's JSON mapping. No networking here
// (rest_server.h owns the sockets), so every route is unit-testable. Thread-safe.
//
//   GET    /v1/apps?page_size=&page_token=      ListApps
//   POST   /v1/apps?app_id=                     CreateApp        body: App
//   GET    /v1/apps/{id}                        GetApp
//   PATCH  /v1/apps/{id}?update_mask=a,b        UpdateApp        body: App
//   DELETE /v1/apps/{id}                        DeleteApp
//   POST   /v1/apps/{id}:rotateSecret|:enable|:disable
#pragma once

#include <string>

#include "controlplane/auth/token_authenticator.h"
#include "controlplane/service/app_service.h"

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
  std::string body;  // JSON
};

class RestRouter {
 public:
  RestRouter(service::AppService* apps, const auth::TokenAuthenticator* auth)
      : apps_(apps), auth_(auth) {}

  RestResponse Handle(const RestRequest& request) const;

 private:
  service::AppService* apps_;
  const auth::TokenAuthenticator* auth_;
};

}  // namespace sockudo::controlplane::rest
