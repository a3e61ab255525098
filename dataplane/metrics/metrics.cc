#include "dataplane/metrics/metrics.h"

#include "dataplane/metrics/cluster_observer.h"
#include "dataplane/metrics/prometheus_exporter.h"

namespace sockudo::dataplane::metrics {

void AppCounters::CountHttpCall(int status) {
  size_t index = kStatuses.size();
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) index = i;
  }
  Add(http_calls[index], 1);
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

}  // namespace sockudo::dataplane::metrics
