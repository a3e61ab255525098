// Operational endpoints without authentication.
#include <sys/sysinfo.h>

#include "absl/strings/str_cat.h"
#include "dataplane/http/handlers/handlers.h"

namespace sockudo::dataplane::http::handlers {
namespace {

HttpResponse Health(int status, std::string state) {
  HttpResponse r = Text(status, state);
  r.headers.emplace_back("X-Health-Check", std::move(state));
  return r;
}

}  // namespace

bool HandleHealth(node::NodeContext& node, const HttpRequest& request, const std::string& path,
                  Respond& respond) {
  if (request.method != "GET" && request.method != "HEAD") return false;
  const bool draining = node.draining.load();
  if (path == "/") {
    respond(Text(200, "OK"));
  } else if (path == "/live") {
    respond(Text(200, ""));
  } else if (path == "/ready") {
    // Not ready before the node has started all it hosts (the embedded control plane last).
    respond(draining               ? Text(503, "DRAINING")
            : !node.started.load() ? Text(503, "STARTING")
                                   : Text(200, "OK"));
  } else if (path == "/up") {
    if (draining) {
      respond(Health(503, "DRAINING"));
    } else {
      // The bus must be up (the memory cache and app store cannot fail); an app must exist.
      const bool healthy = !node.apps.All().empty() && node.adapter->Healthy();
      respond(healthy ? Health(200, "OK") : Health(503, "ERROR"));
    }
  } else if (path.rfind("/up/", 0) == 0) {
    auto app = node.apps.FindById(path.substr(4));
    if (!app) {
      respond(Health(404, "NOT_FOUND"));
    } else if (draining) {
      respond(Health(503, "DRAINING"));
    } else {
      respond(app->enabled ? Health(200, "OK") : Health(503, "ERROR"));
    }
  } else if (path == "/usage" && node.config.http_api.usage_enabled) {
    struct sysinfo info {};
    sysinfo(&info);
    const double total = static_cast<double>(info.totalram) * info.mem_unit;
    const double free_bytes = static_cast<double>(info.freeram + info.bufferram) * info.mem_unit;
    const double used = total - free_bytes;
    base::Json body = {{"memory",
                        {{"free", static_cast<int64_t>(free_bytes)},
                         {"used", static_cast<int64_t>(used)},
                         {"total", static_cast<int64_t>(total)},
                         {"percent", total > 0 ? used * 100.0 / total : 0.0}}}};
    respond(JsonOk(base::Dump(body)));
  } else if (path == "/metrics" && request.metrics_listener && node.config.metrics.enabled) {
    // Node-wide values; the per-app counters and the adapter's per-app observations come from
    // node.metrics itself (metrics.h).
    const adapter::ClusterMetrics cluster = node.adapter->Metrics();
    std::vector<metrics::NodeGauge> gauges = {
        {"subscriptions", "Channel subscriptions on this node",
         static_cast<int64_t>(node.channels.TotalSubscriptions())},
        {"outbound_queued_messages", "Pusher messages waiting in per-socket outbound queues",
         node.outbound_messages.Sum()},
        {"outbound_queued_bytes", "Payload bytes waiting in per-socket outbound queues",
         node.outbound_bytes.Sum()},
        {"inbound_buffered_bytes",
         "Bytes held for partially received messages and request bodies (max_inbound_buffer_mb)",
         static_cast<int64_t>(node.inbound_buffers.used())},
        {"cluster_nodes", "Live nodes as seen by this node (peers + 1)", cluster.cluster_nodes},
        {"cluster_bus_healthy", "1 when the bus is connected and subscribed",
         cluster.bus_healthy ? 1 : 0},
        {"cluster_dead_nodes_total", "Dead nodes cleaned up by this node as leader",
         cluster.dead_nodes_cleaned, "counter"},
        {"horizontal_adapter_received_broadcasts", "Broadcasts received from peers",
         cluster.broadcasts_received, "counter"},
        {"horizontal_transport_messages_dropped_total",
         "Bus messages dropped: unparsable, pipeline overflow, failed publishes",
         cluster.transport_dropped, "counter", "transport", cluster.transport},
        {"horizontal_transport_reconnections_total", "Bus subscriber reconnections",
         cluster.transport_reconnections, "counter", "transport", cluster.transport},
        {"horizontal_transport_queue_depth", "Broadcasts waiting in the bus publish pipeline",
         cluster.transport_queue_depth, "gauge", "transport", cluster.transport},
    };
    metrics::AppendWebhookGauges(node.metrics.webhooks(), &gauges);
    metrics::AppendRateLimitGauges(node.metrics.rate_limits(), &gauges);
    gauges.push_back({"cache_backend_errors_total",
                      "Cache store failures and timeouts (reads missed, writes dropped)",
                      node.metrics.cache_errors().load(std::memory_order_relaxed), "counter"});
    for (const auto& [event, count] : cluster.transport_events) {
      gauges.push_back(
          {"nats_events_total", "NATS connection events", count, "counter", "event", event});
    }
    HttpResponse r = Text(
        200, node.metrics.RenderPrometheus(node.config.metrics.prefix, node.config.port, gauges));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    respond(std::move(r));
  } else {
    return false;
  }
  return true;
}

}  // namespace sockudo::dataplane::http::handlers
