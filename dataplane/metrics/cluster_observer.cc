#include "dataplane/metrics/cluster_observer.h"

#include <algorithm>
#include <chrono>
#include <mutex>

#include "common/protocol/channel_name.h"

namespace sockudo::dataplane::metrics {

std::string_view ChannelKindName(ChannelKind kind) {
  switch (kind) {
    case ChannelKind::kPublic:
      return "public";
    case ChannelKind::kPrivate:
      return "private";
    case ChannelKind::kPresence:
      return "presence";
    case ChannelKind::kEncrypted:
      return "encrypted";
    case ChannelKind::kCache:
      return "cache";
  }
  return "public";
}

std::optional<ChannelKind> ChannelKindOf(std::string_view channel) {
  const protocol::ChannelTraits traits = protocol::ClassifyChannel(channel);
  if (traits.type == protocol::ChannelType::kServerToUser) return std::nullopt;
  if (traits.cache) return ChannelKind::kCache;
  switch (traits.type) {
    case protocol::ChannelType::kPrivate:
      return ChannelKind::kPrivate;
    case protocol::ChannelType::kPrivateEncrypted:
      return ChannelKind::kEncrypted;
    case protocol::ChannelType::kPresence:
      return ChannelKind::kPresence;
    default:
      return ChannelKind::kPublic;
  }
}

void ClusterObserver::RequestSettled(const std::string& app_id, bool complete, size_t responses,
                                     double elapsed_ms) {
  AppClusterCounters& app = ForApp(app_id);
  Count(complete ? app.resolved_promises : app.uncomplete_promises);
  app.received_responses.fetch_add(static_cast<int64_t>(responses), std::memory_order_relaxed);
  app.resolve_time.Observe(elapsed_ms);
}

void ClusterObserver::BroadcastDelivered(const std::string& app_id, std::string_view channel,
                                         std::optional<double> timestamp_ms) {
  if (!timestamp_ms.has_value()) return;
  const std::optional<ChannelKind> kind = ChannelKindOf(channel);
  if (!kind.has_value()) return;
  const double now_ms =
      std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  ForApp(app_id).broadcast_latency[static_cast<size_t>(*kind)].Observe(now_ms - *timestamp_ms);
}

AppClusterCounters& ClusterObserver::ForApp(const std::string& app_id) {
  {
    std::shared_lock lock(mu_);
    auto it = apps_.find(app_id);
    if (it != apps_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  if (apps_.size() >= kMaxApps && !apps_.contains(app_id)) {
    auto& overflow = apps_[std::string(kOverflowApp)];
    if (!overflow) overflow = std::make_unique<AppClusterCounters>();
    return *overflow;
  }
  auto& slot = apps_[app_id];
  if (!slot) slot = std::make_unique<AppClusterCounters>();
  return *slot;
}

std::vector<std::pair<std::string, const AppClusterCounters*>> ClusterObserver::Apps() const {
  std::vector<std::pair<std::string, const AppClusterCounters*>> out;
  {
    std::shared_lock lock(mu_);
    out.reserve(apps_.size());
    for (const auto& [id, counters] : apps_) out.emplace_back(id, counters.get());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace sockudo::dataplane::metrics
