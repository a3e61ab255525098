#include "common/bus/redis/redis_transport.h"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "common/bus/redis/backoff.h"
#include "common/bus/redis/broadcast_gate.h"
#include "common/bus/redis/redis_bus_driver.h"
#include "common/bus/redis/redis_connection.h"
#include "common/bus/redis/sentinel.h"

namespace sockudo::bus::redis {
namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const std::shared_ptr<spdlog::logger> log = base::Logger("bus.redis");
  return log;
}

std::string DirectEndpoint(const config::RedisTarget& t) {
  return absl::StrCat(t.tls ? "rediss://" : "redis://", t.host, ":", t.port, "/", t.db);
}

std::string EndpointOf(const config::RedisTarget& t) {
  return t.sentinels.empty() ? DirectEndpoint(t) : Sentinel::EndpointForLog(t);
}

}  // namespace

class RedisTransport::Impl final : public RedisBusDriver {
 public:
  Impl(config::RedisAdapterConfig config, Options options)
      : RedisBusDriver("redis", "RedisTransport", config.prefix, options, Log()),
        config_(std::move(config)),
        sub_timer_(io()),
        sub_backoff_(options.resubscribe_delay, options.resubscribe_max_delay),
        gate_(io(), Log(),
              [this](BroadcastGate::CountDone done) { QueryNodeCount(std::move(done)); }) {}

  ~Impl() override { Stop(); }

  std::string endpoint() const override { return EndpointOf(config_.sub); }

 private:
  using Connection = std::shared_ptr<RedisConnection>;
  using ConnectionOr = absl::StatusOr<Connection>;
  using DialCallback = std::function<void(ConnectionOr)>;
  // Gets a ready connection (status OK) or why there is none.
  using Waiter = std::function<void(Connection, absl::Status)>;

  // A publish connection (events, command): dialled by the first command that needs it, shared
  // by the commands that come meanwhile, redialled on demand after a break.
  struct Shared {
    explicit Shared(std::string label) : label(std::move(label)) {}
    const std::string label;
    Connection conn;
    bool dialing = false;
    std::vector<Waiter> waiters;
  };

  // --- Hooks ----------------------------------------------------------------------------------

  absl::Status CheckConfig() const override {
    for (const config::RedisTarget* t : {&config_.pub, &config_.sub}) {
      if (t->port <= 0 || t->port > 65535) {
        return absl::InvalidArgumentError("RedisTransport: Redis port out of range");
      }
    }
    return absl::OkStatus();
  }

  void BeforeStart() override {
    if (!config_.pub.sentinels.empty()) pub_sentinel_ = MakeSentinel(config_.pub);
    if (!config_.sub.sentinels.empty()) sub_sentinel_ = MakeSentinel(config_.sub);
  }

  // The subscriber, the events and the command connections, each dialled again while the
  // failure is a connection problem, until `deadline`.
  void StartOnIo(Clock::time_point deadline, std::function<void(absl::Status)> done) override {
    struct Join {
      int left = 3;
      absl::Status first;
      std::function<void(absl::Status)> done;
    };
    auto join = std::make_shared<Join>();
    join->done = std::move(done);
    auto part = [this, join](absl::Status st) {
      if (!st.ok() && join->first.ok()) join->first = st;
      if (--join->left > 0) return;
      if (join->first.ok()) healthy_ = sub_ != nullptr;
      join->done(join->first);
    };
    ConnectSubscriber(deadline, /*retry=*/true, part);
    for (Shared* shared : {&events_, &command_}) {
      DialUntil(true, shared->label, deadline, [this, shared, part](ConnectionOr c) {
        if (c.ok()) Adopt(*shared, *c);
        part(c.status());
      });
    }
  }

  // Broadcasts go on the events connection, everything else on the command connection.
  void SendPublish(const PublishPipeline::JobPtr& job, PublishPipeline::Reply reply) override {
    using Outcome = PublishPipeline::Outcome;
    const uint64_t id = job->send_id;
    With(job->broadcast ? events_ : command_, [this, job, id, reply = std::move(reply)](
                                                  Connection conn, absl::Status st) mutable {
      if (stopping() || !job->Current(id)) return;
      if (!st.ok()) {
        reply(Outcome::Retry(st));
        return;
      }
      auto publish = [this, conn, job, id, reply = std::move(reply)] {
        if (stopping() || !job->Current(id)) return;
        conn->Command({"PUBLISH", job->channel, job->payload}, [this, conn, job, reply](
                                                                   absl::StatusOr<RedisReply> r) {
          if (r.ok()) {
            if (job->broadcast && r->type == RedisReply::Type::kInteger && r->integer >= 0) {
              gate_.set_expected(static_cast<size_t>(r->integer));
            }
            reply(Outcome::Done(absl::OkStatus()));
          } else if (conn->closed()) {
            reply(Outcome::Retry(r.status()));
          } else {
            reply(Outcome::Done(r.status()));  // the server's refusal
          }
        });
      };
      if (job->broadcast) return gate_.Pass(std::move(publish));
      publish();
    });
  }

  // The broadcast gate counts with QueryNodeCount (PUBSUB NUMSUB): PUBLISH answers how many
  // subscribers a broadcast reached, and after a loss of the events connection the broadcasts
  // wait until NUMSUB counts as many again.
  void QueryNodeCount(CountCallback done) override {
    With(command_, [this, done = std::move(done)](Connection conn, absl::Status st) {
      if (stopping()) return;  // Stop answers every waiting caller
      if (!st.ok()) {
        done(std::nullopt);
        return;
      }
      conn->Command({"PUBSUB", "NUMSUB", channels().broadcast()},
                    [this, done](absl::StatusOr<RedisReply> r) {
                      std::optional<size_t> n = r.ok() ? SubscriberCount(*r) : std::nullopt;
                      if (!n) {
                        Log()->warn("redis PUBSUB NUMSUB failed: {}",
                                    r.ok() ? r->DebugString() : std::string(r.status().message()));
                      }
                      done(n);
                    });
    });
  }

  bool PingSubscribers() override {
    if (!sub_) return false;
    sub_->Command({"PING"}, nullptr);
    return true;
  }

  void CloseConnections() override {
    sub_timer_.cancel();
    gate_.Shutdown();  // the pipeline answers the publishes that wait
    if (auto conn = std::exchange(sub_, nullptr)) conn->Close();
    absl::Status stopped = absl::CancelledError("redis transport stopped");
    for (Shared* shared : {&events_, &command_}) {
      if (auto conn = std::exchange(shared->conn, nullptr)) conn->Close();
      std::vector<Waiter> waiters = std::exchange(shared->waiters, {});
      for (Waiter& w : waiters) w(nullptr, stopped);
    }
  }

  // --- Dialing --------------------------------------------------------------------------------

  std::shared_ptr<Sentinel> MakeSentinel(const config::RedisTarget& target) {
    SentinelOptions so = Sentinel::OptionsFor(target);
    so.connect_timeout = options().connect_timeout;
    return Sentinel::Create(io(), so);
  }

  // One attempt: Sentinel discovery + ROLE check when configured, else the direct address.
  void Dial(bool pub, std::string label, Clock::time_point deadline, DialCallback done) {
    const config::RedisTarget& t = pub ? config_.pub : config_.sub;
    ConnectionOptions o;
    o.host = t.host;
    o.port = static_cast<uint16_t>(t.port);
    o.username = t.username;
    o.password = t.password;
    o.db = t.db;
    o.tls = t.tls;
    o.tls_options = t.tls_options;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    o.connect_timeout = std::clamp(left, milliseconds(50), options().connect_timeout);
    o.reply_timeout = options().reply_timeout;
    o.label = std::move(label);
    const std::shared_ptr<Sentinel>& sentinel = pub ? pub_sentinel_ : sub_sentinel_;
    if (sentinel) {
      sentinel->ConnectMaster(std::move(o), deadline, std::move(done));
      return;
    }
    auto conn = RedisConnection::Create(io(), std::move(o));
    conn->Connect([conn, done = std::move(done)](absl::Status st) {
      if (!st.ok()) {
        done(st);
        return;
      }
      done(conn);
    });
  }

  // Startup: dials again while the failure is a connection problem, until `deadline`.
  void DialUntil(bool pub, std::string label, Clock::time_point deadline, DialCallback done) {
    Dial(pub, label, deadline,
         [this, pub, label, deadline, done = std::move(done)](ConnectionOr c) mutable {
           if (c.ok() || stopping() || !IsConnectionError(c.status())) {
             done(std::move(c));
             return;
           }
           const Clock::time_point now = Clock::now();
           if (now >= deadline) {
             done(absl::Status(c.status().code(),
                               absl::StrCat(c.status().message(), " (gave up after ",
                                            options().startup_timeout.count(), " ms)")));
             return;
           }
           auto pause = std::min<Clock::duration>(milliseconds(250), deadline - now);
           auto timer = std::make_shared<asio::steady_timer>(io(), pause);
           timer->async_wait([this, timer, pub, label, deadline,
                              done = std::move(done)](boost::system::error_code ec) mutable {
             if (ec) return;
             DialUntil(pub, std::move(label), deadline, std::move(done));
           });
         });
  }

  // --- Subscriber -----------------------------------------------------------------------------

  void ConnectSubscriber(Clock::time_point deadline, bool retry,
                         std::function<void(absl::Status)> done) {
    auto on_dial = [this, done = std::move(done)](ConnectionOr c) mutable {
      if (stopping()) {
        if (c.ok()) (*c)->Close();
        return;
      }
      if (!c.ok()) {
        done(c.status());
        return;
      }
      Connection conn = *c;
      conn->set_push_handler([this](Push push) { Deliver(std::move(push)); });
      conn->Subscribe(
          channels().subscriptions(), [this, conn, done = std::move(done)](absl::Status st) {
            if (stopping()) return;
            if (!st.ok()) {
              conn->Close();
              done(absl::Status(st.code(), absl::StrCat("redis subscriber ", conn->address(),
                                                        ": SUBSCRIBE failed: ", st.message())));
              return;
            }
            sub_ = conn;
            conn->set_close_handler([this, conn](absl::Status why) {
              if (sub_ == conn) OnSubscriberLost(why);
            });
            done(absl::OkStatus());
          });
    };
    if (retry) {
      DialUntil(false, "redis subscriber", deadline, std::move(on_dial));
    } else {
      Dial(false, "redis subscriber", deadline, std::move(on_dial));
    }
  }

  void OnSubscriberLost(const absl::Status& why) {
    sub_.reset();
    StopPing();
    Log()->warn("redis subscriber connection lost, resubscribing in {} ms: {}",
                sub_backoff_.delay().count(), std::string(why.message()));
    SetHealthy(false);
    ScheduleResubscribe();
  }

  void ScheduleResubscribe() {
    sub_timer_.expires_after(sub_backoff_.delay());
    sub_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping()) return;
      ConnectSubscriber(Clock::now() + options().startup_timeout, /*retry=*/false,
                        [this](absl::Status st) {
                          if (!st.ok()) {
                            Log()->warn("redis resubscribe failed, next try in {} ms: {}",
                                        sub_backoff_.Grow().count(), std::string(st.message()));
                            ScheduleResubscribe();
                            return;
                          }
                          sub_backoff_.Reset();
                          reconnections_.fetch_add(1);
                          Log()->info("redis subscriber reconnected to {}", sub_->address());
                          SetHealthy(true);
                          StartPing();
                        });
    });
  }

  // --- Publish connections --------------------------------------------------------------------

  void Adopt(Shared& shared, Connection conn) {
    shared.conn = conn;
    conn->set_close_handler([this, &shared, conn](absl::Status why) {
      if (shared.conn != conn) return;
      shared.conn.reset();
      if (&shared == &events_) gate_.Close();
      Log()->info("{} connection closed: {}", shared.label, std::string(why.message()));
    });
  }

  // Runs `fn` with a ready connection of `shared`, dialling one first when needed (one dial for
  // every caller waiting meanwhile).
  void With(Shared& shared, Waiter fn) {
    if (shared.conn && !shared.conn->closed()) {
      fn(shared.conn, absl::OkStatus());
      return;
    }
    shared.conn.reset();
    shared.waiters.push_back(std::move(fn));
    if (shared.dialing) return;
    shared.dialing = true;
    Dial(true, shared.label, Clock::now() + options().startup_timeout,
         [this, &shared](ConnectionOr c) {
           shared.dialing = false;
           if (stopping()) {
             if (c.ok()) (*c)->Close();
             return;
           }
           if (c.ok()) Adopt(shared, *c);
           std::vector<Waiter> waiters = std::exchange(shared.waiters, {});
           for (Waiter& w : waiters) w(c.ok() ? *c : nullptr, c.status());
         });
  }

  const config::RedisAdapterConfig config_;
  // Driver thread only below (the sentinels are made by BeforeStart).
  std::shared_ptr<Sentinel> pub_sentinel_;
  std::shared_ptr<Sentinel> sub_sentinel_;

  Connection sub_;
  asio::steady_timer sub_timer_;
  Backoff sub_backoff_;

  Shared events_{"redis events"};    // broadcasts (fan-out never waits behind queries)
  Shared command_{"redis command"};  // requests, responses, inboxes, NUMSUB

  // Broadcasts after a loss of the events connection (expected: what the last one reached).
  BroadcastGate gate_;
};

RedisTransport::RedisTransport(config::RedisAdapterConfig config)
    : RedisTransport(std::move(config), Options()) {}

RedisTransport::RedisTransport(config::RedisAdapterConfig config, Options options)
    : RedisBusTransport(std::make_unique<Impl>(std::move(config), options)) {}

}  // namespace sockudo::bus::redis
