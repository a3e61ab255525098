#include "dataplane/http/router.h"

#include <variant>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/apps/origin_matcher.h"
#include "common/protocol/close_codes.h"
#include "dataplane/http/handlers/handlers.h"
#include "dataplane/http/request_auth.h"

namespace sockudo::dataplane::http {

std::optional<std::string> Router::StripPrefix(const std::string& path) const {
  const std::string& prefix = node_.config.path_prefix;
  if (prefix.empty() || prefix == "/") return path;
  std::string p = prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1) : prefix;
  if (path.compare(0, p.size(), p) != 0) return std::nullopt;
  std::string rest = path.substr(p.size());
  if (rest.empty()) rest = "/";
  if (rest[0] != '/') return std::nullopt;
  return rest;
}

namespace {

HttpResponse MethodNotAllowed(const char* allow) {
  HttpResponse r = Text(405, "405 METHOD NOT ALLOWED");
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace

void Router::AddCors(const std::string& request_origin, HttpResponse& response) const {
  const config::CorsConfig& cors = node_.config.cors;
  std::string allow_origin;
  for (const std::string& pattern : cors.origin) {
    if (pattern == "*" || pattern == "any") {
      allow_origin = "*";
      break;
    }
    if (!request_origin.empty() && apps::OriginMatches(pattern, request_origin)) {
      allow_origin = request_origin;
    }
  }
  if (allow_origin.empty()) return;
  response.headers.emplace_back("Access-Control-Allow-Origin", allow_origin);
  response.headers.emplace_back("Access-Control-Allow-Methods", absl::StrJoin(cors.methods, ", "));
  response.headers.emplace_back("Access-Control-Allow-Headers",
                                absl::StrJoin(cors.allowed_headers, ", "));
  if (cors.credentials) response.headers.emplace_back("Access-Control-Allow-Credentials", "true");
}

void Router::Handle(const HttpRequest& request, Respond respond) {
  if (!request.metrics_listener) {
    respond = [this, request_origin = request.origin,
               respond = std::move(respond)](HttpResponse r) {
      AddCors(request_origin, r);
      respond(std::move(r));
    };
  }
  if (request.method == "OPTIONS") {
    HttpResponse r = Text(204, "");
    return respond(std::move(r));
  }
  const std::optional<std::string> stripped =
      request.metrics_listener ? request.path : StripPrefix(request.path);
  // An empty path reaches here from a target such as "?a" or "*".
  if (stripped.has_value() && !stripped->empty() && stripped->front() == '/') {
    if (handlers::HandleHealth(node_, request, *stripped, respond)) return;
    std::vector<std::string> segments = absl::StrSplit(stripped->substr(1), '/');
    if (!request.metrics_listener && segments.size() >= 2 && segments[0] == "apps") {
      return HandleApi(request, segments, std::move(respond));
    }
    if (!request.metrics_listener && segments.size() == 2 && segments[0] == "app" &&
        !segments[1].empty()) {
      // /app/{key} reaches the router only when it was not a valid WebSocket upgrade.
      if (request.method == "GET") return respond(Text(400, "Expected a WebSocket upgrade"));
      return respond(MethodNotAllowed("GET"));
    }
  }
  respond(Text(404, "404 NOT FOUND"));
}

void Router::HandleApi(const HttpRequest& request, const std::vector<std::string>& segments,
                       Respond respond) {
  enum class Route { kNone, kEvents, kBatch, kChannels, kChannel, kUsers, kTerminate, kReconnect };
  Route route = Route::kNone;
  const char* method = "GET";
  const size_t n = segments.size();
  if (n == 3 && segments[2] == "events") {
    route = Route::kEvents, method = "POST";
  } else if (n == 3 && segments[2] == "batch_events") {
    route = Route::kBatch, method = "POST";
  } else if (n == 3 && segments[2] == "channels") {
    route = Route::kChannels;
  } else if (n == 4 && segments[2] == "channels" && !segments[3].empty()) {
    route = Route::kChannel;
  } else if (n == 5 && segments[2] == "channels" && segments[4] == "users") {
    route = Route::kUsers;
  } else if (n == 5 && segments[2] == "users" && segments[4] == "terminate_connections") {
    route = Route::kTerminate, method = "POST";
  } else if (n == 5 && segments[2] == "users" && segments[4] == "force_reconnect") {
    route = Route::kReconnect, method = "POST";
  }
  if (route == Route::kNone || segments[1].empty()) return respond(Text(404, "404 NOT FOUND"));
  if (request.method != method) return respond(MethodNotAllowed(method));
  const std::string app_id = PercentDecode(segments[1]);
  // One lookup serves the metrics label and the authentication.
  std::shared_ptr<const apps::App> app = node_.apps.FindById(app_id);
  auto& counters = node_.metrics.ForApp(app ? app_id : "");
  metrics::AppCounters::Add(counters.http_received_bytes,
                            static_cast<int64_t>(request.body.size()));
  respond = [&counters, respond = std::move(respond)](HttpResponse r) {
    counters.CountHttpCall(r.status, r.body.size());
    respond(std::move(r));
  };
  if (node_.draining.load())
    return respond(JsonError(503, "The server is closing. Choose another server."));

  auto auth = AuthenticateRequest(std::move(app), request, app_id, UnixNow());
  if (auto* error = std::get_if<HttpResponse>(&auth)) return respond(std::move(*error));
  auto& ok = std::get<Authenticated>(auth);
  const handlers::ApiCall call{node_, std::move(ok.app), request, std::move(ok.body)};
  switch (route) {
    case Route::kEvents:
      return handlers::HandleEvents(call, std::move(respond));
    case Route::kBatch:
      return handlers::HandleBatchEvents(call, std::move(respond));
    case Route::kChannels:
      return handlers::HandleChannels(call, std::move(respond));
    case Route::kChannel:
      return handlers::HandleChannel(call, PercentDecode(segments[3]), std::move(respond));
    case Route::kUsers:
      return handlers::HandleChannelUsers(call, PercentDecode(segments[3]), std::move(respond));
    case Route::kTerminate:
      return handlers::HandleUserDisconnect(call, PercentDecode(segments[3]),
                                            protocol::close_code::kUnauthorized,
                                            std::move(respond));
    case Route::kReconnect:
      return handlers::HandleUserDisconnect(call, PercentDecode(segments[3]),
                                            protocol::close_code::kReconnectNow,
                                            std::move(respond));
    case Route::kNone:
      break;
  }
}

}  // namespace sockudo::dataplane::http
