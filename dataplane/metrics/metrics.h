// File: metrics.h
// The node's counters per app, kept as relaxed atomics so the hot path only increments, the cluster
// observations of the adapter (ClusterObserver), and their Prometheus text for /metrics. The text
// comes from prometheus-cpp (a Registry whose families are built once, then TextSerializer), fed at
// scrape time only: nothing on a hot path touches prometheus-cpp (prometheus_exporter.h).
// Thread-safe; AppCounters references stay valid for the process lifetime.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace sockudo::dataplane::metrics {

struct AppCounters {
  std::atomic<int64_t> connected{0};
  std::atomic<int64_t> new_connections{0};
  std::atomic<int64_t> new_disconnections{0};
  std::atomic<int64_t> socket_received_bytes{0};
  std::atomic<int64_t> socket_transmitted_bytes{0};
  std::atomic<int64_t> ws_messages_received{0};
  std::atomic<int64_t> ws_messages_sent{0};
  std::atomic<int64_t> http_received_bytes{0};
  std::atomic<int64_t> http_transmitted_bytes{0};
  std::atomic<int64_t> slow_consumer_closes{0};
  std::atomic<int64_t> dropped_messages{0};
  std::atomic<int64_t> client_events_rejected{0};

  static constexpr std::array<int, 11> kStatuses = {200, 204, 400, 401, 403, 404,
                                                    405, 413, 429, 500, 503};
  std::array<std::atomic<int64_t>, kStatuses.size() + 1> http_calls{};  // last: any other status

  // An answered HTTP API call: by status, and the bytes of its answer's body.
  void CountHttpCall(int status, size_t answer_bytes);

  static void Add(std::atomic<int64_t>& counter, int64_t n) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
};

// A node-wide value read at scrape time, labelled with the port and, when `label` is set, with
// one more label. Several entries may share a name with different label values.
struct NodeGauge {
  const char* name;
  const char* help;
  int64_t value;
  const char* type = "gauge";   // or "counter"
  const char* label = nullptr;  // e.g. "transport", "event"
  std::string label_value;
};

// Webhook delivery, updated by dataplane/webhooks.
struct WebhookCounters {
  std::atomic<int64_t> enqueued{0};        // jobs put on the queue
  std::atomic<int64_t> sent{0};            // jobs delivered (2xx)
  std::atomic<int64_t> failed{0};          // failed HTTP attempts
  std::atomic<int64_t> retried{0};         // attempts rescheduled with backoff
  std::atomic<int64_t> dead_lettered{0};   // jobs given up (permanent, retries exhausted)
  std::atomic<int64_t> dropped{0};         // events lost: queue full, queue `none`, shutdown
  std::atomic<int64_t> delivery_ms_total{0};
  std::atomic<int64_t> queue_wait{0};      // queue depth by state, refreshed every 500 ms
  std::atomic<int64_t> queue_delayed{0};
  std::atomic<int64_t> queue_active{0};
  std::atomic<int64_t> queue_dlq{0};
};

// Rate limiting: checks and denials by limiter, store failures.
// kMessages: an app's message_rate_limit on every inbound WebSocket message of a socket.
enum class Limiter {
  kApi,
  kWebsocketConnect,
  kBackendEvents,
  kReadRequests,
  kClientEvents,
  kMessages
};
inline constexpr const char* kLimiterNames[] = {"api",           "websocket_connect",
                                                "backend_events", "read_requests",
                                                "client_events", "websocket_messages"};
inline constexpr size_t kLimiters = std::size(kLimiterNames);
struct RateLimitCounters {
  std::atomic<int64_t> checks[kLimiters] = {};
  std::atomic<int64_t> triggered[kLimiters] = {};
  std::atomic<int64_t> backend_errors{0};  // store failures and timeouts (the request was allowed)

  void Count(Limiter limiter, bool allowed) {
    const auto i = static_cast<size_t>(limiter);
    checks[i].fetch_add(1, std::memory_order_relaxed);
    if (!allowed) triggered[i].fetch_add(1, std::memory_order_relaxed);
  }
};

// The rate_limit_* samples of /metrics.
void AppendRateLimitGauges(const RateLimitCounters& counters, std::vector<NodeGauge>* out);

// The webhook_* samples of /metrics (webhook_jobs_total{outcome}, webhook_queue_depth{state}, ...).
void AppendWebhookGauges(const WebhookCounters& counters, std::vector<NodeGauge>* out);

class ClusterObserver;
class PrometheusExporter;

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // Counters of `app_id`; "" collects what belongs to no app (unknown keys, bad paths).
  AppCounters& ForApp(const std::string& app_id);
  // Every app seen so far, sorted by id.
  std::vector<std::pair<std::string, const AppCounters*>> Apps() const;

  // What the horizontal adapter records (cluster_observer.h).
  ClusterObserver& cluster() { return *cluster_; }
  const ClusterObserver& cluster() const { return *cluster_; }

  WebhookCounters& webhooks() { return webhooks_; }
  RateLimitCounters& rate_limits() { return rate_limits_; }
  // Cache store failures and timeouts (reads missed, writes dropped).
  std::atomic<int64_t>& cache_errors() { return cache_errors_; }

  // Prometheus text exposition of the per-app counters, the cluster observations and `gauges`.
  // Metric names start with `prefix` (invalid characters become '_'); every sample has
  // port="<port>".
  std::string RenderPrometheus(const std::string& prefix, int64_t port,
                               const std::vector<NodeGauge>& gauges) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<AppCounters>> apps_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ClusterObserver> cluster_;
  WebhookCounters webhooks_;
  RateLimitCounters rate_limits_;
  std::atomic<int64_t> cache_errors_{0};
  // Built on the first scrape (again if the prefix or port changes); scrapes are serialized.
  mutable std::mutex render_mu_;
  mutable std::unique_ptr<PrometheusExporter> exporter_ ABSL_GUARDED_BY(render_mu_);
};

}  // namespace sockudo::dataplane::metrics
