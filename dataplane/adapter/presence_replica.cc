#include "dataplane/adapter/presence_replica.h"

#include <tuple>

namespace sockudo::dataplane::adapter {

namespace {
constexpr auto kTombstoneLife = std::chrono::seconds(60);
}

bool PresenceReplica::Upsert(const std::string& owner, const std::string& channel,
                             const std::string& socket_id, Entry entry) {
  if (entry.sequence > 0) {
    auto t = tombstones_.find(Key{owner, channel, socket_id});
    if (t != tombstones_.end() && entry.sequence <= t->second.sequence) return false;
  }
  Entry& slot = owners_[owner][channel][socket_id];
  if (slot.sequence > 0 && entry.sequence > 0 && entry.sequence <= slot.sequence) return false;
  slot = std::move(entry);
  return true;
}

void PresenceReplica::Remove(const std::string& owner, const std::string& channel,
                             const std::string& socket_id, int64_t sequence,
                             Clock::time_point now) {
  auto o = owners_.find(owner);
  if (o != owners_.end()) {
    auto c = o->second.find(channel);
    if (c != o->second.end()) {
      auto s = c->second.find(socket_id);
      if (s != c->second.end() &&
          (sequence == 0 || s->second.sequence == 0 || sequence >= s->second.sequence)) {
        c->second.erase(s);
        if (c->second.empty()) o->second.erase(c);
        if (o->second.empty()) owners_.erase(o);
      }
    }
  }
  if (sequence > 0) {
    Tombstone& t = tombstones_[Key{owner, channel, socket_id}];
    t.sequence = std::max(t.sequence, sequence);
    t.at = now;
  }
}

PresenceReplica::Channels PresenceReplica::TakeOwner(const std::string& owner) {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return {};
  Channels out = std::move(it->second);
  owners_.erase(it);
  return out;
}

void PresenceReplica::DropAllBut(const std::string& keep) {
  for (auto it = owners_.begin(); it != owners_.end();) {
    it = it->first == keep ? std::next(it) : owners_.erase(it);
  }
}

std::optional<base::Json> PresenceReplica::Snapshot(const std::string& owner) const {
  auto it = owners_.find(owner);
  if (it == owners_.end() || it->second.empty()) return std::nullopt;
  base::Json out = base::Json::object();
  for (const auto& [channel, sockets] : it->second) {
    base::Json& c = out[channel];
    for (const auto& [socket_id, e] : sockets) {
      auto user_id = base::ParseJson(e.user_id_json);
      auto info = base::ParseJson(e.user_info_json);
      c[socket_id] = {{"user_info", info.has_value() ? *info : base::Json()},
                      {"node_id", owner},
                      {"app_id", e.app_id},
                      {"user_id", user_id.has_value() ? *user_id : base::Json()},
                      {"socket_id", socket_id},
                      {"sequence_number", e.sequence}};
    }
  }
  return out;
}

void PresenceReplica::Merge(const std::string& owner, const base::Json& snapshot) {
  if (!snapshot.is_object()) return;
  for (const auto& [channel, sockets] : snapshot.items()) {
    if (!sockets.is_object()) continue;
    for (const auto& [socket_id, e] : sockets.items()) {
      if (!e.is_object()) continue;
      auto app = e.find("app_id");
      auto user = e.find("user_id");
      if (app == e.end() || !app->is_string() || user == e.end() ||
          !(user->is_string() || user->is_number())) {
        continue;
      }
      Entry entry;
      entry.app_id = app->get<std::string>();
      entry.user_id_json = base::Dump(*user);
      if (auto info = e.find("user_info"); info != e.end())
        entry.user_info_json = base::Dump(*info);
      auto seq = e.find("sequence_number");
      entry.sequence = seq != e.end() && seq->is_number_integer() ? seq->get<int64_t>() : 0;
      // Snapshot entries without a sequence never replace an entry.
      if (entry.sequence == 0) {
        auto o = owners_.find(owner);
        if (o != owners_.end() && o->second.count(channel) &&
            o->second.at(channel).count(socket_id)) {
          continue;
        }
      }
      Upsert(owner, channel, socket_id, std::move(entry));
    }
  }
}

size_t PresenceReplica::Size(const std::string& owner) const {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return 0;
  size_t n = 0;
  for (const auto& [channel, sockets] : it->second) n += sockets.size();
  return n;
}

void PresenceReplica::PurgeTombstones(Clock::time_point now) {
  for (auto it = tombstones_.begin(); it != tombstones_.end();) {
    it = now - it->second.at > kTombstoneLife ? tombstones_.erase(it) : std::next(it);
  }
}

}  // namespace sockudo::dataplane::adapter
