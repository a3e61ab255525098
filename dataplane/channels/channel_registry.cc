#include "dataplane/channels/channel_registry.h"

namespace sockudo::dataplane::channels {

bool ChannelRegistry::Add(const std::string& app_id, const std::string& channel) {
  std::lock_guard lock(mu_);
  ++total_;
  return ++apps_[app_id][channel] == 1;
}

bool ChannelRegistry::Remove(const std::string& app_id, const std::string& channel) {
  std::lock_guard lock(mu_);
  auto app = apps_.find(app_id);
  if (app == apps_.end()) return false;
  auto it = app->second.find(channel);
  if (it == app->second.end()) return false;
  --total_;
  if (--it->second > 0) return false;
  app->second.erase(it);
  if (app->second.empty()) apps_.erase(app);
  return true;
}

size_t ChannelRegistry::Count(const std::string& app_id, const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto app = apps_.find(app_id);
  if (app == apps_.end()) return 0;
  auto it = app->second.find(channel);
  return it == app->second.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, size_t>> ChannelRegistry::List(const std::string& app_id,
                                                                  std::string_view prefix) const {
  std::vector<std::pair<std::string, size_t>> out;
  std::lock_guard lock(mu_);
  auto app = apps_.find(app_id);
  if (app == apps_.end()) return out;
  for (const auto& [name, count] : app->second) {
    if (std::string_view(name).substr(0, prefix.size()) == prefix) out.emplace_back(name, count);
  }
  return out;
}

size_t ChannelRegistry::TotalSubscriptions() const {
  std::lock_guard lock(mu_);
  return total_;
}

std::vector<std::pair<std::string, size_t>> ChannelRegistry::ChannelsPerApp() const {
  std::vector<std::pair<std::string, size_t>> out;
  std::lock_guard lock(mu_);
  for (const auto& [app, channels] : apps_) out.emplace_back(app, channels.size());
  return out;
}

}  // namespace sockudo::dataplane::channels
