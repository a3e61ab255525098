#include "common/bus/redis_cluster/redis_cluster_transport.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "common/base/strings.h"
#include "common/bus/names.h"
#include "common/bus/redis/redis_connection.h"
#include "common/bus/redis_cluster/cluster_router.h"
#include "common/bus/redis_cluster/cluster_slot.h"

namespace sockudo::bus::redis_cluster {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using redis::Push;
using redis::RedisConnection;
using redis::RedisReply;
using std::chrono::milliseconds;

namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const std::shared_ptr<spdlog::logger> log = base::Logger("bus.redis_cluster");
  return log;
}

// Pause between startup attempts (topology, subscriber) while within the startup bound.
constexpr milliseconds kStartupPause{250};

// Runs user code (a Completion, a Listener call): an exception stops there, logged, so it never
// unwinds through a connection's read loop.
template <typename Fn>
void Guarded(const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    Log()->error("BUG: exception escaped {}: {}", what, e.what());
  } catch (...) {
    Log()->error("BUG: unknown exception escaped {}", what);
  }
}

void Complete(const Completion& done, absl::Status status) {
  if (done) Guarded("a publish completion", [&] { done(std::move(status)); });
}

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

class RedisClusterTransport::Impl {
 public:
  Impl(config::RedisClusterAdapterConfig config, Options options)
      : config_(std::move(config)),
        options_(options),
        sharded_(config_.use_sharded_pubsub),
        publish_verb_(sharded_ ? "SPUBLISH" : "PUBLISH"),
        broadcast_channel_(RedisChannel(config_.prefix, Channel::kBroadcast)),
        requests_channel_(RedisChannel(config_.prefix, Channel::kRequests)),
        responses_channel_(RedisChannel(config_.prefix, Channel::kResponses)),
        tls_(RouterOptionsFor(config_, options_).tls),
        work_(asio::make_work_guard(io_)),
        router_(io_, RouterOptionsFor(config_, options_)),
        startup_timer_(io_),
        startup_retry_timer_(io_),
        ping_timer_(io_),
        bpump_timer_(io_) {}

  ~Impl() { Stop(); }

  // --- Owner thread -------------------------------------------------------------------------

  absl::Status Start(const Identity& identity, Listener* listener) {
    {
      std::lock_guard lock(mu_);
      if (run_state_ != RunState::kNew) {
        return absl::FailedPreconditionError("RedisClusterTransport::Start called twice");
      }
      if (listener == nullptr) {
        return absl::InvalidArgumentError("RedisClusterTransport: no listener");
      }
      if (identity.reply_hex.empty() || (!identity.observer && identity.node_id.empty())) {
        return absl::InvalidArgumentError(
            "RedisClusterTransport: identity without node id or reply id");
      }
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
      run_state_ = RunState::kRunning;
    }
    identity_ = identity;
    listener_ = listener;
    node_channel_ = RedisChannel(config_.prefix, Channel::kNodeInbox, identity.node_id);
    reply_channel_ = RedisChannel(config_.prefix, Channel::kReplyInbox, identity.reply_hex);
    subscriptions_ = identity.observer ? std::vector<std::string>{requests_channel_, reply_channel_}
                                       : std::vector<std::string>{
                                             broadcast_channel_, requests_channel_,
                                             responses_channel_, node_channel_, reply_channel_};
    router_.set_topology_handler([this] { OnTopology(); });
    thread_ = std::thread([this] { Run(); });

    auto result = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> future = result->get_future();
    const Clock::time_point deadline = Clock::now() + options_.startup_timeout;
    asio::post(io_, [this, result, deadline] {
      StartOnIo(deadline, [result](absl::Status st) { result->set_value(std::move(st)); });
    });
    absl::Status status;
    if (future.wait_for(options_.startup_timeout + std::chrono::seconds(3)) ==
        std::future_status::ready) {
      status = future.get();
    } else {
      status = absl::DeadlineExceededError(absl::StrCat("redis-cluster (seeds ", router_seeds(),
                                                        "): startup did not finish in time"));
    }
    if (!status.ok()) {
      Log()->error("redis-cluster bus unavailable endpoint={}: {}", endpoint(),
                   std::string(status.message()));
      Stop();
      return status;
    }
    Log()->info("redis-cluster bus connected endpoint={} mode={} subscriptions={}", endpoint(),
                sharded_ ? "sharded" : "classic", subscriptions_.size());
    return absl::OkStatus();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (run_state_ != RunState::kRunning) {
        run_state_ = RunState::kStopped;
        return;
      }
      run_state_ = RunState::kStopped;
      asio::post(io_, [this] { Shutdown(); });
    }
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id()) {
        Log()->error("BUG: RedisClusterTransport::Stop called on its own thread; not joining");
        thread_.detach();
      } else {
        thread_.join();
      }
    }
  }

  // --- Any thread ---------------------------------------------------------------------------

  void PublishBroadcast(std::string payload, Completion done) {
    std::unique_lock lock(mu_);
    if (run_state_ != RunState::kRunning) {
      lock.unlock();
      Complete(done, NotRunning());
      return;
    }
    if (depth_.fetch_add(1) >= options_.queue_limit) {
      depth_.fetch_sub(1);
      dropped_.fetch_add(1);
      asio::post(io_, [done = std::move(done), limit = options_.queue_limit] {
        Complete(done,
                 absl::ResourceExhaustedError(absl::StrCat(
                     "redis-cluster broadcast pipeline full (", limit, " messages): dropped")));
      });
      return;
    }
    asio::post(io_, [this, payload = std::move(payload), done = std::move(done)]() mutable {
      auto job = std::make_shared<Job>();
      job->channel = broadcast_channel_;
      job->payload = std::move(payload);
      job->done = std::move(done);
      job->broadcast = true;
      bqueue_.push_back(std::move(job));
      PumpBroadcasts();
    });
  }

  void PublishCommand(std::string channel, std::string payload, Completion done) {
    std::unique_lock lock(mu_);
    if (run_state_ != RunState::kRunning) {
      lock.unlock();
      Complete(done, NotRunning());
      return;
    }
    asio::post(io_, [this, channel = std::move(channel), payload = std::move(payload),
                     done = std::move(done)]() mutable {
      auto job = std::make_shared<Job>();
      job->channel = std::move(channel);
      job->payload = std::move(payload);
      job->done = std::move(done);
      jobs_.insert(job);
      SendJob(job);
    });
  }

  void CountNodes(std::function<void(std::optional<size_t>)> done) {
    std::unique_lock lock(mu_);
    if (run_state_ != RunState::kRunning) {
      lock.unlock();
      if (done) done(std::nullopt);
      return;
    }
    asio::post(io_, [this, done = std::move(done)]() mutable { CountOnIo(std::move(done)); });
  }

  void Post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }

  std::vector<std::string> SubscriberNodes() {
    {
      std::lock_guard lock(mu_);
      if (run_state_ != RunState::kRunning) return {};
    }
    auto result = std::make_shared<std::promise<std::vector<std::string>>>();
    auto future = result->get_future();
    asio::post(io_, [this, result] {
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

  std::string ReplyTo() const { return reply_channel_; }
  const std::string& requests_channel() const { return requests_channel_; }
  const std::string& responses_channel() const { return responses_channel_; }
  const std::string& prefix() const { return config_.prefix; }
  std::string endpoint() const {
    return absl::StrCat(tls_ ? "rediss-cluster://" : "redis-cluster://", router_seeds());
  }

  std::atomic<bool> healthy_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> reconnections_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> redirections_{0};
  std::atomic<size_t> depth_{0};

 private:
  enum class RunState { kNew, kRunning, kStopped };
  using Connection = std::shared_ptr<RedisConnection>;

  // One publish (broadcast or not) until it completes.
  struct Job {
    std::string channel;
    std::string payload;
    Completion done;
    bool broadcast = false;
    int attempts = 0;                // failed attempts: connection failures, -CLUSTERDOWN
    int redirects = 0;               // -MOVED, -ASK, -TRYAGAIN followed
    std::optional<NodeAddress> ask;  // the next send goes there, after ASKING
    bool sent = false;               // broadcast: counted in bsent_ (waiting for its reply)
    bool finished = false;
    uint64_t send_id = 0;  // replies of an older send are ignored
  };

  // One subscriber connection and the channels it carries. Classic: one link ("" key) that may
  // go to any node. Sharded: one link per master ("host:port" key).
  struct Link {
    explicit Link(asio::io_context& io) : timer(io) {}
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
    milliseconds delay{0};
    int failures = 0;  // consecutive failed attempts
    asio::steady_timer timer;
  };
  using LinkPtr = std::shared_ptr<Link>;

  static absl::Status NotRunning() {
    return absl::FailedPreconditionError("redis-cluster transport is not running");
  }

  std::string router_seeds() const {
    std::string out;
    for (const config::RedisSeed& s : config_.nodes) {
      if (!out.empty()) out.push_back(',');
      absl::StrAppend(&out, s.host, ":", s.port);
    }
    return out;
  }

  milliseconds RetryDelay(int attempts) const {
    milliseconds d = options_.publish_retry_delay;
    for (int i = 1; i < attempts && d < options_.publish_retry_max_delay; ++i) d *= 2;
    return std::min(d, options_.publish_retry_max_delay);
  }

  void Run() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        Log()->error("BUG: exception escaped a redis-cluster bus handler: {}", e.what());
      } catch (...) {
        Log()->error("BUG: unknown exception escaped a redis-cluster bus handler");
      }
    }
  }

  // --- Startup ------------------------------------------------------------------------------

  void StartOnIo(Clock::time_point deadline, std::function<void(absl::Status)> done) {
    starting_ = true;
    startup_done_ = std::move(done);
    startup_deadline_ = deadline;
    startup_timer_.expires_at(deadline);
    startup_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || !starting_ || stopping_) return;
      size_t confirmed = 0;
      for (const auto& [key, link] : links_) {
        for (const std::string& ch : link->channels) confirmed += link->confirmed.count(ch);
      }
      std::string why = last_error_.ok() ? std::string("no error reported")
                                         : absl::StrCat("last error: ", last_error_.message());
      FinishStartup(absl::UnavailableError(
          absl::StrCat("could not subscribe within ", options_.startup_timeout.count(), " ms (",
                       confirmed, " of ", subscriptions_.size(), " channels subscribed); ", why)));
    });
    FetchInitialTopology();
  }

  void FetchInitialTopology() {
    router_.Refresh([this](absl::Status st) {
      if (!starting_ || stopping_) return;
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
        if (ec || !starting_ || stopping_) return;
        FetchInitialTopology();
      });
    });
  }

  void CreateLinks() {
    if (sharded_) {
      Reconcile();
      return;
    }
    auto link = std::make_shared<Link>(io_);
    link->channels = subscriptions_;
    link->delay = options_.resubscribe_delay;
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
      StartPing();
    } else {
      status = absl::Status(status.code(), absl::StrCat("redis-cluster (seeds ", router_seeds(),
                                                        "): ", status.message()));
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
    if (stopping_ || link->dead || link->dialing || link->conn) return;
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
                   if (stopping_ || link->dead) {
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
      if (stopping_ || link->dead || link->conn != conn) return;
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
          if (stopping_ || link->dead || link->conn != conn) return;
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
            auto timer = std::make_shared<asio::steady_timer>(io_, options_.tryagain_delay);
            timer->async_wait([this, timer, link, conn, ch](boost::system::error_code ec) {
              if (ec || stopping_ || link->dead || link->conn != conn) return;
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
    link->delay = options_.resubscribe_delay;
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
    link->delay = std::min(link->delay * 2, options_.resubscribe_max_delay);
    Log()->warn("redis-cluster resubscribe failed, next try in {} ms: {}", link->delay.count(),
                std::string(why.message()));
    UpdateHealth();
    ScheduleLink(link, link->delay);
  }

  void OnLinkLost(const LinkPtr& link, const Connection& conn, const absl::Status& why) {
    if (stopping_ || link->dead || link->conn != conn) return;
    link->conn.reset();
    link->confirmed.clear();
    link->pending.clear();
    link->broke = true;
    if (link->node) router_.MarkSuspect(*link->node);
    Log()->warn("redis-cluster subscriber connection to {} lost, resubscribing in {} ms: {}",
                conn->address(), link->delay.count(), std::string(why.message()));
    UpdateHealth();
    ScheduleLink(link, starting_ ? kStartupPause : link->delay);
  }

  void ScheduleLink(const LinkPtr& link, milliseconds delay) {
    link->waiting = true;
    link->timer.expires_after(delay);
    link->timer.async_wait([this, link](boost::system::error_code ec) {
      if (ec) return;
      link->waiting = false;
      if (stopping_ || link->dead) return;
      ConnectLink(link);
    });
  }

  // Healthy while every channel is subscribed; the first time ends the startup, later ones run
  // the listener's callbacks.
  void UpdateHealth() {
    if (stopping_) return;
    size_t confirmed = 0;
    for (const auto& [key, link] : links_) {
      for (const std::string& ch : link->channels) confirmed += link->confirmed.count(ch);
    }
    const bool all = confirmed >= subscriptions_.size();
    if (starting_) {
      if (all) FinishStartup(absl::OkStatus());
      return;
    }
    if (all == healthy_.load()) return;
    healthy_ = all;
    Guarded("Listener::OnHealthChanged", [&] { listener_->OnHealthChanged(all); });
    if (all) Guarded("Listener::OnResubscribed", [&] { listener_->OnResubscribed(); });
  }

  // Finds silent breaks: the reply timeout of a connection fires when its PING goes unanswered.
  void StartPing() {
    if (options_.subscriber_ping_interval.count() <= 0) return;
    ping_timer_.expires_after(options_.subscriber_ping_interval);
    ping_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      for (const auto& [key, link] : links_) {
        if (link->conn && !link->confirmed.empty()) link->conn->Command({"PING"}, nullptr);
      }
      StartPing();
    });
  }

  void OnPush(const LinkPtr& link, const Connection& conn, Push push) {
    if (stopping_ || link->dead || link->conn != conn) return;
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
    if (push.kind != "message" && push.kind != "smessage") {
      Log()->debug("redis-cluster subscriber: ignored push kind={} channel={}", push.kind,
                   push.channel);
      return;
    }
    std::optional<Channel> channel;
    if (push.channel == broadcast_channel_) {
      channel = Channel::kBroadcast;
    } else if (push.channel == requests_channel_) {
      channel = Channel::kRequests;
    } else if (push.channel == responses_channel_) {
      channel = Channel::kResponses;
    } else if (push.channel == node_channel_) {
      channel = Channel::kNodeInbox;
    } else if (push.channel == reply_channel_) {
      channel = Channel::kReplyInbox;
    }
    if (!channel) {
      Log()->debug("redis-cluster subscriber: message on unexpected channel {}", push.channel);
      return;
    }
    Guarded("Listener::OnMessage", [&] {
      listener_->OnMessage(Incoming{*channel, std::move(push.payload), ""});
    });
  }

  // --- Sharded: channel placement -----------------------------------------------------------

  void OnTopology() {
    if (stopping_ || reconcile_posted_) return;
    // Posted: the handler may run inside a connection's callback, and both close links.
    reconcile_posted_ = true;
    asio::post(io_, [this] {
      reconcile_posted_ = false;
      if (stopping_) return;
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
    if (!sharded_ || stopping_) return;
    links_created_ = true;
    for (const std::string& ch : subscriptions_) {
      std::optional<NodeAddress> owner = router_.Target(ch, /*owner_only=*/true);
      if (!owner) continue;  // not covered right now: stays where it is
      const std::string key = owner->ToString();
      auto current = link_of_.find(ch);
      if (current != link_of_.end() && current->second == key) continue;
      if (current != link_of_.end()) {
        auto it = links_.find(current->second);
        if (it != links_.end()) {
          Log()->info("redis-cluster: moving subscription {} from {} to {}", ch, it->first, key);
          RemoveChannel(it->second, ch);
        }
      }
      AddChannel(key, *owner, ch);
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

  void AddChannel(const std::string& key, const NodeAddress& owner, const std::string& ch) {
    LinkPtr& slot = links_[key];
    if (!slot) {
      slot = std::make_shared<Link>(io_);
      slot->key = key;
      slot->master = owner;
      slot->delay = options_.resubscribe_delay;
    }
    LinkPtr link = slot;
    link->channels.push_back(ch);
    link_of_[ch] = key;
    if (link->conn) {
      SubscribeOne(link, link->conn, ch);
    } else if (!link->dialing && !link->waiting) {
      ConnectLink(link);
    }
  }

  // --- Publishing ---------------------------------------------------------------------------

  // Hands every unsent broadcast, in publish order, to its connection (up to the window).
  void PumpBroadcasts() {
    if (stopping_ || bwaiting_) return;
    if (pumping_) {
      pump_again_ = true;
      return;
    }
    pumping_ = true;
    do {
      pump_again_ = false;
      std::vector<std::shared_ptr<Job>> batch;
      for (const auto& job : bqueue_) {
        if (bsent_ >= options_.pipeline_window) break;
        if (job->sent) continue;
        job->sent = true;
        ++bsent_;
        batch.push_back(job);
      }
      for (const auto& job : batch) {
        if (!stopping_ && !job->finished && job->sent) SendJob(job);
      }
    } while (pump_again_ && !stopping_ && !bwaiting_);
    pumping_ = false;
  }

  void ScheduleBroadcastPump(milliseconds delay) {
    if (stopping_) return;
    if (delay.count() <= 0) {
      if (bpump_posted_) return;
      bpump_posted_ = true;
      asio::post(io_, [this] {
        bpump_posted_ = false;
        PumpBroadcasts();
      });
      return;
    }
    if (bwaiting_) return;  // a retry delay runs already; it pumps when it ends
    bwaiting_ = true;
    bpump_timer_.expires_after(delay);
    bpump_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      bwaiting_ = false;
      PumpBroadcasts();
    });
  }

  void SendJob(const std::shared_ptr<Job>& job) {
    std::optional<NodeAddress> target;
    bool asking = false;
    if (job->ask) {
      target = std::exchange(job->ask, std::nullopt);
      asking = true;
    } else {
      target = router_.Target(job->channel, /*owner_only=*/sharded_);
    }
    const uint64_t id = ++job->send_id;
    if (!target) {
      absl::Status why = absl::UnavailableError(
          absl::StrCat("no master serves slot ", KeySlot(job->channel), " of ", job->channel));
      asio::post(io_, [this, job, id, why] {
        if (!stopping_ && !job->finished && job->send_id == id) JobFailed(job, why, std::nullopt);
      });
      return;
    }
    router_.WithConnection(
        *target, [this, job, id, target = *target, asking](Connection conn, absl::Status st) {
          if (stopping_ || job->finished || job->send_id != id) return;
          if (!st.ok()) {
            JobFailed(job, st, target);
            return;
          }
          if (asking) conn->Command({"ASKING"}, nullptr);
          conn->Command({publish_verb_, job->channel, job->payload},
                        [this, job, id, conn, target](absl::StatusOr<RedisReply> r) {
                          OnJobReply(job, id, conn, target, r);
                        });
        });
  }

  void OnJobReply(const std::shared_ptr<Job>& job, uint64_t id, const Connection& conn,
                  const NodeAddress& target, const absl::StatusOr<RedisReply>& r) {
    if (stopping_ || job->finished || job->send_id != id) return;
    if (r.ok()) {
      FinishJob(job, absl::OkStatus());
      return;
    }
    const absl::Status& st = r.status();
    if (conn->closed() || redis::IsConnectionError(st)) {
      JobFailed(job, st, target);
      return;
    }
    const Redirect rd = ParseRedirect(base::Sv(st.message()), target.host);
    switch (rd.kind) {
      case Redirect::Kind::kMoved:
        router_.ApplyMoved(rd.slot, rd.to);
        Redirected(job, st, milliseconds(0));
        return;
      case Redirect::Kind::kAsk:
        job->ask = rd.to;
        Redirected(job, st, milliseconds(0));
        return;
      case Redirect::Kind::kTryAgain:
        Redirected(job, st, options_.tryagain_delay);
        return;
      case Redirect::Kind::kClusterDown:
        JobFailed(job, st, target);
        return;
      case Redirect::Kind::kNone:
        // The server refused this one message (ACL, OOM...): retrying would not help.
        FinishJob(job, st);
        return;
    }
  }

  void Redirected(const std::shared_ptr<Job>& job, const absl::Status& why, milliseconds delay) {
    redirections_.fetch_add(1);
    if (++job->redirects > options_.max_redirects) {
      FinishJob(job, absl::UnavailableError(absl::StrCat(
                         "redis-cluster publish to ", job->channel, ": too many redirections (",
                         job->redirects - 1, "): ", why.message())));
      return;
    }
    Resend(job, delay);
  }

  // A connection failure or -CLUSTERDOWN: the node is suspect, the topology is refreshed from
  // another node, and the publish-retry policy applies.
  void JobFailed(const std::shared_ptr<Job>& job, const absl::Status& why,
                 const std::optional<NodeAddress>& target) {
    if (target) router_.MarkSuspect(*target);
    router_.RequestRefresh();
    if (++job->attempts > options_.publish_retries) {
      FinishJob(job, absl::UnavailableError(absl::StrCat("redis-cluster publish to ", job->channel,
                                                         " failed after ", job->attempts,
                                                         " attempts: ", why.message())));
      return;
    }
    Resend(job, RetryDelay(job->attempts));
  }

  void Resend(const std::shared_ptr<Job>& job, milliseconds delay) {
    ++job->send_id;  // whatever the older send still returns is ignored
    if (job->broadcast) {
      MarkUnsent(*job);
      ScheduleBroadcastPump(delay);
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, delay);
    timer->async_wait([this, timer, job](boost::system::error_code ec) {
      if (ec || stopping_ || job->finished) return;
      SendJob(job);
    });
  }

  void MarkUnsent(Job& job) {
    if (!job.sent) return;
    job.sent = false;
    --bsent_;
  }

  void FinishJob(const std::shared_ptr<Job>& job, absl::Status status) {
    if (job->finished) return;
    job->finished = true;
    if (job->broadcast) {
      MarkUnsent(*job);
      auto it = std::find(bqueue_.begin(), bqueue_.end(), job);
      if (it != bqueue_.end()) bqueue_.erase(it);
      depth_.fetch_sub(1);
    } else {
      jobs_.erase(job);
    }
    if (!status.ok()) {
      failed_.fetch_add(1);
      Log()->warn("redis-cluster publish failed: {}", std::string(status.message()));
    }
    Complete(job->done, std::move(status));
    if (job->broadcast) PumpBroadcasts();
  }

  // --- Node counting ------------------------------------------------------------------------

  void CountOnIo(std::function<void(std::optional<size_t>)> done) {
    if (!sharded_) {
      // PUBSUB NUMSUB only counts the clients of the node that answers (§9).
      if (done) Guarded("a CountNodes callback", [&] { done(std::nullopt); });
      return;
    }
    if (count_cached_ && Clock::now() - count_time_ <= options_.count_cache) {
      if (done) Guarded("a CountNodes callback", [&] { done(count_value_); });
      return;
    }
    count_waiters_.push_back(std::move(done));
    if (count_in_flight_) return;
    count_in_flight_ = true;
    CountAttempt(0);
  }

  void CountAttempt(int redirects) {
    std::optional<NodeAddress> target = router_.Target(broadcast_channel_, /*owner_only=*/true);
    if (!target) {
      FinishCount(std::nullopt);
      return;
    }
    router_.WithConnection(*target, [this, redirects, host = target->host](Connection conn,
                                                                           absl::Status st) {
      if (stopping_) return;
      if (!st.ok()) {
        FinishCount(std::nullopt);
        return;
      }
      conn->Command(
          {"PUBSUB", "SHARDNUMSUB", broadcast_channel_},
          [this, redirects, host](absl::StatusOr<RedisReply> r) {
            if (stopping_) return;
            if (!r.ok()) {
              Redirect rd = ParseRedirect(base::Sv(r.status().message()), host);
              if (rd.kind == Redirect::Kind::kMoved && redirects < options_.max_redirects) {
                router_.ApplyMoved(rd.slot, rd.to);
                CountAttempt(redirects + 1);
                return;
              }
              Log()->warn("redis-cluster PUBSUB SHARDNUMSUB failed: {}",
                          std::string(r.status().message()));
              FinishCount(std::nullopt);
              return;
            }
            std::optional<size_t> n;
            if (r->is_array() && r->elements.size() == 2 &&
                r->elements[1].type == RedisReply::Type::kInteger && r->elements[1].integer >= 0) {
              n = static_cast<size_t>(r->elements[1].integer);
              count_cached_ = true;
              count_value_ = *n;
              count_time_ = Clock::now();
            } else {
              Log()->warn("redis-cluster PUBSUB SHARDNUMSUB: unexpected reply {}",
                          r->DebugString());
            }
            FinishCount(n);
          });
    });
  }

  void FinishCount(std::optional<size_t> n) {
    count_in_flight_ = false;
    auto waiters = std::exchange(count_waiters_, {});
    for (auto& w : waiters) {
      if (w) Guarded("a CountNodes callback", [&] { w(n); });
    }
  }

  // --- Shutdown (driver thread) -------------------------------------------------------------

  void Shutdown() {
    if (starting_) FinishStartup(absl::CancelledError("redis-cluster transport stopped"));
    stopping_ = true;
    healthy_ = false;
    startup_timer_.cancel();
    startup_retry_timer_.cancel();
    ping_timer_.cancel();
    bpump_timer_.cancel();
    auto links = std::exchange(links_, {});
    for (auto& [key, link] : links) {
      link->dead = true;
      link->timer.cancel();
      if (link->conn) std::exchange(link->conn, nullptr)->Close();
    }
    router_.Shutdown();
    absl::Status stopped = absl::CancelledError("redis-cluster transport stopped");
    auto queue = std::exchange(bqueue_, {});
    bsent_ = 0;
    depth_ = 0;
    for (const auto& job : queue) {
      if (!job->finished) {
        job->finished = true;
        Complete(job->done, stopped);
      }
    }
    auto jobs = std::exchange(jobs_, {});
    for (const auto& job : jobs) {
      if (!job->finished) {
        job->finished = true;
        Complete(job->done, stopped);
      }
    }
    FinishCount(std::nullopt);
    work_.reset();
    io_.stop();
  }

  const config::RedisClusterAdapterConfig config_;
  const Options options_;
  const bool sharded_;
  const std::string publish_verb_;
  const std::string broadcast_channel_;
  const std::string requests_channel_;
  const std::string responses_channel_;
  const bool tls_;
  // Set by Start before the driver thread runs, then read-only.
  Identity identity_;
  Listener* listener_ = nullptr;
  std::string node_channel_;
  std::string reply_channel_;
  std::vector<std::string> subscriptions_;

  mutable std::mutex mu_;  // run_state_ and posting against Stop
  RunState run_state_ = RunState::kNew;

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;

  // Driver thread only below.
  ClusterRouter router_;
  bool stopping_ = false;
  bool starting_ = false;
  std::function<void(absl::Status)> startup_done_;
  Clock::time_point startup_deadline_;
  absl::Status last_error_;
  asio::steady_timer startup_timer_;
  asio::steady_timer startup_retry_timer_;
  asio::steady_timer ping_timer_;

  std::map<std::string, LinkPtr> links_;        // "" (classic) or the master's "host:port"
  std::map<std::string, std::string> link_of_;  // sharded: channel -> key of its link
  bool links_created_ = false;
  bool reconcile_posted_ = false;

  std::deque<std::shared_ptr<Job>> bqueue_;  // unfinished broadcasts, in publish order
  size_t bsent_ = 0;                         // of which handed to a connection
  bool pumping_ = false;
  bool pump_again_ = false;
  bool bpump_posted_ = false;
  bool bwaiting_ = false;  // a retry delay runs: broadcasts wait (head of line)
  asio::steady_timer bpump_timer_;
  std::unordered_set<std::shared_ptr<Job>> jobs_;  // other publishes

  bool count_cached_ = false;
  size_t count_value_ = 0;
  Clock::time_point count_time_;
  bool count_in_flight_ = false;
  std::vector<std::function<void(std::optional<size_t>)>> count_waiters_;
};

RedisClusterTransport::RedisClusterTransport(config::RedisClusterAdapterConfig config)
    : RedisClusterTransport(std::move(config), Options()) {}

RedisClusterTransport::RedisClusterTransport(config::RedisClusterAdapterConfig config,
                                             Options options)
    : impl_(std::make_unique<Impl>(std::move(config), options)) {}

RedisClusterTransport::~RedisClusterTransport() { Stop(); }

absl::Status RedisClusterTransport::Start(const Identity& identity, Listener* listener) {
  return impl_->Start(identity, listener);
}

void RedisClusterTransport::Stop() { impl_->Stop(); }

void RedisClusterTransport::Publish(Channel channel, std::string payload, Completion done) {
  switch (channel) {
    case Channel::kBroadcast:
      impl_->PublishBroadcast(std::move(payload), std::move(done));
      return;
    case Channel::kRequests:
      impl_->PublishCommand(impl_->requests_channel(), std::move(payload), std::move(done));
      return;
    case Channel::kResponses:
      impl_->PublishCommand(impl_->responses_channel(), std::move(payload), std::move(done));
      return;
    default:
      // Inboxes have their own calls (PublishToNode, Reply): refuse on the driver thread.
      impl_->Post([done = std::move(done), channel] {
        Complete(done,
                 absl::InvalidArgumentError(absl::StrCat(
                     "Publish cannot address the ", std::string(ChannelName(channel)), " inbox")));
      });
  }
}

void RedisClusterTransport::PublishToNode(std::string_view node_id, std::string payload,
                                          Completion done) {
  impl_->PublishCommand(RedisChannel(impl_->prefix(), Channel::kNodeInbox, node_id),
                        std::move(payload), std::move(done));
}

void RedisClusterTransport::PublishRequest(std::string_view request_id, std::string payload,
                                           Completion done) {
  impl_->PublishCommand(impl_->requests_channel(), std::move(payload), std::move(done));
}

void RedisClusterTransport::Reply(std::string_view address, std::string payload, Completion done) {
  impl_->PublishCommand(address.empty() ? impl_->responses_channel() : std::string(address),
                        std::move(payload), std::move(done));
}

std::string RedisClusterTransport::ReplyTo() const { return impl_->ReplyTo(); }

void RedisClusterTransport::CountNodes(std::function<void(std::optional<size_t>)> done) {
  impl_->CountNodes(std::move(done));
}

bool RedisClusterTransport::Healthy() const { return impl_->healthy_.load(); }

void RedisClusterTransport::Post(std::function<void()> fn) { impl_->Post(std::move(fn)); }

uint64_t RedisClusterTransport::dropped_messages() const { return impl_->dropped_.load(); }
uint64_t RedisClusterTransport::reconnections() const { return impl_->reconnections_.load(); }
size_t RedisClusterTransport::queue_depth() const { return impl_->depth_.load(); }
uint64_t RedisClusterTransport::failed_publishes() const { return impl_->failed_.load(); }
uint64_t RedisClusterTransport::redirections() const { return impl_->redirections_.load(); }
std::string RedisClusterTransport::endpoint() const { return impl_->endpoint(); }
std::vector<std::string> RedisClusterTransport::subscriber_nodes() const {
  return impl_->SubscriberNodes();
}

}  // namespace sockudo::bus::redis_cluster
