#include "absl/strings/str_cat.h"
#include "dataplane/http/handlers/handlers.h"

namespace sockudo::dataplane::http::handlers {

bool CheckRate(const ApiCall& call, bool backend_events, int64_t cost, Respond& respond,
               std::vector<std::pair<std::string, std::string>>& headers) {
  const auto& limit = backend_events ? call.app->max_backend_events_per_second
                                     : call.app->max_read_requests_per_second;
  if (!limit.has_value() || *limit <= 0) return true;
  const std::string key = absl::StrCat(backend_events ? "events:" : "reads:", call.app->id);
  const limits::RateDecision d = call.node.rate_limiter.Take(key, *limit, cost);
  headers.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
  headers.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
  if (d.allowed) return true;
  HttpResponse r = JsonError(429, "Too many requests.");
  r.headers = headers;
  r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
  respond(std::move(r));
  return false;
}

}  // namespace sockudo::dataplane::http::handlers
