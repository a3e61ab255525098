#include "common/bus/redis_cluster/cluster_topology.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/bus/redis_cluster/cluster_slot.h"

namespace sockudo::bus::redis_cluster {
namespace {

using redis::RedisReply;

bool Usable(const std::string& host) { return !host.empty() && host != "?"; }

std::optional<int64_t> IntegerOf(const RedisReply& r) {
  if (r.type == RedisReply::Type::kInteger) return r.integer;
  if (!r.is_string() || r.str.empty()) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(r.str.data(), r.str.data() + r.str.size(), v);
  if (ec != std::errc() || end != r.str.data() + r.str.size()) return std::nullopt;
  return v;
}

absl::Status Malformed(const char* command, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed ", command, " reply: ", why));
}

bool ValidRange(int64_t first, int64_t last) {
  return first >= 0 && last >= first && last < kSlotCount;
}

}  // namespace

std::string NodeAddress::ToString() const { return absl::StrCat(host, ":", port); }

std::optional<NodeAddress> NodeAddress::Parse(std::string_view host_port,
                                              std::string_view default_host) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view port_text = host_port.substr(colon + 1);
  // "host:port@bus-port" (CLUSTER NODES style) carries the bus port after '@'.
  if (size_t at = port_text.find('@'); at != std::string_view::npos) {
    port_text = port_text.substr(0, at);
  }
  int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return std::nullopt;
  }
  std::string host(host_port.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!Usable(host)) host = std::string(default_host);
  return NodeAddress{std::move(host), static_cast<uint16_t>(port)};
}

ClusterTopology::ClusterTopology() : slot_master_(kSlotCount, kNoMaster) {}

absl::StatusOr<ClusterTopology> ClusterTopology::FromShards(const RedisReply& reply,
                                                            const NodeAddress& asked, bool tls) {
  if (!reply.is_array()) return Malformed("CLUSTER SHARDS", "not an array");
  ClusterTopology topology;
  for (const RedisReply& shard : reply.elements) {
    if (!shard.is_array() || shard.elements.size() % 2 != 0) {
      return Malformed("CLUSTER SHARDS", "a shard is not a map");
    }
    const RedisReply* slots = nullptr;
    const RedisReply* nodes = nullptr;
    for (size_t i = 0; i + 1 < shard.elements.size(); i += 2) {
      const std::string& key = shard.elements[i].str;
      if (key == "slots") slots = &shard.elements[i + 1];
      if (key == "nodes") nodes = &shard.elements[i + 1];
    }
    if (slots == nullptr || nodes == nullptr || !slots->is_array() || !nodes->is_array() ||
        slots->elements.size() % 2 != 0) {
      return Malformed("CLUSTER SHARDS", "a shard lacks slots or nodes");
    }
    std::vector<std::pair<int64_t, int64_t>> ranges;
    for (size_t i = 0; i + 1 < slots->elements.size(); i += 2) {
      std::optional<int64_t> first = IntegerOf(slots->elements[i]);
      std::optional<int64_t> last = IntegerOf(slots->elements[i + 1]);
      if (!first || !last || !ValidRange(*first, *last)) {
        return Malformed("CLUSTER SHARDS", "bad slot range");
      }
      ranges.emplace_back(*first, *last);
    }
    std::optional<NodeAddress> master;
    std::vector<NodeAddress> replicas;
    for (const RedisReply& node : nodes->elements) {
      if (!node.is_array() || node.elements.size() % 2 != 0) {
        return Malformed("CLUSTER SHARDS", "a node is not a map");
      }
      std::string endpoint, hostname, ip, role, health;
      std::optional<int64_t> port, tls_port;
      for (size_t i = 0; i + 1 < node.elements.size(); i += 2) {
        const std::string& key = node.elements[i].str;
        const RedisReply& value = node.elements[i + 1];
        if (key == "endpoint") endpoint = value.str;
        if (key == "hostname") hostname = value.str;
        if (key == "ip") ip = value.str;
        if (key == "role") role = value.str;
        if (key == "health") health = value.str;
        if (key == "port") port = IntegerOf(value);
        if (key == "tls-port") tls_port = IntegerOf(value);
      }
      std::optional<int64_t> chosen = tls && tls_port && *tls_port > 0 ? tls_port : port;
      if (!chosen || *chosen < 1 || *chosen > 65535 || health == "fail") continue;
      NodeAddress address;
      address.host = Usable(endpoint)   ? endpoint
                     : Usable(hostname) ? hostname
                     : Usable(ip)       ? ip
                                        : asked.host;
      address.port = static_cast<uint16_t>(*chosen);
      if (role == "master") {
        if (!master) master = std::move(address);
      } else if (role == "replica" || role == "slave") {
        replicas.push_back(std::move(address));
      }
    }
    if (!master || ranges.empty()) continue;
    const uint16_t index = topology.MasterIndex(*master);
    for (const auto& [first, last] : ranges) {
      topology.Assign(static_cast<int>(first), static_cast<int>(last), index);
    }
    for (const NodeAddress& r : replicas) topology.AddReplica(r);
  }
  return topology;
}

absl::StatusOr<ClusterTopology> ClusterTopology::FromSlots(const RedisReply& reply,
                                                           const NodeAddress& asked) {
  if (!reply.is_array()) return Malformed("CLUSTER SLOTS", "not an array");
  ClusterTopology topology;
  auto address_of = [&](const RedisReply& node) -> std::optional<NodeAddress> {
    if (!node.is_array() || node.elements.size() < 2) return std::nullopt;
    std::optional<int64_t> port = IntegerOf(node.elements[1]);
    if (!port || *port < 1 || *port > 65535) return std::nullopt;
    const std::string& host = node.elements[0].str;  // "" for NULL
    return NodeAddress{Usable(host) ? host : asked.host, static_cast<uint16_t>(*port)};
  };
  for (const RedisReply& range : reply.elements) {
    if (!range.is_array() || range.elements.size() < 3) {
      return Malformed("CLUSTER SLOTS", "a range has fewer than 3 elements");
    }
    std::optional<int64_t> first = IntegerOf(range.elements[0]);
    std::optional<int64_t> last = IntegerOf(range.elements[1]);
    if (!first || !last || !ValidRange(*first, *last)) {
      return Malformed("CLUSTER SLOTS", "bad slot range");
    }
    std::optional<NodeAddress> master = address_of(range.elements[2]);
    if (!master) return Malformed("CLUSTER SLOTS", "bad master entry");
    topology.Assign(static_cast<int>(*first), static_cast<int>(*last),
                    topology.MasterIndex(*master));
    for (size_t i = 3; i < range.elements.size(); ++i) {
      if (std::optional<NodeAddress> replica = address_of(range.elements[i])) {
        topology.AddReplica(*replica);
      }
    }
  }
  return topology;
}

const NodeAddress* ClusterTopology::MasterOf(uint16_t slot) const {
  if (slot >= kSlotCount) return nullptr;
  const uint16_t index = slot_master_[slot];
  return index == kNoMaster ? nullptr : &masters_[index];
}

void ClusterTopology::SetOwner(uint16_t slot, const NodeAddress& owner) {
  if (slot >= kSlotCount) return;
  // A master that was known as a replica is one no longer.
  replicas_.erase(std::remove(replicas_.begin(), replicas_.end(), owner), replicas_.end());
  Assign(slot, slot, MasterIndex(owner));
}

std::vector<NodeAddress> ClusterTopology::nodes() const {
  std::vector<NodeAddress> out = masters_;
  out.insert(out.end(), replicas_.begin(), replicas_.end());
  return out;
}

bool ClusterTopology::IsMaster(const NodeAddress& node) const {
  return std::find(masters_.begin(), masters_.end(), node) != masters_.end();
}

std::string ClusterTopology::DebugString() const {
  std::vector<std::string> parts;
  for (size_t m = 0; m < masters_.size(); ++m) {
    std::vector<std::string> ranges;
    int start = -1;
    for (int s = 0; s <= kSlotCount; ++s) {
      const bool mine = s < kSlotCount && slot_master_[s] == m;
      if (mine && start < 0) start = s;
      if (!mine && start >= 0) {
        ranges.push_back(start == s - 1 ? absl::StrCat(start) : absl::StrCat(start, "-", s - 1));
        start = -1;
      }
    }
    parts.push_back(absl::StrCat(masters_[m].ToString(), "[", absl::StrJoin(ranges, ","), "]"));
  }
  for (const NodeAddress& r : replicas_) parts.push_back(absl::StrCat(r.ToString(), "[replica]"));
  if (parts.empty()) return "(no slot covered)";
  return absl::StrJoin(parts, " ");
}

uint16_t ClusterTopology::MasterIndex(const NodeAddress& node) {
  auto it = std::find(masters_.begin(), masters_.end(), node);
  if (it != masters_.end()) return static_cast<uint16_t>(it - masters_.begin());
  masters_.push_back(node);
  return static_cast<uint16_t>(masters_.size() - 1);
}

void ClusterTopology::AddReplica(const NodeAddress& node) {
  if (IsMaster(node)) return;
  if (std::find(replicas_.begin(), replicas_.end(), node) == replicas_.end()) {
    replicas_.push_back(node);
  }
}

void ClusterTopology::Assign(int first, int last, uint16_t master) {
  for (int s = first; s <= last; ++s) {
    if (slot_master_[s] == kNoMaster) ++covered_;
    slot_master_[s] = master;
  }
}

namespace {

// The pieces of `text` between `sep`s, empty ones left out.
std::vector<std::string_view> Fields(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t at = text.find(sep);
    std::string_view piece = text.substr(0, at);
    if (!piece.empty() && piece != "\r") out.push_back(piece);
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return out;
}

}  // namespace

bool ClusterLinksUp(std::string_view cluster_nodes) {
  // <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> ...
  const std::vector<std::string_view> lines = Fields(cluster_nodes, '\n');
  if (lines.empty()) return false;
  for (std::string_view line : lines) {
    const std::vector<std::string_view> fields = Fields(line, ' ');
    if (fields.size() < 8) return false;
    const std::vector<std::string_view> flags = Fields(fields[2], ',');
    auto has = [&](std::string_view f) {
      return std::find(flags.begin(), flags.end(), f) != flags.end();
    };
    if (has("myself") || has("fail") || has("noaddr") || has("handshake")) continue;
    if (fields[7] != "connected") return false;
  }
  return true;
}

}  // namespace sockudo::bus::redis_cluster
