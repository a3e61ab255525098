#include "common/bus/redis_cluster/cluster_router.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/logging.h"
#include "common/base/strings.h"
#include "common/bus/redis_cluster/cluster_slot.h"

namespace sockudo::bus::redis_cluster {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const std::shared_ptr<spdlog::logger> log = base::Logger("bus.redis_cluster");
  return log;
}

// Minimum spacing of background refreshes (a burst of -MOVED replies asks for one each).
constexpr milliseconds kRefreshSpacing{100};

// Errors no other node will answer differently: wrong credentials, ACL, TLS files.
bool StopsFetch(const absl::Status& st) {
  return absl::IsUnauthenticated(st) || absl::IsPermissionDenied(st) || absl::IsInvalidArgument(st);
}

}  // namespace

Redirect ParseRedirect(std::string_view text, std::string_view asked_host) {
  Redirect r;
  auto starts = [&](std::string_view word) {
    return text.size() >= word.size() && text.substr(0, word.size()) == word &&
           (text.size() == word.size() || text[word.size()] == ' ');
  };
  if (starts("TRYAGAIN")) {
    r.kind = Redirect::Kind::kTryAgain;
    return r;
  }
  if (starts("CLUSTERDOWN")) {
    r.kind = Redirect::Kind::kClusterDown;
    return r;
  }
  const bool moved = starts("MOVED");
  if (!moved && !starts("ASK")) return r;
  // "MOVED <slot> <host>:<port>"
  std::string_view rest = text.substr(moved ? 6 : 4);
  const size_t space = rest.find(' ');
  if (space == std::string_view::npos) return r;
  int slot = -1;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + space, slot);
  if (ec != std::errc() || end != rest.data() + space || slot < 0 || slot >= kSlotCount) return r;
  std::optional<NodeAddress> to = NodeAddress::Parse(rest.substr(space + 1), asked_host);
  if (!to) return r;
  r.kind = moved ? Redirect::Kind::kMoved : Redirect::Kind::kAsk;
  r.slot = static_cast<uint16_t>(slot);
  r.to = std::move(*to);
  return r;
}

struct ClusterRouter::Timers {
  explicit Timers(asio::io_context& io) : periodic(io), soon(io) {}
  asio::steady_timer periodic;
  asio::steady_timer soon;  // a RequestRefresh waiting for kRefreshSpacing
  bool soon_armed = false;
  Clock::time_point last_fetch_end{};
};

ClusterRouter::ClusterRouter(asio::io_context& io, RouterOptions options)
    : io_(io), options_(std::move(options)), timers_(std::make_unique<Timers>(io)) {
  for (const config::RedisSeed& seed : options_.seeds) {
    NodeAddress a{seed.host, static_cast<uint16_t>(seed.port)};
    if (std::find(seeds_.begin(), seeds_.end(), a) == seeds_.end()) seeds_.push_back(a);
  }
}

ClusterRouter::~ClusterRouter() { Shutdown(); }

// --- Topology ---------------------------------------------------------------------------------

void ClusterRouter::Refresh(std::function<void(absl::Status)> done) {
  if (shutdown_) {
    asio::post(io_, [done = std::move(done)] {
      if (done) done(absl::CancelledError("redis-cluster router shut down"));
    });
    return;
  }
  if (done) fetch_waiters_.push_back(std::move(done));
  if (fetching_) return;
  fetching_ = true;
  fetch_again_ = false;
  // Known nodes first (masters, replicas), then the seeds; suspects last.
  auto order = std::make_shared<std::vector<NodeAddress>>();
  std::vector<NodeAddress> suspects;
  std::vector<NodeAddress> all = topology_.nodes();
  all.insert(all.end(), seeds_.begin(), seeds_.end());
  for (const NodeAddress& n : all) {
    if (std::find(order->begin(), order->end(), n) != order->end() ||
        std::find(suspects.begin(), suspects.end(), n) != suspects.end()) {
      continue;
    }
    (IsSuspect(n) ? suspects : *order).push_back(n);
  }
  order->insert(order->end(), suspects.begin(), suspects.end());
  FetchFrom(order, 0, absl::UnavailableError("no Redis Cluster node to ask"));
}

void ClusterRouter::RequestRefresh() {
  if (shutdown_) return;
  if (fetching_) {
    fetch_again_ = true;
    return;
  }
  if (timers_->soon_armed) return;
  timers_->soon_armed = true;
  timers_->soon.expires_at(std::max(Clock::now(), timers_->last_fetch_end + kRefreshSpacing));
  timers_->soon.async_wait([this](boost::system::error_code ec) {
    if (ec || shutdown_) return;
    timers_->soon_armed = false;
    Refresh([](absl::Status st) {
      if (!st.ok()) {
        Log()->warn("redis-cluster topology refresh failed: {}", std::string(st.message()));
      }
    });
  });
}

void ClusterRouter::StartPeriodicRefresh() { ArmPeriodic(); }

void ClusterRouter::ArmPeriodic() {
  if (shutdown_ || options_.refresh_interval.count() <= 0) return;
  timers_->periodic.expires_after(options_.refresh_interval);
  timers_->periodic.async_wait([this](boost::system::error_code ec) {
    if (ec || shutdown_) return;
    RequestRefresh();
    ArmPeriodic();
  });
}

void ClusterRouter::FetchFrom(std::shared_ptr<std::vector<NodeAddress>> order, size_t index,
                              absl::Status last) {
  if (shutdown_) return;
  if (index >= order->size()) {
    FinishFetch(absl::Status(last.code(), absl::StrCat("no Redis Cluster node answered with its "
                                                       "topology; last error: ",
                                                       last.message())));
    return;
  }
  const NodeAddress node = (*order)[index];
  Dial(node, "redis-cluster topology", options_.connect_timeout,
       [this, order, index, node](absl::StatusOr<Connection> c) {
         if (shutdown_) {
           if (c.ok()) (*c)->Close();
           return;
         }
         if (!c.ok()) {
           if (StopsFetch(c.status())) {
             FinishFetch(c.status());
             return;
           }
           FetchFrom(order, index + 1, c.status());
           return;
         }
         fetch_conn_ = *c;
         AskShards(*c, node, order, index);
       });
}

void ClusterRouter::AskShards(const Connection& conn, const NodeAddress& node,
                              std::shared_ptr<std::vector<NodeAddress>> order, size_t index) {
  conn->Command({"CLUSTER", "SHARDS"}, [this, conn, node, order,
                                        index](absl::StatusOr<redis::RedisReply> r) {
    if (shutdown_) return;
    if (!r.ok()) {
      if (redis::IsConnectionError(r.status()) || StopsFetch(r.status())) {
        conn->Close();
        if (StopsFetch(r.status())) {
          FinishFetch(absl::Status(r.status().code(),
                                   absl::StrCat("redis-cluster ", node.ToString(),
                                                ": CLUSTER SHARDS: ", r.status().message())));
          return;
        }
        FetchFrom(order, index + 1, r.status());
        return;
      }
      // Redis < 7: "ERR unknown subcommand 'SHARDS'".
      AskSlots(conn, node, order, index);
      return;
    }
    absl::StatusOr<ClusterTopology> t = ClusterTopology::FromShards(*r, node, options_.tls);
    if (!t.ok() || t->empty()) {
      conn->Close();
      FetchFrom(order, index + 1,
                absl::UnavailableError(absl::StrCat("redis-cluster ", node.ToString(), ": ",
                                                    t.ok() ? std::string("no slot is served")
                                                           : std::string(t.status().message()))));
      return;
    }
    conn->Close();
    Adopt(std::move(*t), node);
  });
}

void ClusterRouter::AskSlots(const Connection& conn, const NodeAddress& node,
                             std::shared_ptr<std::vector<NodeAddress>> order, size_t index) {
  conn->Command({"CLUSTER", "SLOTS"}, [this, conn, node, order,
                                       index](absl::StatusOr<redis::RedisReply> r) {
    if (shutdown_) return;
    conn->Close();
    if (!r.ok()) {
      absl::Status st(r.status().code(), absl::StrCat("redis-cluster ", node.ToString(),
                                                      ": CLUSTER SLOTS: ", r.status().message()));
      if (StopsFetch(r.status())) {
        FinishFetch(st);
        return;
      }
      FetchFrom(order, index + 1, st);
      return;
    }
    absl::StatusOr<ClusterTopology> t = ClusterTopology::FromSlots(*r, node);
    if (!t.ok() || t->empty()) {
      FetchFrom(order, index + 1,
                absl::UnavailableError(absl::StrCat("redis-cluster ", node.ToString(), ": ",
                                                    t.ok() ? std::string("no slot is served")
                                                           : std::string(t.status().message()))));
      return;
    }
    Adopt(std::move(*t), node);
  });
}

void ClusterRouter::Adopt(ClusterTopology topology, const NodeAddress& from) {
  const bool changed = topology.DebugString() != topology_.DebugString();
  topology_ = std::move(topology);
  if (changed) {
    Log()->info("redis-cluster topology from {}: {}", from.ToString(), topology_.DebugString());
  }
  CloseIdleNonMasters();
  FinishFetch(absl::OkStatus());
  if (on_topology_ && !shutdown_) on_topology_();
}

void ClusterRouter::FinishFetch(absl::Status status) {
  fetching_ = false;
  fetch_conn_.reset();
  timers_->last_fetch_end = Clock::now();
  auto waiters = std::exchange(fetch_waiters_, {});
  for (auto& w : waiters) w(status);
  if (fetch_again_ && !shutdown_) {
    fetch_again_ = false;
    RequestRefresh();
  }
}

void ClusterRouter::ApplyMoved(uint16_t slot, const NodeAddress& to) {
  const NodeAddress* owner = topology_.MasterOf(slot);
  if (owner == nullptr || *owner != to) {
    Log()->info("redis-cluster: slot {} moved to {}", slot, to.ToString());
    topology_.SetOwner(slot, to);
  }
  RequestRefresh();
  if (on_topology_ && !shutdown_) on_topology_();
}

void ClusterRouter::CloseIdleNonMasters() {
  for (auto it = peers_.begin(); it != peers_.end();) {
    Peer& p = it->second;
    std::optional<NodeAddress> a = NodeAddress::Parse(it->first, "");
    if (a && !topology_.IsMaster(*a) && !p.dialing && p.waiters.empty() &&
        (!p.conn || p.conn->pending() == 0)) {
      if (p.conn) p.conn->Close();
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
}

// --- Connections ------------------------------------------------------------------------------

redis::ConnectionOptions ClusterRouter::OptionsFor(const NodeAddress& node,
                                                   std::string label) const {
  redis::ConnectionOptions o;
  o.host = node.host;
  o.port = node.port;
  const config::RedisSeed* creds = nullptr;
  for (const config::RedisSeed& seed : options_.seeds) {
    if (seed.host == node.host && seed.port == node.port) {
      creds = &seed;
      break;
    }
  }
  if (creds == nullptr && !options_.seeds.empty()) creds = &options_.seeds.front();
  if (creds != nullptr) {
    o.username = creds->username;
    o.password = creds->password;
  }
  bool tls = options_.tls;
  for (const config::RedisSeed& seed : options_.seeds) tls = tls || seed.tls;
  o.tls = tls;
  o.tls_options = options_.tls_options;
  o.db = 0;  // a cluster has only database 0
  o.connect_timeout = options_.connect_timeout;
  o.reply_timeout = options_.reply_timeout;
  o.label = std::move(label);
  return o;
}

void ClusterRouter::Dial(const NodeAddress& node, std::string label, milliseconds timeout,
                         DialCallback done) {
  redis::ConnectionOptions o = OptionsFor(node, std::move(label));
  o.connect_timeout = std::clamp(timeout, milliseconds(50), options_.connect_timeout);
  auto conn = redis::RedisConnection::Create(io_, std::move(o));
  connecting_.insert(conn);
  conn->Connect([this, conn, node, done = std::move(done)](absl::Status st) {
    connecting_.erase(conn);
    if (shutdown_) {
      conn->Close();
      done(absl::CancelledError("redis-cluster router shut down"));
      return;
    }
    if (!st.ok()) {
      if (redis::IsConnectionError(st)) MarkSuspect(node);
      done(st);
      return;
    }
    suspect_until_.erase(node.ToString());
    done(conn);
  });
}

void ClusterRouter::WithConnection(const NodeAddress& node, ConnectionWaiter waiter) {
  if (shutdown_) {
    asio::post(io_, [waiter = std::move(waiter)] {
      waiter(nullptr, absl::CancelledError("redis-cluster router shut down"));
    });
    return;
  }
  const std::string key = node.ToString();
  Peer& peer = peers_[key];
  if (peer.conn && !peer.conn->closed() && peer.waiters.empty()) {
    waiter(peer.conn, absl::OkStatus());
    return;
  }
  peer.conn.reset();
  peer.waiters.push_back(std::move(waiter));
  if (peer.dialing) return;
  peer.dialing = true;
  Dial(node, "redis-cluster publisher", options_.connect_timeout,
       [this, key](absl::StatusOr<Connection> c) {
         auto it = peers_.find(key);
         if (shutdown_ || it == peers_.end()) {
           if (c.ok()) (*c)->Close();
           return;
         }
         Peer& peer = it->second;
         peer.dialing = false;
         if (c.ok()) {
           Connection conn = *c;
           peer.conn = conn;
           conn->set_close_handler([this, key, conn](absl::Status why) {
             auto it = peers_.find(key);
             if (it != peers_.end() && it->second.conn == conn) it->second.conn.reset();
             // The commands that were waiting fail with kUnavailable: their owners mark the
             // node suspect and ask for a refresh.
             Log()->info("redis-cluster connection to {} closed: {}", key,
                         std::string(why.message()));
           });
         } else {
           RequestRefresh();
         }
         // Waiters may add more (a resend); take the current list first.
         auto waiters = std::exchange(peer.waiters, {});
         for (auto& w : waiters) w(c.ok() ? *c : nullptr, c.status());
       });
}

// --- Routing ----------------------------------------------------------------------------------

std::optional<NodeAddress> ClusterRouter::Target(std::string_view channel, bool owner_only) const {
  const NodeAddress* owner = topology_.MasterOf(KeySlot(channel));
  if (owner_only) {
    if (owner == nullptr) return std::nullopt;
    return *owner;
  }
  if (owner != nullptr && !IsSuspect(*owner)) return *owner;
  for (const NodeAddress& m : topology_.masters()) {
    if (!IsSuspect(m)) return m;
  }
  for (const NodeAddress& r : topology_.replicas()) {
    if (!IsSuspect(r)) return r;
  }
  for (const NodeAddress& s : seeds_) {
    if (!IsSuspect(s)) return s;
  }
  if (owner != nullptr) return *owner;
  if (!topology_.masters().empty()) return topology_.masters().front();
  if (!seeds_.empty()) return seeds_.front();
  return std::nullopt;
}

std::vector<NodeAddress> ClusterRouter::Candidates() const {
  std::vector<NodeAddress> out;
  std::vector<NodeAddress> suspects;
  std::vector<NodeAddress> all = seeds_;
  std::vector<NodeAddress> known = topology_.nodes();
  all.insert(all.end(), known.begin(), known.end());
  for (const NodeAddress& n : all) {
    if (std::find(out.begin(), out.end(), n) != out.end() ||
        std::find(suspects.begin(), suspects.end(), n) != suspects.end()) {
      continue;
    }
    (IsSuspect(n) ? suspects : out).push_back(n);
  }
  out.insert(out.end(), suspects.begin(), suspects.end());
  return out;
}

bool ClusterRouter::IsSeed(const NodeAddress& node) const {
  return std::find(seeds_.begin(), seeds_.end(), node) != seeds_.end();
}

void ClusterRouter::MarkSuspect(const NodeAddress& node) {
  suspect_until_[node.ToString()] = Clock::now() + options_.suspect_time;
}

bool ClusterRouter::IsSuspect(const NodeAddress& node) const {
  auto it = suspect_until_.find(node.ToString());
  return it != suspect_until_.end() && Clock::now() < it->second;
}

std::string ClusterRouter::SeedList() const {
  return absl::StrJoin(seeds_, ",",
                       [](std::string* out, const NodeAddress& a) { out->append(a.ToString()); });
}

void ClusterRouter::Shutdown() {
  if (shutdown_) return;
  shutdown_ = true;
  timers_->periodic.cancel();
  timers_->soon.cancel();
  if (fetch_conn_) std::exchange(fetch_conn_, nullptr)->Close();
  for (const Connection& conn : std::exchange(connecting_, {})) conn->Close();
  absl::Status stopped = absl::CancelledError("redis-cluster transport stopped");
  auto peers = std::exchange(peers_, {});
  for (auto& [key, peer] : peers) {
    if (peer.conn) peer.conn->Close();
    for (auto& w : peer.waiters) w(nullptr, stopped);
  }
  auto waiters = std::exchange(fetch_waiters_, {});
  for (auto& w : waiters) w(stopped);
}

}  // namespace sockudo::bus::redis_cluster
