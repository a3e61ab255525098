// File: presence_replica.h
// The replicated presence registry:
// registry[owner node][channel][socket id] -> entry, keyed owner-first so that dropping a node
// is one erase. Each owner numbers its joins and leaves; for one (owner, channel, socket) a higher
// sequence wins, and a leave leaves a tombstone for 60 s, so joins, leaves and snapshots may
// arrive in any order and still merge exactly. Messages without a sequence apply in arrival order;
// snapshot entries without one never replace an entry. Pure bookkeeping; used on the adapter's
// cluster thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/base/json.h"

namespace sockudo::dataplane::adapter {

class PresenceReplica {
 public:
  using Clock = std::chrono::steady_clock;

  struct Entry {
    std::string app_id;
    std::string user_id_json;
    std::string user_info_json = "null";
    int64_t sequence = 0;  // 0: none given
  };
  // channel -> socket id -> entry
  using Channels = std::map<std::string, std::map<std::string, Entry>>;

  // A join (or update): stored unless an entry or tombstone with a sequence >= it exists.
  bool Upsert(const std::string& owner, const std::string& channel, const std::string& socket_id,
              Entry entry);
  // A leave: removes the entry when `sequence` >= its own (or either is 0), and keeps a
  // tombstone for 60 s.
  void Remove(const std::string& owner, const std::string& channel, const std::string& socket_id,
              int64_t sequence, Clock::time_point now);
  // Takes everything `owner` held (a dead node; a resync).
  Channels TakeOwner(const std::string& owner);
  // Drops every owner but `keep` (resync); tombstones stay.
  void DropAllBut(const std::string& keep);

  // PresenceStateSync.user_info: {"<channel>":{"<socket>":{user_info,node_id,app_id,user_id,
  // socket_id,sequence_number}}} of `owner`'s entries; null when it has none.
  std::optional<base::Json> Snapshot(const std::string& owner) const;
  // Merges a snapshot sent by `owner` (entries under the rules of Upsert).
  void Merge(const std::string& owner, const base::Json& snapshot);

  // Entries of `owner`, for tests and stats.
  size_t Size(const std::string& owner) const;
  void PurgeTombstones(Clock::time_point now);

 private:
  struct Key {
    std::string owner, channel, socket_id;
    bool operator<(const Key& o) const {
      return std::tie(owner, channel, socket_id) < std::tie(o.owner, o.channel, o.socket_id);
    }
  };
  struct Tombstone {
    int64_t sequence;
    Clock::time_point at;
  };

  std::map<std::string, Channels> owners_;
  std::map<Key, Tombstone> tombstones_;
};

}  // namespace sockudo::dataplane::adapter
