#include "dataplane/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "dataplane/metrics/cluster_observer.h"
#include "dataplane/metrics/latency_histogram.h"
#include "dataplane/metrics/prometheus_exporter.h"

namespace sockudo::dataplane::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(MetricsTest, PerAppFamiliesHaveHelpTypeAndAppAndPortLabels) {
  Metrics metrics;
  AppCounters& app = metrics.ForApp("app-1");
  AppCounters::Add(app.connected, 3);
  AppCounters::Add(app.new_connections, 5);
  AppCounters::Add(app.ws_messages_sent, 7);
  app.CountHttpCall(400, 0);
  app.CountHttpCall(400, 0);
  app.CountHttpCall(418, 0);  // not in the table: "other"
  const std::string text = metrics.RenderPrometheus("sockudo_", 6001, {});

  EXPECT_THAT(text, HasSubstr("# HELP sockudo_connected Open WebSocket connections\n"
                              "# TYPE sockudo_connected gauge\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_connected{app_id=\"app-1\",port=\"6001\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_new_connections_total counter\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_new_connections_total{app_id=\"app-1\",port=\"6001\"} 5\n"));
  EXPECT_THAT(text,
              HasSubstr("sockudo_ws_messages_sent_total{app_id=\"app-1\",port=\"6001\"} 7\n"));
  EXPECT_THAT(text,
              HasSubstr("sockudo_new_disconnections_total{app_id=\"app-1\",port=\"6001\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_http_calls_received_total{app_id=\"app-1\",port=\"6001\","
                              "status=\"400\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_http_calls_received_total{app_id=\"app-1\",port=\"6001\","
                              "status=\"other\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("status=\"200\"")));  // statuses never seen are left out
  for (const char* name :
       {"socket_received_bytes", "socket_transmitted_bytes", "ws_messages_received_total",
        "http_received_bytes", "http_transmitted_bytes", "slow_consumer_disconnections_total",
        "dropped_messages_total", "client_events_rejected_total"}) {
    EXPECT_THAT(text, HasSubstr(std::string("# TYPE sockudo_") + name + " counter\n")) << name;
  }
}

TEST(MetricsTest, FamiliesWithoutSamplesStillShowHelpAndType) {
  Metrics metrics;
  const std::string text = metrics.RenderPrometheus("sockudo_", 6001, {});
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_connected gauge\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_http_calls_received_total counter\n"));
  for (const char* name :
       {"horizontal_adapter_sent_requests", "horizontal_adapter_received_requests",
        "horizontal_adapter_received_responses", "horizontal_adapter_resolved_promises",
        "horizontal_adapter_uncomplete_promises"}) {
    EXPECT_THAT(text, HasSubstr(std::string("# HELP sockudo_") + name + " ")) << name;
    EXPECT_THAT(text, HasSubstr(std::string("# TYPE sockudo_") + name + " counter\n")) << name;
  }
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_horizontal_adapter_resolve_time histogram\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_broadcast_latency_ms histogram\n"));
  EXPECT_THAT(text, Not(HasSubstr("{")));  // no sample at all
}

TEST(MetricsTest, ScrapesFollowTheAtomics) {
  Metrics metrics;
  AppCounters& app = metrics.ForApp("app-1");
  AppCounters::Add(app.connected, 4);
  AppCounters::Add(app.socket_received_bytes, 100);
  metrics.RenderPrometheus("sockudo_", 6001, {});
  AppCounters::Add(app.connected, -3);
  AppCounters::Add(app.socket_received_bytes, 23);
  metrics.ForApp("app-2");
  const std::string text = metrics.RenderPrometheus("sockudo_", 6001, {});
  EXPECT_THAT(text, HasSubstr("sockudo_connected{app_id=\"app-1\",port=\"6001\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("sockudo_socket_received_bytes{app_id=\"app-1\",port=\"6001\"} 123\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_connected{app_id=\"app-2\",port=\"6001\"} 0\n"));
}

TEST(MetricsTest, PrefixIsHonouredAndSanitized) {
  Metrics metrics;
  AppCounters::Add(metrics.ForApp("app-1").connected, 1);
  metrics.cluster().RequestSent("app-1");
  const std::string soketi = metrics.RenderPrometheus("soketi_", 6001, {{"cluster_nodes", "n", 2}});
  EXPECT_THAT(soketi, HasSubstr("# TYPE soketi_connected gauge\n"));
  EXPECT_THAT(soketi, HasSubstr("soketi_connected{app_id=\"app-1\",port=\"6001\"} 1\n"));
  EXPECT_THAT(soketi, HasSubstr("soketi_horizontal_adapter_sent_requests{app_id=\"app-1\","
                                "port=\"6001\"} 1\n"));
  EXPECT_THAT(soketi, HasSubstr("soketi_cluster_nodes{port=\"6001\"} 2\n"));
  EXPECT_THAT(soketi, Not(HasSubstr("sockudo_")));

  const std::string odd = metrics.RenderPrometheus("my-app.", 7000, {});
  EXPECT_THAT(odd, HasSubstr("my_app_connected{app_id=\"app-1\",port=\"7000\"} 1\n"));
  EXPECT_THAT(metrics.RenderPrometheus("", 7000, {}), HasSubstr("\nconnected{app_id=\"app-1\""));
  EXPECT_EQ(SanitizePrefix("9x"), "_9x");
  EXPECT_EQ(SanitizePrefix("__x_"), "_x_");
  EXPECT_EQ(SanitizePrefix("a:b_"), "a:b_");
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics metrics;
  metrics.ForApp("a\"b\\c");
  EXPECT_THAT(metrics.RenderPrometheus("sockudo_", 6001, {}),
              HasSubstr("sockudo_connected{app_id=\"a\\\"b\\\\c\",port=\"6001\"} 0\n"));
}

TEST(MetricsTest, NodeGaugesCarryThePortAndAnOptionalLabel) {
  Metrics metrics;
  std::vector<NodeGauge> gauges = {
      {"cluster_nodes", "Live nodes", 3},
      {"cluster_dead_nodes_total", "Dead nodes", 2, "counter"},
      {"horizontal_transport_queue_depth", "Depth", 5, "gauge", "transport", "redis"},
      {"horizontal_transport_reconnections_total", "Reconnects", 1, "counter", "transport",
       "redis"},
      {"nats_events_total", "NATS events", 1, "counter", "event", "connected"},
      {"nats_events_total", "NATS events", 4, "counter", "event", "disconnected"},
  };
  std::string text = metrics.RenderPrometheus("sockudo_", 6001, gauges);
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_cluster_nodes gauge\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_cluster_nodes{port=\"6001\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_cluster_dead_nodes_total counter\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_cluster_dead_nodes_total{port=\"6001\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_horizontal_transport_queue_depth gauge\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_horizontal_transport_queue_depth{port=\"6001\","
                              "transport=\"redis\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_horizontal_transport_reconnections_total{port=\"6001\","
                              "transport=\"redis\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_nats_events_total counter\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_nats_events_total{event=\"connected\",port=\"6001\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("sockudo_nats_events_total{event=\"disconnected\",port=\"6001\"} 4\n"));

  // The next scrape shows the new values (counters are fed the difference).
  gauges[0].value = 1;
  gauges[1].value = 3;
  gauges[5].value = 6;
  text = metrics.RenderPrometheus("sockudo_", 6001, gauges);
  EXPECT_THAT(text, HasSubstr("sockudo_cluster_nodes{port=\"6001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_cluster_dead_nodes_total{port=\"6001\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("sockudo_nats_events_total{event=\"disconnected\",port=\"6001\"} 6\n"));
  // A family that is never reported (nats_events_total with another driver) does not appear.
  EXPECT_THAT(Metrics().RenderPrometheus("sockudo_", 6001, {}), Not(HasSubstr("nats_events")));
}

TEST(MetricsTest, AdapterCountersArePerApp) {
  Metrics metrics;
  ClusterObserver& cluster = metrics.cluster();
  cluster.RequestSent("app-1");
  cluster.RequestSent("app-1");
  cluster.RequestSent("cluster");
  cluster.RequestReceived("cluster");
  cluster.RequestSettled("app-1", true, 3, 4.0);
  cluster.RequestSettled("app-1", false, 1, 700.0);
  const std::string text = metrics.RenderPrometheus("sockudo_", 6001, {});
  const std::string app1 = "{app_id=\"app-1\",port=\"6001\"} ";
  const std::string node = "{app_id=\"cluster\",port=\"6001\"} ";
  EXPECT_THAT(text, HasSubstr("sockudo_horizontal_adapter_sent_requests" + app1 + "2\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_horizontal_adapter_sent_requests" + node + "1\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_horizontal_adapter_received_requests" + node + "1\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_horizontal_adapter_received_requests" + app1 + "0\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_horizontal_adapter_received_responses" + app1 + "4\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_horizontal_adapter_resolved_promises" + app1 + "1\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_horizontal_adapter_uncomplete_promises" + app1 + "1\n"));
}

TEST(MetricsTest, ResolveTimeHistogramHasBucketsSumAndCount) {
  Metrics metrics;
  metrics.cluster().RequestSettled("app-1", true, 1, 3.0);
  metrics.cluster().RequestSettled("app-1", false, 0, 700.0);
  std::string text = metrics.RenderPrometheus("sockudo_", 6001, {});
  const std::string name = "sockudo_horizontal_adapter_resolve_time";
  const std::string labels = "app_id=\"app-1\",port=\"6001\"";
  EXPECT_THAT(text, HasSubstr(name + "_count{" + labels + "} 2\n"));
  EXPECT_THAT(text, HasSubstr(name + "_sum{" + labels + "} 703\n"));
  EXPECT_THAT(text, HasSubstr(name + "_bucket{" + labels + ",le=\"0.5\"} 0\n"));
  EXPECT_THAT(text, HasSubstr(name + "_bucket{" + labels + ",le=\"2\"} 0\n"));
  EXPECT_THAT(text, HasSubstr(name + "_bucket{" + labels + ",le=\"5\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(name + "_bucket{" + labels + ",le=\"500\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(name + "_bucket{" + labels + ",le=\"1000\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(name + "_bucket{" + labels + ",le=\"5000\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(name + "_bucket{" + labels + ",le=\"+Inf\"} 2\n"));

  // Only what was observed since the last scrape is added.
  metrics.cluster().RequestSettled("app-1", true, 1, 10000.0);
  text = metrics.RenderPrometheus("sockudo_", 6001, {});
  EXPECT_THAT(text, HasSubstr(name + "_count{" + labels + "} 3\n"));
  EXPECT_THAT(text, HasSubstr(name + "_sum{" + labels + "} 10703\n"));
  EXPECT_THAT(text, HasSubstr(name + "_bucket{" + labels + ",le=\"5000\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(name + "_bucket{" + labels + ",le=\"+Inf\"} 3\n"));
  text = metrics.RenderPrometheus("sockudo_", 6001, {});
  EXPECT_THAT(text, HasSubstr(name + "_count{" + labels + "} 3\n"));
}

TEST(MetricsTest, BroadcastLatencyByAppAndChannelType) {
  Metrics metrics;
  ClusterObserver& cluster = metrics.cluster();
  cluster.BroadcastDelivered("app-1", "presence-room", NowMs() - 3000);   // (2500, 5000]
  cluster.BroadcastDelivered("app-1", "presence-room", NowMs() + 60000);  // skewed clock: 0
  cluster.BroadcastDelivered("app-1", "private-encrypted-x", NowMs() - 3000);
  cluster.BroadcastDelivered("app-1", "private-cache-x", NowMs() - 3000);
  cluster.BroadcastDelivered("app-1", "news", std::nullopt);                 // no timestamp
  cluster.BroadcastDelivered("app-1", "#server-to-user-7", NowMs() - 3000);  // not a channel
  const std::string text = metrics.RenderPrometheus("sockudo_", 6001, {});
  const std::string presence = "app_id=\"app-1\",channel_type=\"presence\",port=\"6001\"";
  EXPECT_THAT(text, HasSubstr("# TYPE sockudo_broadcast_latency_ms histogram\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_broadcast_latency_ms_count{" + presence + "} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("sockudo_broadcast_latency_ms_bucket{" + presence + ",le=\"0.5\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("sockudo_broadcast_latency_ms_bucket{" + presence + ",le=\"2500\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("sockudo_broadcast_latency_ms_bucket{" + presence + ",le=\"5000\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_broadcast_latency_ms_count{app_id=\"app-1\","
                              "channel_type=\"encrypted\",port=\"6001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("sockudo_broadcast_latency_ms_count{app_id=\"app-1\","
                              "channel_type=\"cache\",port=\"6001\"} 1\n"));
  // Types without an observation have no sample.
  EXPECT_THAT(text, Not(HasSubstr("channel_type=\"public\"")));
  EXPECT_THAT(text, Not(HasSubstr("channel_type=\"private\"")));
}

TEST(MetricsClusterObserverTest, ChannelKinds) {
  EXPECT_EQ(ChannelKindOf("news"), ChannelKind::kPublic);
  EXPECT_EQ(ChannelKindOf("private-a"), ChannelKind::kPrivate);
  EXPECT_EQ(ChannelKindOf("private-encrypted-a"), ChannelKind::kEncrypted);
  EXPECT_EQ(ChannelKindOf("presence-a"), ChannelKind::kPresence);
  EXPECT_EQ(ChannelKindOf("cache-a"), ChannelKind::kCache);
  EXPECT_EQ(ChannelKindOf("presence-cache-a"), ChannelKind::kCache);
  EXPECT_EQ(ChannelKindOf("#server-to-user-1"), std::nullopt);
  EXPECT_EQ(ChannelKindName(ChannelKind::kEncrypted), "encrypted");
}

TEST(MetricsClusterObserverTest, AppIdsPastTheCapShareOneLabel) {
  ClusterObserver cluster;
  for (size_t i = 0; i < ClusterObserver::kMaxApps; ++i) cluster.RequestReceived(std::to_string(i));
  cluster.RequestReceived("one-too-many");
  cluster.RequestReceived("two-too-many");
  cluster.RequestReceived("7");  // known: still its own
  const auto apps = cluster.Apps();
  EXPECT_EQ(apps.size(), ClusterObserver::kMaxApps + 1);
  int64_t other = -1;
  int64_t seven = -1;
  for (const auto& [id, counters] : apps) {
    if (id == ClusterObserver::kOverflowApp) other = counters->received_requests.load();
    if (id == "7") seven = counters->received_requests.load();
  }
  EXPECT_EQ(other, 2);
  EXPECT_EQ(seven, 2);
}

TEST(MetricsLatencyHistogramTest, BucketBoundsAreInclusive) {
  LatencyHistogram h;
  h.Observe(0.5);   // le 0.5
  h.Observe(0.51);  // le 1
  h.Observe(5000);  // le 5000
  h.Observe(5001);  // +Inf
  h.Observe(-3);    // clamped to 0
  h.Observe(std::numeric_limits<double>::quiet_NaN());
  h.Observe(std::numeric_limits<double>::infinity());
  const LatencyHistogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count(), 7u);
  EXPECT_EQ(s.buckets[0], 3u);
  EXPECT_EQ(s.buckets[1], 1u);
  EXPECT_EQ(s.buckets[LatencyHistogram::kBuckets - 2], 1u);
  EXPECT_EQ(s.buckets[LatencyHistogram::kBuckets - 1], 2u);
  // Microseconds, each value rounded: 500 + 510 + 5'000'000 + 5'001'000 + kMaxMs * 1000.
  EXPECT_EQ(s.sum_us, 1'000'010'002'010u);
}

}  // namespace
}  // namespace sockudo::dataplane::metrics
