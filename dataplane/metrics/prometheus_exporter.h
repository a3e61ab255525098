// File: prometheus_exporter.h
// The /metrics text of a node through prometheus-cpp. One Registry whose families are built
// once: the per-app and cluster families at construction, a node-wide family the first time it is
// reported. A scrape copies the relaxed atomics into it (gauges are Set, counters incremented by
// what they gained since the last scrape, histograms get their bucket increments through
// ObserveMultiple), then serializes with TextSerializer. Families that have no sample yet still
// show their # HELP / # TYPE lines. Not thread-safe: Metrics serializes scrapes.
//
//   PrometheusExporter exporter("sockudo_", 6001);
//   std::string text = exporter.Render(metrics.Apps(), metrics.cluster().Apps(), gauges);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/metrics/cluster_observer.h"
#include "dataplane/metrics/latency_histogram.h"
#include "dataplane/metrics/metrics.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace sockudo::dataplane::metrics {

// `prefix` with every character a Prometheus metric name does not allow replaced by '_' (and no
// leading digit or "__", which prometheus-cpp refuses).
std::string SanitizePrefix(std::string_view prefix);

class PrometheusExporter {
 public:
  PrometheusExporter(std::string prefix, int64_t port);
  ~PrometheusExporter();
  PrometheusExporter(const PrometheusExporter&) = delete;
  PrometheusExporter& operator=(const PrometheusExporter&) = delete;

  const std::string& prefix() const { return prefix_; }
  int64_t port() const { return port_; }

  std::string Render(const std::vector<std::pair<std::string, const AppCounters*>>& apps,
                     const std::vector<std::pair<std::string, const AppClusterCounters*>>& cluster,
                     const std::vector<NodeGauge>& gauges);

 private:
  struct Declared {  // a family as built, for its # HELP / # TYPE lines
    std::string name;
    std::string help;
    prometheus::MetricType type;
  };
  struct NodeFamily {
    prometheus::Family<prometheus::Counter>* counter = nullptr;
    prometheus::Family<prometheus::Gauge>* gauge = nullptr;
  };
  struct HistogramMirror {
    prometheus::Histogram* histogram = nullptr;
    LatencyHistogram::Snapshot copied;  // what the prometheus-cpp histogram holds already
  };

  prometheus::Family<prometheus::Counter>& AddCounter(const std::string& name,
                                                      const std::string& help);
  prometheus::Family<prometheus::Gauge>& AddGauge(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Histogram>& AddHistogram(const std::string& name,
                                                          const std::string& help);
  void SyncHistogram(prometheus::Family<prometheus::Histogram>& family,
                     const std::map<std::string, std::string>& labels,
                     const LatencyHistogram& source);
  void SyncNodeGauge(const NodeGauge& g);

  const std::string prefix_;
  const int64_t port_;
  const std::string port_label_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::vector<Declared> declared_;

  // Per app, in the order of AppFamilies() in the .cc.
  std::vector<prometheus::Family<prometheus::Counter>*> app_counters_;
  prometheus::Family<prometheus::Gauge>* connected_ = nullptr;
  prometheus::Family<prometheus::Counter>* http_calls_ = nullptr;
  // The cluster families, per app.
  prometheus::Family<prometheus::Counter>* sent_requests_ = nullptr;
  prometheus::Family<prometheus::Counter>* received_requests_ = nullptr;
  prometheus::Family<prometheus::Counter>* received_responses_ = nullptr;
  prometheus::Family<prometheus::Counter>* resolved_promises_ = nullptr;
  prometheus::Family<prometheus::Counter>* uncomplete_promises_ = nullptr;
  prometheus::Family<prometheus::Histogram>* resolve_time_ = nullptr;
  prometheus::Family<prometheus::Histogram>* broadcast_latency_ = nullptr;
  // Node-wide, by unprefixed name, built when first reported.
  std::map<std::string, NodeFamily> node_families_;
  std::map<const LatencyHistogram*, HistogramMirror> histograms_;
};

}  // namespace sockudo::dataplane::metrics
