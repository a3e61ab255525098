// File: cluster_observer.h
// What the horizontal adapter records for /metrics, per app: requests sent to peers, requests
// processed from peers, responses received, requests settled (every expected answer, or the
// deadline) with their round-trip time, and the publish-to-delivery latency of broadcasts that
// arrive from the bus. Relaxed atomics behind a per-app lookup that takes a shared lock (exclusive
// only the first time an app id is seen); nothing here calls prometheus-cpp: the exporter copies
// the values at scrape time. Thread-safe; references stay valid for the observer's lifetime.
//
//   observer.RequestSent(request.app_id);                     // adapter, per request
//   observer.BroadcastDelivered(m.app_id, m.channel, m.timestamp_ms);
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "dataplane/metrics/latency_histogram.h"

namespace sockudo::dataplane::metrics {

// The `channel_type` label of broadcast_latency_ms. A cache channel (cache-, private-cache-,
// private-encrypted-cache-, presence-cache-) is `cache` whatever its base type.
enum class ChannelKind { kPublic, kPrivate, kPresence, kEncrypted, kCache };
inline constexpr size_t kChannelKinds = 5;
std::string_view ChannelKindName(ChannelKind kind);
// nullopt for the #server-to-user- pseudo-channel (not a channel: not recorded).
std::optional<ChannelKind> ChannelKindOf(std::string_view channel);

struct AppClusterCounters {
  std::atomic<int64_t> sent_requests{0};
  std::atomic<int64_t> received_requests{0};
  std::atomic<int64_t> received_responses{0};
  std::atomic<int64_t> resolved_promises{0};
  std::atomic<int64_t> uncomplete_promises{0};
  LatencyHistogram resolve_time;
  std::array<LatencyHistogram, kChannelKinds> broadcast_latency;  // by ChannelKind
};

class ClusterObserver {
 public:
  // App ids come from peers: past this many distinct ids, the rest count under kOverflowApp.
  static constexpr size_t kMaxApps = 1024;
  static constexpr const char* kOverflowApp = "other";

  void RequestSent(const std::string& app_id) { Count(ForApp(app_id).sent_requests); }
  void RequestReceived(const std::string& app_id) { Count(ForApp(app_id).received_requests); }
  // A request this node asked its peers settled: every expected peer answered (`complete`) or
  // the deadline hit, with `responses` answers (counted as received responses; late or stray
  // ones are not) after `elapsed_ms` since it was published. Both outcomes feed the histogram.
  void RequestSettled(const std::string& app_id, bool complete, size_t responses,
                      double elapsed_ms);
  // A broadcast from the bus was handed to the local sockets. `timestamp_ms` is the envelope's
  // publish time (wall clock, ms since the epoch); nothing is recorded without one.
  void BroadcastDelivered(const std::string& app_id, std::string_view channel,
                          std::optional<double> timestamp_ms);

  // The counters of `app_id`, created on first use.
  AppClusterCounters& ForApp(const std::string& app_id);
  // Every app seen so far, sorted by id.
  std::vector<std::pair<std::string, const AppClusterCounters*>> Apps() const;

 private:
  static void Count(std::atomic<int64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }

  mutable std::shared_mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<AppClusterCounters>> apps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sockudo::dataplane::metrics
