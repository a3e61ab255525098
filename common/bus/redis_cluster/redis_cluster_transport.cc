#include "common/bus/redis_cluster/redis_cluster_transport.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "common/base/strings.h"
#include "common/bus/redis/backoff.h"
#include "common/bus/redis/broadcast_gate.h"
#include "common/bus/redis/redis_bus_driver.h"
#include "common/bus/redis/redis_connection.h"
#include "common/bus/redis_cluster/cluster_router.h"
#include "common/bus/redis_cluster/cluster_slot.h"

namespace sockudo::bus::redis_cluster {
namespace asio = boost::asio;
using redis::PublishPipeline;
using redis::Push;
using redis::RedisConnection;
using redis::RedisReply;
using std::chrono::milliseconds;
using Outcome = PublishPipeline::Outcome;

namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const std::shared_ptr<spdlog::logger> log = base::Logger("bus.redis_cluster");
  return log;
}

// Pause between startup attempts (topology, subscriber) while within the startup bound.
constexpr milliseconds kStartupPause{250};

// Worth trying again (another node, a bit later): the network, or a node that is not ready
// (loading its data set, a replica without its master, a cluster in the middle of a change).
// Wrong credentials, ACL refusals, TLS setup errors and "not a cluster" are final.
bool Retryable(const absl::Status& st) {
  if (redis::IsConnectionError(st) || absl::IsUnavailable(st)) return true;
  absl::string_view text = st.message();
  for (absl::string_view busy : {"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"}) {
    if (absl::StrContains(text, busy)) return true;
  }
  return false;
}

RouterOptions RouterOptionsFor(const config::RedisClusterAdapterConfig& config,
                               const RedisClusterTransport::Options& options) {
  RouterOptions o;
  o.seeds = config.nodes;
  o.tls = config.tls;
  for (const config::RedisSeed& seed : config.nodes) o.tls = o.tls || seed.tls;
  o.tls_options = config.tls_options;
  o.connect_timeout = options.connect_timeout;
  o.reply_timeout = options.reply_timeout;
  o.refresh_interval = options.refresh_interval;
  o.suspect_time = options.suspect_time;
  return o;
}

}  // namespace

class RedisClusterTransport::Impl final : public redis::RedisBusDriver {
 public:
  Impl(config::RedisClusterAdapterConfig config, Options options)
      : RedisBusDriver("redis-cluster", "RedisClusterTransport", config.prefix, options, Log()),
        config_(std::move(config)),
        options_(options),
        sharded_(config_.use_sharded_pubsub),
        publish_verb_(sharded_ ? "SPUBLISH" : "PUBLISH"),
        tls_(RouterOptionsFor(config_, options_).tls),
        router_(io(), RouterOptionsFor(config_, options_)),
        startup_timer_(io()),
        startup_retry_timer_(io()),
        sample_timer_(io()),
        gate_(io(), Log(),
              [this](redis::BroadcastGate::CountDone done) { CountSubscribers(std::move(done)); }) {
  }

  ~Impl() override { Stop(); }

  std::string endpoint() const override {
    return absl::StrCat(tls_ ? "rediss-cluster://" : "redis-cluster://", router_seeds());
  }

  uint64_t redirections() const { return redirections_.load(); }

  std::vector<std::string> SubscriberNodes() {
    if (!running()) return {};
    auto result = std::make_shared<std::promise<std::vector<std::string>>>();
    auto future = result->get_future();
    Post([this, result] {
      std::vector<std::string> out;
      for (const auto& [key, link] : links_) {
        if (link->conn && link->node && !link->confirmed.empty()) {
          out.push_back(link->node->ToString());
        }
      }
      std::sort(out.begin(), out.end());
      result->set_value(std::move(out));
    });
    if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return {};
    return future.get();
  }

 private:
  using Connection = std::shared_ptr<RedisConnection>;
  using Job = PublishPipeline::Job;

  // One subscriber connection and the channels it carries. Classic: one link ("" key) that may
  // go to any node. Sharded: one link per master ("host:port" key).
  struct Link {
    Link(asio::io_context& io, const Options& options)
        : backoff(options.resubscribe_delay, options.resubscribe_max_delay), timer(io) {}
    std::string key;
    std::optional<NodeAddress> master;  // sharded: the master it serves
    std::vector<std::string> channels;  // wanted on this link
    std::set<std::string> confirmed;    // subscribed on `conn`
    std::set<std::string> pending;      // (S)SUBSCRIBE sent, not confirmed yet
    Connection conn;                    // connected (subscribing or subscribed), or null
    std::optional<NodeAddress> node;    // where `conn` goes, or the node tried last
    bool dialing = false;
    bool waiting = false;  // a reconnect timer runs
    bool broke = false;    // was subscribed and lost it: coming back counts as a reconnection
    bool dead = false;     // removed from links_
    redis::Backoff backoff;
    int failures = 0;  // consecutive failed attempts
    asio::steady_timer timer;
  };
  using LinkPtr = std::shared_ptr<Link>;

  // --- Hooks ----------------------------------------------------------------------------------

  absl::Status CheckConfig() const override {
    if (config_.nodes.empty()) {
      return absl::InvalidArgumentError(
          "adapter.cluster.nodes: no Redis Cluster seed nodes configured");
    }
    for (const config::RedisSeed& seed : config_.nodes) {
      if (seed.host.empty() || seed.port <= 0 || seed.port > 65535) {
        return absl::InvalidArgumentError(absl::StrCat("adapter.cluster.nodes: invalid seed \"",
                                                       seed.host, ":", seed.port, "\""));
      }
    }
    return absl::OkStatus();
  }

  void BeforeStart() override {
    router_.set_topology_handler([this] { OnTopology(); });
  }

  std::string StartupContext() const override {
    return absl::StrCat("redis-cluster (seeds ", router_seeds(), ")");
  }

  std::string ConnectedDetail() const override {
    return absl::StrCat(" mode=", sharded_ ? "sharded" : "classic");
  }

  void CloseConnections() override {
    if (starting_) FinishStartup(absl::CancelledError("redis-cluster transport stopped"));
    startup_timer_.cancel();
    startup_retry_timer_.cancel();
    sample_timer_.cancel();
    gate_.Shutdown();  // the pipeline answers the publishes that wait
    auto links = std::exchange(links_, {});
    for (auto& [key, link] : links) {
      link->dead = true;
      link->timer.cancel();
      if (link->conn) std::exchange(link->conn, nullptr)->Close();
    }
    router_.Shutdown();
  }

  std::string router_seeds() const {
    std::string out;
    for (const config::RedisSeed& s : config_.nodes) {
      if (!out.empty()) out.push_back(',');
      absl::StrAppend(&out, s.host, ":", s.port);
    }
    return out;
  }

  // --- Startup ------------------------------------------------------------------------------

  void StartOnIo(Clock::time_point deadline, std::function<void(absl::Status)> done) override {
    starting_ = true;
    startup_done_ = std::move(done);
    startup_deadline_ = deadline;
    startup_timer_.expires_at(deadline);
    startup_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || !starting_ || stopping()) return;
      size_t confirmed = 0;
      for (const auto& [key, link] : links_) {
        for (const std::string& ch : link->channels) confirmed += link->confirmed.count(ch);
      }
      std::string why = last_error_.ok() ? std::string("no error reported")
                                         : absl::StrCat("last error: ", last_error_.message());
      FinishStartup(absl::UnavailableError(absl::StrCat(
          "could not subscribe within ", options_.startup_timeout.count(), " ms (", confirmed,
          " of ", channels().subscriptions().size(), " channels subscribed); ", why)));
    });
    FetchInitialTopology();
  }

  void FetchInitialTopology() {
    router_.Refresh([this](absl::Status st) {
      if (!starting_ || stopping()) return;
      if (st.ok()) {
        CreateLinks();
        return;
      }
      last_error_ = st;
      if (!Retryable(st)) {
        FinishStartup(st);
        return;
      }
      startup_retry_timer_.expires_after(kStartupPause);
      startup_retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !starting_ || stopping()) return;
        FetchInitialTopology();
      });
    });
  }

  void CreateLinks() {
    if (sharded_) {
      Reconcile();
      return;
    }
    auto link = std::make_shared<Link>(io(), options_);
    link->channels = channels().subscriptions();
    links_[""] = link;
    ConnectLink(link);
  }

  void FinishStartup(absl::Status status) {
    if (!starting_) return;
    starting_ = false;
    startup_timer_.cancel();
    startup_retry_timer_.cancel();
    if (status.ok()) {
      healthy_ = true;
      router_.StartPeriodicRefresh();
      SampleSubscribers();
    } else {
      status = absl::Status(status.code(), absl::StrCat(StartupContext(), ": ", status.message()));
    }
    if (auto done = std::exchange(startup_done_, nullptr)) done(std::move(status));
  }

  // --- Subscriber links ---------------------------------------------------------------------

  // The node a link dials next: its master (sharded); else the known node after the one it
  // tried last (classic: "reconnect to another known node"), suspects last.
  NodeAddress PickNode(const Link& link) const {
    if (link.master) return *link.master;
    std::vector<NodeAddress> candidates = router_.Candidates();
    if (candidates.empty()) return NodeAddress{"127.0.0.1", 6379};  // unreachable: seeds exist
    if (link.node) {
      auto it = std::find(candidates.begin(), candidates.end(), *link.node);
      if (it != candidates.end()) {
        ++it;
        return it == candidates.end() ? candidates.front() : *it;
      }
    }
    return candidates.front();
  }

  void ConnectLink(const LinkPtr& link) {
    if (stopping() || link->dead || link->dialing || link->conn) return;
    link->dialing = true;
    const NodeAddress node = PickNode(*link);
    link->node = node;
    milliseconds timeout = options_.connect_timeout;
    if (starting_) {
      timeout = std::min(
          timeout, std::chrono::duration_cast<milliseconds>(startup_deadline_ - Clock::now()));
    }
    router_.Dial(node, "redis-cluster subscriber", timeout,
                 [this, link, node](absl::StatusOr<Connection> c) {
                   link->dialing = false;
                   if (stopping() || link->dead) {
                     if (c.ok()) (*c)->Close();
                     return;
                   }
                   if (!c.ok()) {
                     LinkFailed(link, c.status());
                     return;
                   }
                   Connection conn = *c;
                   link->conn = conn;
                   conn->set_push_handler(
                       [this, link, conn](Push push) { OnPush(link, conn, std::move(push)); });
                   conn->set_close_handler(
                       [this, link, conn](absl::Status why) { OnLinkLost(link, conn, why); });
                   SubscribeLink(link);
                 });
  }

  void SubscribeLink(const LinkPtr& link) {
    Connection conn = link->conn;
    if (sharded_) {
      std::vector<std::string> channels = link->channels;
      for (const std::string& ch : channels) {
        if (!link->confirmed.count(ch) && !link->pending.count(ch)) SubscribeOne(link, conn, ch);
      }
      return;
    }
    std::vector<std::string> channels = link->channels;
    link->pending.insert(channels.begin(), channels.end());
    conn->Subscribe(channels, [this, link, conn, channels](absl::Status st) {
      if (stopping() || link->dead || link->conn != conn) return;
      link->pending.clear();
      if (!st.ok()) {
        std::exchange(link->conn, nullptr)->Close();
        LinkFailed(
            link, absl::Status(st.code(), absl::StrCat("redis-cluster subscriber ", conn->address(),
                                                       ": SUBSCRIBE failed: ", st.message())));
        return;
      }
      link->confirmed.insert(channels.begin(), channels.end());
      LinkUp(link);
    });
  }

  // Sharded: one SSUBSCRIBE per channel (a multi-channel one must stay within one slot).
  void SubscribeOne(const LinkPtr& link, const Connection& conn, const std::string& ch) {
    link->pending.insert(ch);
    conn->Subscribe(
        {ch},
        [this, link, conn, ch](absl::Status st) {
          if (stopping() || link->dead || link->conn != conn) return;
          link->pending.erase(ch);
          const bool wanted =
              std::find(link->channels.begin(), link->channels.end(), ch) != link->channels.end();
          if (st.ok()) {
            if (!wanted) {
              conn->Unsubscribe({ch}, nullptr, /*sharded=*/true);  // moved away meanwhile
              return;
            }
            link->confirmed.insert(ch);
            if (link->confirmed.size() >= link->channels.size()) LinkUp(link);
            UpdateHealth();
            return;
          }
          Redirect rd = ParseRedirect(base::Sv(st.message()), conn->options().host);
          if (rd.kind == Redirect::Kind::kMoved) {
            Log()->info("redis-cluster: SSUBSCRIBE {} on {} moved to {}", ch, conn->address(),
                        rd.to.ToString());
            router_.ApplyMoved(rd.slot, rd.to);  // the topology handler moves the channel
            return;
          }
          if (rd.kind != Redirect::Kind::kNone) {
            // -ASK (slot migrating), -TRYAGAIN, -CLUSTERDOWN: ask again shortly.
            router_.RequestRefresh();
            auto timer = std::make_shared<asio::steady_timer>(io(), options_.tryagain_delay);
            timer->async_wait([this, timer, link, conn, ch](boost::system::error_code ec) {
              if (ec || stopping() || link->dead || link->conn != conn) return;
              if (link->confirmed.count(ch) || link->pending.count(ch)) return;
              if (std::find(link->channels.begin(), link->channels.end(), ch) ==
                  link->channels.end()) {
                return;
              }
              SubscribeOne(link, conn, ch);
            });
            return;
          }
          // Reset first: closing fails the other pending SSUBSCRIBEs, which must see the
          // connection as gone already.
          std::exchange(link->conn, nullptr)->Close();
          LinkFailed(link, absl::Status(st.code(), absl::StrCat("redis-cluster subscriber ",
                                                                conn->address(), ": SSUBSCRIBE ",
                                                                ch, " failed: ", st.message())));
        },
        /*sharded=*/true);
  }

  void LinkUp(const LinkPtr& link) {
    link->failures = 0;
    link->backoff.Reset();
    if (link->broke) {
      link->broke = false;
      reconnections_.fetch_add(1);
      Log()->info("redis-cluster subscriber reconnected to {}",
                  link->node ? link->node->ToString() : std::string("?"));
    }
    UpdateHealth();
  }

  // A dial or a subscription failed.
  void LinkFailed(const LinkPtr& link, const absl::Status& why) {
    link->conn.reset();
    link->confirmed.clear();
    link->pending.clear();
    last_error_ = why;
    if (starting_) {
      if (!Retryable(why)) {
        FinishStartup(why);
        return;
      }
      ScheduleLink(link, kStartupPause);
      return;
    }
    ++link->failures;
    if (options_.refresh_after_failures > 0 &&
        link->failures % options_.refresh_after_failures == 0) {
      router_.RequestRefresh();
    }
    link->backoff.Grow();
    Log()->warn("redis-cluster resubscribe failed, next try in {} ms: {}",
                link->backoff.delay().count(), std::string(why.message()));
    UpdateHealth();
    ScheduleLink(link, link->backoff.delay());
  }

  void OnLinkLost(const LinkPtr& link, const Connection& conn, const absl::Status& why) {
    if (stopping() || link->dead || link->conn != conn) return;
    link->conn.reset();
    link->confirmed.clear();
    link->pending.clear();
    link->broke = true;
    gate_.Close();
    if (link->node) router_.MarkSuspect(*link->node);
    Log()->warn("redis-cluster subscriber connection to {} lost, resubscribing in {} ms: {}",
                conn->address(), link->backoff.delay().count(), std::string(why.message()));
    UpdateHealth();
    ScheduleLink(link, starting_ ? kStartupPause : link->backoff.delay());
  }

  void ScheduleLink(const LinkPtr& link, milliseconds delay) {
    link->waiting = true;
    link->timer.expires_after(delay);
    link->timer.async_wait([this, link](boost::system::error_code ec) {
      if (ec) return;
      link->waiting = false;
      if (stopping() || link->dead) return;
      ConnectLink(link);
    });
  }

  // Healthy while every channel is subscribed; the first time ends the startup, later ones run
  // the listener's callbacks.
  void UpdateHealth() {
    if (stopping()) return;
    size_t confirmed = 0;
    for (const auto& [key, link] : links_) {
      for (const std::string& ch : link->channels) confirmed += link->confirmed.count(ch);
    }
    const bool all = confirmed >= channels().subscriptions().size();
    if (starting_) {
      if (all) FinishStartup(absl::OkStatus());
      return;
    }
    SetHealthy(all);
  }

  // Finds silent breaks: the reply timeout of a connection fires when its PING goes unanswered.
  bool PingSubscribers() override {
    for (const auto& [key, link] : links_) {
      if (link->conn && !link->confirmed.empty()) link->conn->Command({"PING"}, nullptr);
    }
    return true;
  }

  void OnPush(const LinkPtr& link, const Connection& conn, Push push) {
    if (stopping() || link->dead || link->conn != conn) return;
    if (push.kind == "sunsubscribe" && sharded_) {
      // Unsolicited: the slot left this node. Refresh; the topology handler moves the channel
      // (or subscribes it here again if the owner did not change).
      Log()->info("redis-cluster: {} dropped the subscription of {}", conn->address(),
                  push.channel);
      link->confirmed.erase(push.channel);
      UpdateHealth();
      router_.RequestRefresh();
      return;
    }
    Deliver(std::move(push));
  }

  // --- Sharded: channel placement -----------------------------------------------------------

  void OnTopology() {
    if (stopping() || reconcile_posted_) return;
    // Posted: the handler may run inside a connection's callback, and both close links.
    reconcile_posted_ = true;
    asio::post(io(), [this] {
      reconcile_posted_ = false;
      if (stopping()) return;
      if (!sharded_) {
        CheckClassicLink();
      } else if (links_created_ || starting_) {
        Reconcile();
      }
    });
  }

  // Classic: a subscriber on a node that left the topology (removed, or failed in the cluster's
  // eyes) may no longer get what the cluster bus carries: move it. Seeds are exempt (a seed may
  // be a name the topology spells differently).
  void CheckClassicLink() {
    auto it = links_.find("");
    if (starting_ || it == links_.end()) return;
    LinkPtr link = it->second;
    if (!link->conn || !link->node || router_.IsSeed(*link->node)) return;
    std::vector<NodeAddress> known = router_.topology().nodes();
    if (std::find(known.begin(), known.end(), *link->node) != known.end()) return;
    Log()->warn("redis-cluster subscriber node {} left the cluster topology; moving",
                link->node->ToString());
    Connection conn = std::exchange(link->conn, nullptr);
    link->confirmed.clear();
    link->pending.clear();
    link->broke = true;
    conn->Close();
    UpdateHealth();
    ConnectLink(link);
  }

  // Puts every channel on the link of the master that owns its slot.
  void Reconcile() {
    if (!sharded_ || stopping()) return;
    links_created_ = true;
    for (const std::string& ch : channels().subscriptions()) {
      std::optional<NodeAddress> owner = router_.Target(ch, /*owner_only=*/true);
      if (!owner) continue;  // not covered right now: stays where it is
      const std::string key = owner->ToString();
      auto current = link_of_.find(ch);
      if (current != link_of_.end() && current->second == key) continue;
      bool restores = false;  // the channel leaves a link that broke and never came back
      if (current != link_of_.end()) {
        auto it = links_.find(current->second);
        if (it != links_.end()) {
          Log()->info("redis-cluster: moving subscription {} from {} to {}", ch, it->first, key);
          restores = it->second->broke;
          RemoveChannel(it->second, ch);
        }
      }
      AddChannel(key, *owner, ch, restores);
    }
    // Channels the server dropped (sunsubscribe) whose owner did not change: again.
    std::vector<LinkPtr> links;
    for (const auto& [key, link] : links_) links.push_back(link);
    for (const LinkPtr& link : links) {
      if (!link->conn || link->dead) continue;
      std::vector<std::string> channels = link->channels;
      for (const std::string& ch : channels) {
        if (!link->confirmed.count(ch) && !link->pending.count(ch)) {
          SubscribeOne(link, link->conn, ch);
        }
      }
    }
    UpdateHealth();
  }

  void RemoveChannel(const LinkPtr& link, const std::string& ch) {
    link->channels.erase(std::remove(link->channels.begin(), link->channels.end(), ch),
                         link->channels.end());
    link_of_.erase(ch);
    if (link->confirmed.erase(ch) > 0 && link->conn) {
      link->conn->Unsubscribe({ch}, nullptr, /*sharded=*/true);
    }
    if (link->channels.empty()) {
      link->dead = true;
      link->timer.cancel();
      if (link->conn) std::exchange(link->conn, nullptr)->Close();
      links_.erase(link->key);
    }
  }

  // `restores`: the channel was lost with a broken link (a failed master); it coming up on
  // this link counts as a reconnection (LinkUp), as the broken link's return would have.
  void AddChannel(const std::string& key, const NodeAddress& owner, const std::string& ch,
                  bool restores = false) {
    LinkPtr& slot = links_[key];
    if (!slot) {
      slot = std::make_shared<Link>(io(), options_);
      slot->key = key;
      slot->master = owner;
    }
    LinkPtr link = slot;
    link->broke = link->broke || restores;
    link->channels.push_back(ch);
    link_of_[ch] = key;
    if (link->conn) {
      SubscribeOne(link, link->conn, ch);
    } else if (!link->dialing && !link->waiting) {
      ConnectLink(link);
    }
  }

  // --- Publishing ---------------------------------------------------------------------------

  // PUBLISH (classic: the owner of the channel's slot, another master while it is suspect) or
  // SPUBLISH (sharded: the owner) on the target's shared connection; an -ASK names the node of
  // the next send.
  void SendPublish(const PublishPipeline::JobPtr& job, PublishPipeline::Reply reply) override {
    std::optional<NodeAddress> target;
    bool asking = false;
    if (!job->ask_node.empty()) {
      target = NodeAddress::Parse(std::exchange(job->ask_node, std::string()), "");
      asking = true;
    } else {
      target = router_.Target(job->channel, /*owner_only=*/sharded_);
    }
    const uint64_t id = job->send_id;
    if (!target) {
      absl::Status why = absl::UnavailableError(
          absl::StrCat("no master serves slot ", KeySlot(job->channel), " of ", job->channel));
      asio::post(io(), [this, job, id, why, reply] {
        if (!stopping() && job->Current(id)) reply(Failed(why, std::nullopt));
      });
      return;
    }
    router_.WithConnection(*target, [this, job, id, target = *target, asking, reply](
                                        Connection conn, absl::Status st) {
      if (stopping() || !job->Current(id)) return;
      if (!st.ok()) {
        reply(Failed(st, target));
        return;
      }
      auto send = [this, job, id, conn, target, asking, reply] {
        if (stopping() || !job->Current(id)) return;
        if (asking) conn->Command({"ASKING"}, nullptr);
        conn->Command({publish_verb_, job->channel, job->payload},
                      [this, job, id, conn, target, reply](absl::StatusOr<RedisReply> r) {
                        if (stopping() || !job->Current(id)) return;
                        reply(Judge(*job, *conn, target, r));
                      });
      };
      if (job->broadcast) return gate_.Pass(std::move(send));
      send();
    });
  }

  // What the reply of one send means.
  Outcome Judge(Job& job, const RedisConnection& conn, const NodeAddress& target,
                const absl::StatusOr<RedisReply>& r) {
    if (r.ok()) return Outcome::Done(absl::OkStatus());
    const absl::Status& st = r.status();
    if (conn.closed() || redis::IsConnectionError(st)) return Failed(st, target);
    const Redirect rd = ParseRedirect(base::Sv(st.message()), target.host);
    switch (rd.kind) {
      case Redirect::Kind::kMoved:
        router_.ApplyMoved(rd.slot, rd.to);
        return Redirected(job, st, milliseconds(0));
      case Redirect::Kind::kAsk:
        job.ask_node = rd.to.ToString();
        return Redirected(job, st, milliseconds(0));
      case Redirect::Kind::kTryAgain:
        return Redirected(job, st, options_.tryagain_delay);
      case Redirect::Kind::kClusterDown:
        return Failed(st, target);
      case Redirect::Kind::kNone:
        break;
    }
    // The server refused this one message (ACL, OOM...): retrying would not help.
    return Outcome::Done(st);
  }

  // -MOVED, -ASK, -TRYAGAIN: again (after `delay`), at most max_redirects times.
  Outcome Redirected(Job& job, const absl::Status& why, milliseconds delay) {
    redirections_.fetch_add(1);
    if (++job.redirects > options_.max_redirects) {
      return Outcome::Done(absl::UnavailableError(
          absl::StrCat("redis-cluster publish to ", job.channel, ": too many redirections (",
                       job.redirects - 1, "): ", why.message())));
    }
    return Outcome::Resend(delay);
  }

  // A connection failure or -CLUSTERDOWN: the node is suspect, the topology is refreshed from
  // another node, and the publish-retry policy applies.
  Outcome Failed(const absl::Status& why, const std::optional<NodeAddress>& target) {
    gate_.Close();
    if (target) router_.MarkSuspect(*target);
    router_.RequestRefresh();
    return Outcome::Retry(why);
  }

  // --- Broadcast gate (BroadcastGate) -------------------------------------------------------
  // After a lost subscriber link or a failed publish, broadcasts wait until the broker counts as
  // many subscribers of the broadcast channel as it did while all was well (sampled every
  // kSampleEvery). Classic: PUBLISH and NUMSUB see only the clients of the node that runs them,
  // and the cluster bus copies a PUBLISH only over the links that are up; so the count is the sum
  // of NUMSUB over every node, and unknown while the node taking the broadcasts has a link down
  // (a restarted cluster re-forming). Sharded: SHARDNUMSUB on the owner.
  static constexpr milliseconds kSampleEvery{1000};

  void SampleSubscribers() {
    if (stopping()) return;
    if (healthy_.load() && !gate_.closed()) {
      CountSubscribers([this](std::optional<size_t> n) {
        if (n && !gate_.closed() && healthy_.load()) gate_.set_expected(*n);
      });
    }
    sample_timer_.expires_after(kSampleEvery);
    sample_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) SampleSubscribers();
    });
  }

  void CountSubscribers(redis::BroadcastGate::CountDone done) {
    if (sharded_) {
      CountAttempt(0, std::move(done));
      return;
    }
    std::optional<NodeAddress> target = router_.Target(channels().broadcast(), false);
    const std::vector<NodeAddress> nodes = router_.topology().nodes();
    if (!target || nodes.empty()) {
      done(std::nullopt);
      return;
    }
    struct Sum {
      size_t left = 0;
      size_t total = 0;
      bool links_up = false;
      redis::BroadcastGate::CountDone done;
    };
    auto sum = std::make_shared<Sum>();
    sum->left = nodes.size() + 1;
    sum->done = std::move(done);
    auto part = [sum] {
      if (--sum->left == 0) {
        sum->done(sum->links_up ? std::optional<size_t>(sum->total) : std::nullopt);
      }
    };
    router_.WithConnection(*target, [this, sum, part](Connection conn, absl::Status st) {
      if (stopping()) return;
      if (!st.ok()) return part();
      conn->Command({"CLUSTER", "NODES"}, [sum, part](absl::StatusOr<RedisReply> r) {
        sum->links_up = r.ok() && r->is_string() && ClusterLinksUp(r->str);
        part();
      });
    });
    // A node that does not answer counts 0: its subscribers, if any, are elsewhere by now.
    for (const NodeAddress& node : nodes) {
      router_.WithConnection(node, [this, sum, part](Connection conn, absl::Status st) {
        if (stopping()) return;
        if (!st.ok()) return part();
        conn->Command({"PUBSUB", "NUMSUB", channels().broadcast()},
                      [sum, part](absl::StatusOr<RedisReply> r) {
                        std::optional<size_t> n = r.ok() ? SubscriberCount(*r) : std::nullopt;
                        sum->total += n.value_or(0);
                        part();
                      });
      });
    }
  }

  // --- Node counting ------------------------------------------------------------------------

  void QueryNodeCount(CountCallback done) override {
    // Classic: PUBSUB NUMSUB only counts the clients of the node that answers.
    if (!sharded_) {
      done(std::nullopt);
      return;
    }
    CountAttempt(0, std::move(done));
  }

  // PUBSUB SHARDNUMSUB of the broadcast channel on its owner, following -MOVED.
  void CountAttempt(int redirects, CountCallback done) {
    std::optional<NodeAddress> target = router_.Target(channels().broadcast(), /*owner_only=*/true);
    if (!target) {
      done(std::nullopt);
      return;
    }
    router_.WithConnection(*target, [this, redirects, host = target->host, done = std::move(done)](
                                        Connection conn, absl::Status st) {
      if (stopping()) return;
      if (!st.ok()) {
        done(std::nullopt);
        return;
      }
      conn->Command(
          {"PUBSUB", "SHARDNUMSUB", channels().broadcast()},
          [this, redirects, host, done](absl::StatusOr<RedisReply> r) {
            if (stopping()) return;
            if (!r.ok()) {
              Redirect rd = ParseRedirect(base::Sv(r.status().message()), host);
              if (rd.kind == Redirect::Kind::kMoved && redirects < options_.max_redirects) {
                router_.ApplyMoved(rd.slot, rd.to);
                CountAttempt(redirects + 1, done);
                return;
              }
              Log()->warn("redis-cluster PUBSUB SHARDNUMSUB failed: {}",
                          std::string(r.status().message()));
              done(std::nullopt);
              return;
            }
            std::optional<size_t> n = SubscriberCount(*r);
            if (!n) {
              Log()->warn("redis-cluster PUBSUB SHARDNUMSUB: unexpected reply {}",
                          r->DebugString());
            }
            done(n);
          });
    });
  }

  const config::RedisClusterAdapterConfig config_;
  const Options options_;
  const bool sharded_;
  const std::string publish_verb_;
  const bool tls_;
  std::atomic<uint64_t> redirections_{0};

  // Driver thread only below.
  ClusterRouter router_;
  bool starting_ = false;
  std::function<void(absl::Status)> startup_done_;
  Clock::time_point startup_deadline_;
  absl::Status last_error_;
  asio::steady_timer startup_timer_;
  asio::steady_timer startup_retry_timer_;

  std::map<std::string, LinkPtr> links_;        // "" (classic) or the master's "host:port"
  std::map<std::string, std::string> link_of_;  // sharded: channel -> key of its link
  bool links_created_ = false;
  bool reconcile_posted_ = false;
  asio::steady_timer sample_timer_;  // SampleSubscribers
  redis::BroadcastGate gate_;        // broadcasts after a break
};

RedisClusterTransport::RedisClusterTransport(config::RedisClusterAdapterConfig config)
    : RedisClusterTransport(std::move(config), Options()) {}

RedisClusterTransport::RedisClusterTransport(config::RedisClusterAdapterConfig config,
                                             Options options)
    : RedisBusTransport(std::make_unique<Impl>(std::move(config), options)) {}

RedisClusterTransport::Impl& RedisClusterTransport::impl() const {
  return static_cast<Impl&>(driver());
}

uint64_t RedisClusterTransport::redirections() const { return impl().redirections(); }

std::vector<std::string> RedisClusterTransport::subscriber_nodes() const {
  return impl().SubscriberNodes();
}

}  // namespace sockudo::bus::redis_cluster
