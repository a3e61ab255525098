#include "dataplane/channels/channel_registry.h"

namespace sockudo::dataplane::channels {

bool ChannelRegistry::Add(const std::string& app_id, const std::string& channel) {
  std::lock_guard lock(mu_);
  ++total_;
  return ++apps_[app_id][channel] == 1;
}

bool ChannelRegistry::Remove(const std::string& app_id, const std::string& channel) {
  std::lock_guard lock(mu_);
  if (Lookup(apps_, app_id, channel) == 0) return false;
  --total_;
  return Decrement(apps_, app_id, channel);
}

size_t ChannelRegistry::Count(const std::string& app_id, const std::string& channel) const {
  std::lock_guard lock(mu_);
  return Lookup(apps_, app_id, channel);
}

void ChannelRegistry::AddJoining(const std::string& app_id, const std::string& channel) {
  std::lock_guard lock(mu_);
  ++joining_[app_id][channel];
}

void ChannelRegistry::RemoveJoining(const std::string& app_id, const std::string& channel) {
  std::lock_guard lock(mu_);
  Decrement(joining_, app_id, channel);
}

bool ChannelRegistry::Reachable(const std::string& app_id, const std::string& channel) const {
  std::lock_guard lock(mu_);
  return Lookup(apps_, app_id, channel) > 0 || Lookup(joining_, app_id, channel) > 0;
}

size_t ChannelRegistry::Lookup(const Counts& counts, const std::string& app_id,
                               const std::string& channel) {
  auto app = counts.find(app_id);
  if (app == counts.end()) return 0;
  auto it = app->second.find(channel);
  return it == app->second.end() ? 0 : it->second;
}

// Takes one off (app, channel), erasing what reaches 0; true when it did. A missing entry: false.
bool ChannelRegistry::Decrement(Counts& counts, const std::string& app_id,
                                const std::string& channel) {
  auto app = counts.find(app_id);
  if (app == counts.end()) return false;
  auto it = app->second.find(channel);
  if (it == app->second.end()) return false;
  if (--it->second > 0) return false;
  app->second.erase(it);
  if (app->second.empty()) counts.erase(app);
  return true;
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
