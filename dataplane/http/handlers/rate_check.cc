#include <functional>

#include "common/limits/rate_limiter.h"
#include "dataplane/http/handlers/handlers.h"

namespace sockudo::dataplane::http::handlers {

void CheckRate(const ApiCall& call, bool backend_events, int64_t cost, Respond respond,
               std::function<void(Respond, Headers)> next) {
  const auto& limit = backend_events ? call.app->max_backend_events_per_second
                                     : call.app->max_read_requests_per_second;
  sockudo::limits::RateLimiter* limiter = call.node.rate_limiter.get();
  if (!limit.has_value() || *limit <= 0 || limiter == nullptr) return next(std::move(respond), {});
  // One token bucket per app and kind, in the limiter's store (shared by the nodes with redis).
  const std::string key = sockudo::limits::AppBudgetKey(call.app->id, backend_events);
  auto decide =
      [counters = &call.node.metrics.rate_limits(),
       which = backend_events ? metrics::Limiter::kBackendEvents : metrics::Limiter::kReadRequests,
       respond = std::move(respond), next = std::move(next)](sockudo::limits::RateDecision d) {
        counters->Count(which, d.allowed);
        Headers headers = {{"X-RateLimit-Limit", std::to_string(d.limit)},
                           {"X-RateLimit-Remaining", std::to_string(d.remaining)}};
        if (!d.allowed) {
          HttpResponse r = JsonError(429, "Too many requests.");
          r.headers = std::move(headers);
          r.headers.emplace_back("Retry-After", std::to_string(d.reset_seconds));
          return respond(std::move(r));
        }
        next(respond, std::move(headers));
      };
  if (limiter->answers_inline()) return limiter->TakeTokens(key, *limit, cost, std::move(decide));
  // A shared store answers on its own thread: the call goes on on a worker of this node.
  node::WorkerPool* workers = call.node.workers;
  const size_t index = std::hash<std::string>{}(call.app->id) % workers->size();
  // `decide` (the answer's path to the session) moves on with the work: nothing of the session
  // is released on the store's thread.
  limiter->TakeTokens(
      key, *limit, cost,
      [workers, index, decide = std::move(decide)](sockudo::limits::RateDecision d) mutable {
        workers->Post(index, [decide = std::move(decide), d](node::WorkerState&) { decide(d); });
      });
}

}  // namespace sockudo::dataplane::http::handlers
