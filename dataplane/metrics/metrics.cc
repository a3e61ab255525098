#include "dataplane/metrics/metrics.h"

#include "dataplane/metrics/cluster_observer.h"
#include "dataplane/metrics/prometheus_exporter.h"

namespace sockudo::dataplane::metrics {

void AppCounters::CountHttpCall(int status, size_t answer_bytes) {
  size_t index = kStatuses.size();
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) index = i;
  }
  Add(http_calls[index], 1);
  Add(http_transmitted_bytes, static_cast<int64_t>(answer_bytes));
}

Metrics::Metrics() : cluster_(std::make_unique<ClusterObserver>()) {}

Metrics::~Metrics() = default;

AppCounters& Metrics::ForApp(const std::string& app_id) {
  std::lock_guard lock(mu_);
  auto& slot = apps_[app_id];
  if (!slot) slot = std::make_unique<AppCounters>();
  return *slot;
}

std::vector<std::pair<std::string, const AppCounters*>> Metrics::Apps() const {
  std::vector<std::pair<std::string, const AppCounters*>> out;
  std::lock_guard lock(mu_);
  out.reserve(apps_.size());
  for (const auto& [app_id, counters] : apps_) out.emplace_back(app_id, counters.get());
  return out;
}

std::string Metrics::RenderPrometheus(const std::string& prefix, int64_t port,
                                      const std::vector<NodeGauge>& gauges) const {
  const std::string clean = SanitizePrefix(prefix);
  std::lock_guard lock(render_mu_);
  if (exporter_ == nullptr || exporter_->prefix() != clean || exporter_->port() != port) {
    exporter_ = std::make_unique<PrometheusExporter>(clean, port);
  }
  return exporter_->Render(Apps(), cluster_->Apps(), gauges);
}

void AppendWebhookGauges(const WebhookCounters& w, std::vector<NodeGauge>* out) {
  std::vector<NodeGauge>& all = *out;
  auto load = [](const std::atomic<int64_t>& v) { return v.load(std::memory_order_relaxed); };
  all.push_back({"webhook_jobs_total", "Webhook jobs by outcome", load(w.sent), "counter",
                 "outcome", "completed"});
  all.push_back({"webhook_jobs_total", "Webhook jobs by outcome", load(w.dead_lettered),
                 "counter", "outcome", "dead_lettered"});
  all.push_back({"webhook_jobs_total", "Webhook jobs by outcome", load(w.retried), "counter",
                 "outcome", "nacked"});
  all.push_back({"webhook_jobs_total", "Webhook jobs by outcome", load(w.enqueued), "counter",
                 "outcome", "enqueued"});
  all.push_back({"webhook_jobs_total", "Webhook jobs by outcome", load(w.dropped), "counter",
                 "outcome", "dropped"});
  all.push_back({"webhook_failed_attempts_total", "Webhook HTTP attempts that failed",
                 load(w.failed), "counter"});
  all.push_back({"webhook_delivery_duration_ms_total", "Time spent in webhook HTTP attempts",
                 load(w.delivery_ms_total), "counter"});
  for (auto [state, v] : {std::pair{"wait", &w.queue_wait}, std::pair{"delayed", &w.queue_delayed},
                          std::pair{"active", &w.queue_active}, std::pair{"dlq", &w.queue_dlq}}) {
    all.push_back({"webhook_queue_depth", "Webhook jobs in the queue by state", load(*v), "gauge",
                   "state", state});
  }
}

void AppendRateLimitGauges(const RateLimitCounters& r, std::vector<NodeGauge>* out) {
  auto load = [](const std::atomic<int64_t>& v) { return v.load(std::memory_order_relaxed); };
  for (size_t i = 0; i < std::size(kLimiterNames); ++i) {
    out->push_back({"rate_limit_checks_total", "Rate-limit checks by limiter", load(r.checks[i]),
                    "counter", "limiter", kLimiterNames[i]});
  }
  for (size_t i = 0; i < std::size(kLimiterNames); ++i) {
    out->push_back({"rate_limit_triggered_total", "Requests refused by a rate limit, by limiter",
                    load(r.triggered[i]), "counter", "limiter", kLimiterNames[i]});
  }
  out->push_back({"rate_limit_backend_errors_total",
                  "Rate-limit store failures and timeouts (the request was allowed)",
                  load(r.backend_errors), "counter"});
}

}  // namespace sockudo::dataplane::metrics
