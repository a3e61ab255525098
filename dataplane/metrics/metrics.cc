#include "dataplane/metrics/metrics.h"

#include "absl/strings/str_cat.h"

namespace sockudo::dataplane::metrics {

void AppCounters::CountHttpCall(int status) {
  size_t index = kStatuses.size();
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) index = i;
  }
  Add(http_calls[index], 1);
}

AppCounters& Metrics::ForApp(const std::string& app_id) {
  std::lock_guard lock(mu_);
  auto& slot = apps_[app_id];
  if (!slot) slot = std::make_unique<AppCounters>();
  return *slot;
}

std::string Metrics::RenderPrometheus(const std::string& prefix, int64_t port,
                                      const std::vector<NodeGauge>& gauges) const {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::atomic<int64_t> AppCounters::*field;
  };
  static const Family kFamilies[] = {
      {"connected", "gauge", "Open WebSocket connections", &AppCounters::connected},
      {"new_connections_total", "counter", "WebSocket connections opened",
       &AppCounters::new_connections},
      {"new_disconnections_total", "counter", "WebSocket connections closed",
       &AppCounters::new_disconnections},
      {"socket_received_bytes", "counter", "Bytes received over WebSockets",
       &AppCounters::socket_received_bytes},
      {"socket_transmitted_bytes", "counter", "Bytes sent over WebSockets",
       &AppCounters::socket_transmitted_bytes},
      {"ws_messages_received_total", "counter", "WebSocket messages received",
       &AppCounters::ws_messages_received},
      {"ws_messages_sent_total", "counter", "WebSocket messages sent",
       &AppCounters::ws_messages_sent},
      {"http_received_bytes", "counter", "HTTP API request bytes received",
       &AppCounters::http_received_bytes},
      {"http_transmitted_bytes", "counter", "HTTP API response bytes sent",
       &AppCounters::http_transmitted_bytes},
      {"slow_consumer_disconnections_total", "counter",
       "Sockets closed with 4100 because their outbound queue overflowed",
       &AppCounters::slow_consumer_closes},
      {"dropped_messages_total", "counter", "Messages dropped for a full outbound queue",
       &AppCounters::dropped_messages},
      {"client_events_rejected_total", "counter", "Client events rejected with 4301",
       &AppCounters::client_events_rejected},
  };
  const std::string port_label = absl::StrCat("port=\"", port, "\"");
  std::string out;
  std::lock_guard lock(mu_);
  for (const Family& f : kFamilies) {
    absl::StrAppend(&out, "# HELP ", prefix, f.name, " ", f.help, "\n# TYPE ", prefix, f.name, " ",
                    f.type, "\n");
    for (const auto& [app_id, counters] : apps_) {
      absl::StrAppend(&out, prefix, f.name, "{app_id=\"", app_id, "\",", port_label, "} ",
                      ((*counters).*(f.field)).load(std::memory_order_relaxed), "\n");
    }
  }
  absl::StrAppend(&out, "# HELP ", prefix,
                  "http_calls_received_total HTTP API calls by status\n# TYPE ", prefix,
                  "http_calls_received_total counter\n");
  for (const auto& [app_id, counters] : apps_) {
    for (size_t i = 0; i <= AppCounters::kStatuses.size(); ++i) {
      const int64_t n = counters->http_calls[i].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string status =
          i < AppCounters::kStatuses.size() ? std::to_string(AppCounters::kStatuses[i]) : "other";
      absl::StrAppend(&out, prefix, "http_calls_received_total{app_id=\"", app_id, "\",",
                      port_label, ",status=\"", status, "\"} ", n, "\n");
    }
  }
  for (const NodeGauge& g : gauges) {
    absl::StrAppend(&out, "# HELP ", prefix, g.name, " ", g.help, "\n# TYPE ", prefix, g.name, " ",
                    g.type, "\n", prefix, g.name, "{", port_label, "} ", g.value, "\n");
  }
  return out;
}

}  // namespace sockudo::dataplane::metrics
