// File: request_auth.h
// Authentication of /apps/{app_id}/... requests, in this order: app, auth parameters, key,
// timestamp window, body_md5, signature (constant time), enabled, JSON body. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <variant>

#include "common/apps/app.h"
#include "common/base/json.h"
#include "dataplane/http/http_types.h"

namespace sockudo::dataplane::http {

struct Authenticated {
  std::shared_ptr<const apps::App> app;
  base::Json body;  // the parsed JSON object of a POST; null for GET
};

// `app` is the app of the path's `app_id` (nullptr when unknown). `now` is the server's Unix
// time in seconds (injected for tests).
std::variant<Authenticated, HttpResponse> AuthenticateRequest(std::shared_ptr<const apps::App> app,
                                                              const HttpRequest& request,
                                                              const std::string& app_id,
                                                              int64_t now);

int64_t UnixNow();

}  // namespace sockudo::dataplane::http
