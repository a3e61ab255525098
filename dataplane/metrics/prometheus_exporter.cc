#include "dataplane/metrics/prometheus_exporter.h"

#include <iterator>
#include <set>
#include <stdexcept>

#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace sockudo::dataplane::metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using Labels = std::map<std::string, std::string>;

struct AppCounterSpec {
  const char* name;
  const char* help;
  std::atomic<int64_t> AppCounters::*field;
};

// The per-app counters besides `connected` (a gauge) and http_calls_received_total (by status).
const AppCounterSpec kAppCounters[] = {
    {"new_connections_total", "WebSocket connections opened", &AppCounters::new_connections},
    {"new_disconnections_total", "WebSocket connections closed", &AppCounters::new_disconnections},
    {"socket_received_bytes", "Bytes received over WebSockets",
     &AppCounters::socket_received_bytes},
    {"socket_transmitted_bytes", "Bytes sent over WebSockets",
     &AppCounters::socket_transmitted_bytes},
    {"ws_messages_received_total", "WebSocket messages received",
     &AppCounters::ws_messages_received},
    {"ws_messages_sent_total", "WebSocket messages sent", &AppCounters::ws_messages_sent},
    {"http_received_bytes", "HTTP API request bytes received", &AppCounters::http_received_bytes},
    {"http_transmitted_bytes", "HTTP API response bytes sent",
     &AppCounters::http_transmitted_bytes},
    {"slow_consumer_disconnections_total",
     "Sockets closed with 4100 because their outbound queue overflowed",
     &AppCounters::slow_consumer_closes},
    {"dropped_messages_total", "Messages dropped for a full outbound queue",
     &AppCounters::dropped_messages},
    {"client_events_rejected_total", "Client events rejected with 4301",
     &AppCounters::client_events_rejected},
};

int64_t Load(const std::atomic<int64_t>& v) { return v.load(std::memory_order_relaxed); }

// A prometheus-cpp counter only goes up: it gets what the atomic gained since the last scrape.
void SyncCounter(Counter& counter, int64_t value) {
  const double gained = static_cast<double>(value) - counter.Value();
  if (gained > 0) counter.Increment(gained);
}

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string SanitizePrefix(std::string_view prefix) {
  std::string out;
  out.reserve(prefix.size() + 1);
  for (char c : prefix) {
    out += IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '_' || c == ':' ? c : '_';
  }
  if (!out.empty() && IsAsciiDigit(out.front())) out.insert(out.begin(), '_');
  while (out.size() >= 2 && out[0] == '_' && out[1] == '_') out.erase(out.begin());
  return out;
}

PrometheusExporter::PrometheusExporter(std::string prefix, int64_t port)
    : prefix_(std::move(prefix)),
      port_(port),
      port_label_(std::to_string(port)),
      registry_(std::make_unique<prometheus::Registry>()) {
  connected_ = &AddGauge("connected", "Open WebSocket connections");
  for (const AppCounterSpec& f : kAppCounters) app_counters_.push_back(&AddCounter(f.name, f.help));
  http_calls_ = &AddCounter("http_calls_received_total", "HTTP API calls by status");
  sent_requests_ = &AddCounter("horizontal_adapter_sent_requests", "Requests published to peers");
  received_requests_ =
      &AddCounter("horizontal_adapter_received_requests", "Requests processed from peers");
  received_responses_ =
      &AddCounter("horizontal_adapter_received_responses", "Responses received from peers");
  resolved_promises_ = &AddCounter("horizontal_adapter_resolved_promises",
                                   "Requests that got every expected response");
  uncomplete_promises_ = &AddCounter("horizontal_adapter_uncomplete_promises",
                                     "Requests that hit their deadline or could not be published");
  resolve_time_ = &AddHistogram("horizontal_adapter_resolve_time",
                                "Round-trip time of requests to peers, in milliseconds");
  broadcast_latency_ =
      &AddHistogram("broadcast_latency_ms",
                    "Time from a broadcast's publish on its node to its local delivery on this "
                    "node, in milliseconds");
}

PrometheusExporter::~PrometheusExporter() = default;

Family<Counter>& PrometheusExporter::AddCounter(const std::string& name, const std::string& help) {
  auto& family = prometheus::BuildCounter().Name(prefix_ + name).Help(help).Register(*registry_);
  declared_.push_back({prefix_ + name, help, prometheus::MetricType::Counter});
  return family;
}

Family<Gauge>& PrometheusExporter::AddGauge(const std::string& name, const std::string& help) {
  auto& family = prometheus::BuildGauge().Name(prefix_ + name).Help(help).Register(*registry_);
  declared_.push_back({prefix_ + name, help, prometheus::MetricType::Gauge});
  return family;
}

Family<Histogram>& PrometheusExporter::AddHistogram(const std::string& name,
                                                    const std::string& help) {
  auto& family = prometheus::BuildHistogram().Name(prefix_ + name).Help(help).Register(*registry_);
  declared_.push_back({prefix_ + name, help, prometheus::MetricType::Histogram});
  return family;
}

void PrometheusExporter::SyncHistogram(Family<Histogram>& family, const Labels& labels,
                                       const LatencyHistogram& source) {
  const LatencyHistogram::Snapshot now = source.Read();
  auto it = histograms_.find(&source);
  if (it == histograms_.end()) {
    if (now.count() == 0) return;  // no sample until the first observation
    const Histogram::BucketBoundaries bounds(LatencyHistogram::kBoundsMs.begin(),
                                             LatencyHistogram::kBoundsMs.end());
    it = histograms_.emplace(&source, HistogramMirror{&family.Add(labels, bounds), {}}).first;
  }
  HistogramMirror& mirror = it->second;
  std::vector<double> increments(LatencyHistogram::kBuckets, 0.0);
  bool gained = false;
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    if (now.buckets[i] > mirror.copied.buckets[i]) {
      increments[i] = static_cast<double>(now.buckets[i] - mirror.copied.buckets[i]);
      gained = true;
    }
  }
  if (!gained) return;
  const double sum_ms = now.sum_us > mirror.copied.sum_us
                            ? static_cast<double>(now.sum_us - mirror.copied.sum_us) / 1000.0
                            : 0.0;
  mirror.histogram->ObserveMultiple(increments, sum_ms);
  mirror.copied = now;
}

void PrometheusExporter::SyncNodeGauge(const NodeGauge& g) {
  const bool counter = std::string_view(g.type) == "counter";
  auto it = node_families_.find(g.name);
  if (it == node_families_.end()) {
    NodeFamily family;
    try {
      if (counter) {
        family.counter = &AddCounter(g.name, g.help);
      } else {
        family.gauge = &AddGauge(g.name, g.help);
      }
    } catch (const std::invalid_argument&) {
      // The name is taken by a family of another type: the value is left out.
    }
    it = node_families_.emplace(g.name, family).first;
  }
  Labels labels = {{"port", port_label_}};
  if (g.label != nullptr) labels[g.label] = g.label_value;
  if (counter && it->second.counter != nullptr) {
    SyncCounter(it->second.counter->Add(labels), g.value);
  } else if (!counter && it->second.gauge != nullptr) {
    it->second.gauge->Add(labels).Set(static_cast<double>(g.value));
  }
}

std::string PrometheusExporter::Render(
    const std::vector<std::pair<std::string, const AppCounters*>>& apps,
    const std::vector<std::pair<std::string, const AppClusterCounters*>>& cluster,
    const std::vector<NodeGauge>& gauges) {
  for (const auto& [app_id, counters] : apps) {
    const Labels labels = {{"app_id", app_id}, {"port", port_label_}};
    connected_->Add(labels).Set(static_cast<double>(Load(counters->connected)));
    for (size_t i = 0; i < std::size(kAppCounters); ++i) {
      SyncCounter(app_counters_[i]->Add(labels), Load((*counters).*(kAppCounters[i].field)));
    }
    for (size_t i = 0; i <= AppCounters::kStatuses.size(); ++i) {
      const int64_t n = Load(counters->http_calls[i]);
      if (n == 0) continue;
      Labels with_status = labels;
      with_status["status"] = i < AppCounters::kStatuses.size()
                                  ? std::to_string(AppCounters::kStatuses[i])
                                  : std::string("other");
      SyncCounter(http_calls_->Add(with_status), n);
    }
  }
  for (const auto& [app_id, counters] : cluster) {
    const Labels labels = {{"app_id", app_id}, {"port", port_label_}};
    SyncCounter(sent_requests_->Add(labels), Load(counters->sent_requests));
    SyncCounter(received_requests_->Add(labels), Load(counters->received_requests));
    SyncCounter(received_responses_->Add(labels), Load(counters->received_responses));
    SyncCounter(resolved_promises_->Add(labels), Load(counters->resolved_promises));
    SyncCounter(uncomplete_promises_->Add(labels), Load(counters->uncomplete_promises));
    SyncHistogram(*resolve_time_, labels, counters->resolve_time);
    for (size_t k = 0; k < kChannelKinds; ++k) {
      Labels with_type = labels;
      with_type["channel_type"] = std::string(ChannelKindName(static_cast<ChannelKind>(k)));
      SyncHistogram(*broadcast_latency_, with_type, counters->broadcast_latency[k]);
    }
  }
  for (const NodeGauge& g : gauges) SyncNodeGauge(g);

  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  std::set<std::string> present;
  for (const prometheus::MetricFamily& f : families) present.insert(f.name);
  for (const Declared& d : declared_) {
    if (present.insert(d.name).second) families.push_back({d.name, d.help, d.type, {}});
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace sockudo::dataplane::metrics
