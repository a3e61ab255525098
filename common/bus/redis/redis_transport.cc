#include "common/bus/redis/redis_transport.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "common/bus/names.h"
#include "common/bus/redis/redis_connection.h"
#include "common/bus/redis/sentinel.h"

namespace sockudo::bus::redis {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const std::shared_ptr<spdlog::logger> log = base::Logger("bus.redis");
  return log;
}

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

std::string DirectEndpoint(const config::RedisTarget& t) {
  return absl::StrCat(t.tls ? "rediss://" : "redis://", t.host, ":", t.port, "/", t.db);
}

std::string EndpointOf(const config::RedisTarget& t) {
  return t.sentinels.empty() ? DirectEndpoint(t) : Sentinel::EndpointForLog(t);
}

}  // namespace

class RedisTransport::Impl {
 public:
  using ConnectionOr = absl::StatusOr<std::shared_ptr<RedisConnection>>;
  using DialCallback = std::function<void(ConnectionOr)>;

  Impl(config::RedisAdapterConfig config, Options options)
      : config_(std::move(config)),
        options_(options),
        broadcast_channel_(RedisChannel(config_.prefix, Channel::kBroadcast)),
        requests_channel_(RedisChannel(config_.prefix, Channel::kRequests)),
        responses_channel_(RedisChannel(config_.prefix, Channel::kResponses)),
        work_(asio::make_work_guard(io_)),
        sub_timer_(io_),
        ping_timer_(io_),
        events_timer_(io_) {}

  ~Impl() { Stop(); }

  // --- Owner thread -------------------------------------------------------------------------

  absl::Status Start(const Identity& identity, Listener* listener) {
    {
      std::lock_guard lock(mu_);
      if (run_state_ != RunState::kNew) {
        return absl::FailedPreconditionError("RedisTransport::Start called twice");
      }
      if (listener == nullptr) return absl::InvalidArgumentError("RedisTransport: no listener");
      if (identity.reply_hex.empty() || (!identity.observer && identity.node_id.empty())) {
        return absl::InvalidArgumentError("RedisTransport: identity without node id or reply id");
      }
      if (config_.pub.port <= 0 || config_.pub.port > 65535 || config_.sub.port <= 0 ||
          config_.sub.port > 65535) {
        return absl::InvalidArgumentError("RedisTransport: Redis port out of range");
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
    if (!config_.pub.sentinels.empty()) {
      SentinelOptions so = Sentinel::OptionsFor(config_.pub);
      so.connect_timeout = options_.connect_timeout;
      pub_sentinel_ = Sentinel::Create(io_, so);
    }
    if (!config_.sub.sentinels.empty()) {
      SentinelOptions so = Sentinel::OptionsFor(config_.sub);
      so.connect_timeout = options_.connect_timeout;
      sub_sentinel_ = Sentinel::Create(io_, so);
    }
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
      status = absl::DeadlineExceededError("redis: startup did not finish in time");
    }
    if (!status.ok()) {
      Log()->error("redis bus unavailable endpoint={}: {}", EndpointOf(config_.sub),
                   std::string(status.message()));
      Stop();
      return status;
    }
    Log()->info("redis bus connected endpoint={} subscriptions={}", EndpointOf(config_.sub),
                subscriptions_.size());
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
        Log()->error("BUG: RedisTransport::Stop called on its own thread; not joining");
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
        Complete(done, absl::ResourceExhaustedError(absl::StrCat("redis broadcast pipeline full (",
                                                                 limit, " messages): dropped")));
      });
      return;
    }
    asio::post(io_, [this, payload = std::move(payload), done = std::move(done)]() mutable {
      queue_.push_back(Broadcast{std::move(payload), std::move(done)});
      PumpEvents();
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
      RunJob(job);
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

  std::string ReplyTo() const { return reply_channel_; }
  const std::string& requests_channel() const { return requests_channel_; }
  const std::string& responses_channel() const { return responses_channel_; }
  const std::string& prefix() const { return config_.prefix; }
  std::string endpoint() const { return EndpointOf(config_.sub); }

  std::atomic<bool> healthy_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> reconnections_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<size_t> depth_{0};

 private:
  enum class RunState { kNew, kRunning, kStopped };
  struct Broadcast {
    std::string payload;
    Completion done;
    int attempts = 0;  // failed attempts so far
  };
  struct Job {  // one publish on the command connection
    std::string channel;
    std::string payload;
    Completion done;
    int attempts = 0;
    bool finished = false;
  };
  using CommandWaiter = std::function<void(std::shared_ptr<RedisConnection>, absl::Status)>;

  static absl::Status NotRunning() {
    return absl::FailedPreconditionError("redis transport is not running");
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
        Log()->error("BUG: exception escaped a redis bus handler: {}", e.what());
      } catch (...) {
        Log()->error("BUG: unknown exception escaped a redis bus handler");
      }
    }
  }

  // --- Dialing (driver thread) --------------------------------------------------------------

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
    o.connect_timeout = std::clamp(left, milliseconds(50), options_.connect_timeout);
    o.reply_timeout = options_.reply_timeout;
    o.label = std::move(label);
    const std::shared_ptr<Sentinel>& sentinel = pub ? pub_sentinel_ : sub_sentinel_;
    if (sentinel) {
      sentinel->ConnectMaster(std::move(o), deadline, std::move(done));
      return;
    }
    auto conn = RedisConnection::Create(io_, std::move(o));
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
           if (c.ok() || stopping_ || !IsConnectionError(c.status())) {
             done(std::move(c));
             return;
           }
           const Clock::time_point now = Clock::now();
           if (now >= deadline) {
             done(absl::Status(c.status().code(),
                               absl::StrCat(c.status().message(), " (gave up after ",
                                            options_.startup_timeout.count(), " ms)")));
             return;
           }
           auto pause = std::min<Clock::duration>(milliseconds(250), deadline - now);
           auto timer = std::make_shared<asio::steady_timer>(io_, pause);
           timer->async_wait([this, timer, pub, label, deadline,
                              done = std::move(done)](boost::system::error_code ec) mutable {
             if (ec) return;
             DialUntil(pub, std::move(label), deadline, std::move(done));
           });
         });
  }

  // --- Startup ------------------------------------------------------------------------------

  void StartOnIo(Clock::time_point deadline, std::function<void(absl::Status)> done) {
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
      if (join->first.ok()) {
        healthy_ = sub_ != nullptr;
        StartPing();
      }
      join->done(join->first);
    };
    ConnectSubscriber(deadline, /*retry=*/true, part);
    DialUntil(true, "redis events", deadline, [this, part](ConnectionOr c) {
      if (c.ok()) AdoptEvents(*c);
      part(c.status());
    });
    DialUntil(true, "redis command", deadline, [this, part](ConnectionOr c) {
      if (c.ok()) AdoptCommand(*c);
      part(c.status());
    });
  }

  // --- Subscriber ---------------------------------------------------------------------------

  void ConnectSubscriber(Clock::time_point deadline, bool retry,
                         std::function<void(absl::Status)> done) {
    auto on_dial = [this, done = std::move(done)](ConnectionOr c) mutable {
      if (stopping_) {
        if (c.ok()) (*c)->Close();
        return;
      }
      if (!c.ok()) {
        done(c.status());
        return;
      }
      std::shared_ptr<RedisConnection> conn = *c;
      conn->set_push_handler([this](Push push) { OnPush(std::move(push)); });
      conn->Subscribe(subscriptions_, [this, conn, done = std::move(done)](absl::Status st) {
        if (stopping_) return;
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
    ping_timer_.cancel();
    Log()->warn("redis subscriber connection lost, resubscribing in {} ms: {}", sub_delay_.count(),
                std::string(why.message()));
    if (healthy_.exchange(false)) {
      Guarded("Listener::OnHealthChanged", [&] { listener_->OnHealthChanged(false); });
    }
    ScheduleResubscribe();
  }

  void ScheduleResubscribe() {
    sub_timer_.expires_after(sub_delay_);
    sub_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      ConnectSubscriber(
          Clock::now() + options_.startup_timeout, /*retry=*/false, [this](absl::Status st) {
            if (!st.ok()) {
              sub_delay_ = std::min(sub_delay_ * 2, options_.resubscribe_max_delay);
              Log()->warn("redis resubscribe failed, next try in {} ms: {}", sub_delay_.count(),
                          std::string(st.message()));
              ScheduleResubscribe();
              return;
            }
            sub_delay_ = options_.resubscribe_delay;
            reconnections_.fetch_add(1);
            Log()->info("redis subscriber reconnected to {}", sub_->address());
            healthy_ = true;
            Guarded("Listener::OnHealthChanged", [&] { listener_->OnHealthChanged(true); });
            Guarded("Listener::OnResubscribed", [&] { listener_->OnResubscribed(); });
            StartPing();
          });
    });
  }

  // Finds silent breaks: the reply timeout of the connection fires when the PING goes unanswered.
  void StartPing() {
    if (options_.subscriber_ping_interval.count() <= 0) return;
    ping_timer_.expires_after(options_.subscriber_ping_interval);
    ping_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_ || !sub_) return;
      sub_->Command({"PING"}, nullptr);
      StartPing();
    });
  }

  void OnPush(Push push) {
    if (push.kind != "message" && push.kind != "smessage") {
      Log()->debug("redis subscriber: ignored push kind={} channel={}", push.kind, push.channel);
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
      Log()->debug("redis subscriber: message on unexpected channel {}", push.channel);
      return;
    }
    Guarded("Listener::OnMessage", [&] {
      listener_->OnMessage(Incoming{*channel, std::move(push.payload), ""});
    });
  }

  // --- Events: the ordered broadcast pipeline -----------------------------------------------

  void AdoptEvents(std::shared_ptr<RedisConnection> conn) {
    events_ = conn;
    conn->set_close_handler([this, conn](absl::Status why) {
      if (events_ != conn) return;
      events_.reset();
      if (in_flight_ > 0) {
        EventsRoundFailed(why);
      } else {
        Log()->info("redis events connection closed: {}", std::string(why.message()));
      }
    });
  }

  void PumpEvents() {
    if (stopping_ || events_waiting_ || events_dialing_ || queue_.empty()) return;
    if (!events_ || events_->closed()) {
      events_.reset();
      events_dialing_ = true;
      Dial(true, "redis events", Clock::now() + options_.startup_timeout, [this](ConnectionOr c) {
        events_dialing_ = false;
        if (stopping_) {
          if (c.ok()) (*c)->Close();
          return;
        }
        if (!c.ok()) {
          EventsRoundFailed(c.status());
          return;
        }
        AdoptEvents(*c);
        PumpEvents();
      });
      return;
    }
    std::shared_ptr<RedisConnection> conn = events_;
    while (in_flight_ < queue_.size() && in_flight_ < options_.pipeline_window) {
      const Broadcast& b = queue_[in_flight_++];
      conn->Command({"PUBLISH", broadcast_channel_, b.payload},
                    [this, conn](absl::StatusOr<RedisReply> r) { OnBroadcastReply(conn, r); });
    }
  }

  void OnBroadcastReply(const std::shared_ptr<RedisConnection>& conn,
                        const absl::StatusOr<RedisReply>& r) {
    // Replies of a connection that broke belong to a failed round: the messages are requeued.
    if (conn != events_ || stopping_ || (!r.ok() && conn->closed())) return;
    if (queue_.empty() || in_flight_ == 0) {
      Log()->error("BUG: redis broadcast reply without a message in flight");
      return;
    }
    Broadcast b = std::move(queue_.front());
    queue_.pop_front();
    --in_flight_;
    depth_.fetch_sub(1);
    if (!r.ok()) {
      // The server refused this one message (ACL, OOM...): retrying would not help.
      failed_.fetch_add(1);
      Log()->warn("redis broadcast publish refused: {}", std::string(r.status().message()));
    }
    Complete(b.done, r.status());
    PumpEvents();
  }

  // The connection broke or could not be made: every waiting message spent one attempt. Those
  // out of attempts (the oldest first) fail; the rest go again, in order, after the delay.
  void EventsRoundFailed(const absl::Status& why) {
    in_flight_ = 0;
    for (Broadcast& b : queue_) ++b.attempts;
    while (!queue_.empty() && queue_.front().attempts > options_.publish_retries) {
      Broadcast b = std::move(queue_.front());
      queue_.pop_front();
      depth_.fetch_sub(1);
      failed_.fetch_add(1);
      Complete(b.done,
               absl::UnavailableError(absl::StrCat("redis broadcast publish failed after ",
                                                   b.attempts, " attempts: ", why.message())));
    }
    if (queue_.empty() || stopping_) return;
    milliseconds delay = RetryDelay(queue_.front().attempts);
    Log()->warn("redis events: {} broadcasts waiting, retry in {} ms: {}", queue_.size(),
                delay.count(), std::string(why.message()));
    events_waiting_ = true;
    events_timer_.expires_after(delay);
    events_timer_.async_wait([this](boost::system::error_code ec) {
      events_waiting_ = false;
      if (ec || stopping_) return;
      PumpEvents();
    });
  }

  // --- Command connection: requests, responses, inboxes, NUMSUB -----------------------------

  void AdoptCommand(std::shared_ptr<RedisConnection> conn) {
    cmd_ = conn;
    conn->set_close_handler([this, conn](absl::Status why) {
      if (cmd_ == conn) cmd_.reset();
    });
  }

  // Runs `fn` with a ready command connection, dialling one first when needed (one dial for
  // every caller waiting meanwhile).
  void WithCommand(CommandWaiter fn) {
    if (cmd_ && !cmd_->closed()) {
      fn(cmd_, absl::OkStatus());
      return;
    }
    cmd_.reset();
    cmd_waiters_.push_back(std::move(fn));
    if (cmd_dialing_) return;
    cmd_dialing_ = true;
    Dial(true, "redis command", Clock::now() + options_.startup_timeout, [this](ConnectionOr c) {
      cmd_dialing_ = false;
      if (stopping_) {
        if (c.ok()) (*c)->Close();
        return;
      }
      if (c.ok()) AdoptCommand(*c);
      std::vector<CommandWaiter> waiters = std::exchange(cmd_waiters_, {});
      for (CommandWaiter& w : waiters) w(c.ok() ? *c : nullptr, c.status());
    });
  }

  void RunJob(const std::shared_ptr<Job>& job) {
    WithCommand([this, job](std::shared_ptr<RedisConnection> conn, absl::Status st) {
      if (job->finished) return;
      if (!st.ok()) {
        RetryJob(job, st);
        return;
      }
      conn->Command({"PUBLISH", job->channel, job->payload},
                    [this, job, conn](absl::StatusOr<RedisReply> r) {
                      if (job->finished) return;
                      if (r.ok()) {
                        FinishJob(job, absl::OkStatus());
                      } else if (conn->closed()) {
                        RetryJob(job, r.status());
                      } else {
                        FinishJob(job, r.status());  // the server's refusal: not retried
                      }
                    });
    });
  }

  void RetryJob(const std::shared_ptr<Job>& job, const absl::Status& why) {
    if (stopping_) return;
    if (++job->attempts > options_.publish_retries) {
      FinishJob(job, absl::UnavailableError(absl::StrCat("redis publish to ", job->channel,
                                                         " failed after ", job->attempts,
                                                         " attempts: ", why.message())));
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, RetryDelay(job->attempts));
    timer->async_wait([this, timer, job](boost::system::error_code ec) {
      if (ec || stopping_ || job->finished) return;
      RunJob(job);
    });
  }

  void FinishJob(const std::shared_ptr<Job>& job, absl::Status status) {
    if (job->finished) return;
    job->finished = true;
    jobs_.erase(job);
    if (!status.ok()) {
      failed_.fetch_add(1);
      Log()->warn("redis publish failed: {}", std::string(status.message()));
    }
    Complete(job->done, std::move(status));
  }

  void CountOnIo(std::function<void(std::optional<size_t>)> done) {
    if (count_cached_ && Clock::now() - count_time_ <= options_.count_cache) {
      if (done) Guarded("a CountNodes callback", [&] { done(count_value_); });
      return;
    }
    count_waiters_.push_back(std::move(done));
    if (count_in_flight_) return;
    count_in_flight_ = true;
    WithCommand([this](std::shared_ptr<RedisConnection> conn, absl::Status st) {
      if (!st.ok()) {
        FinishCount(std::nullopt);
        return;
      }
      conn->Command({"PUBSUB", "NUMSUB", broadcast_channel_}, [this](absl::StatusOr<RedisReply> r) {
        std::optional<size_t> n;
        if (r.ok() && r->is_array() && r->elements.size() == 2 &&
            r->elements[1].type == RedisReply::Type::kInteger && r->elements[1].integer >= 0) {
          n = static_cast<size_t>(r->elements[1].integer);
          count_cached_ = true;
          count_value_ = *n;
          count_time_ = Clock::now();
        } else {
          Log()->warn("redis PUBSUB NUMSUB failed: {}",
                      r.ok() ? r->DebugString() : std::string(r.status().message()));
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
    stopping_ = true;
    healthy_ = false;
    sub_timer_.cancel();
    ping_timer_.cancel();
    events_timer_.cancel();
    for (auto* c : {&sub_, &events_, &cmd_}) {
      if (auto conn = std::exchange(*c, nullptr)) conn->Close();
    }
    absl::Status stopped = absl::CancelledError("redis transport stopped");
    std::deque<Broadcast> queue = std::exchange(queue_, {});
    in_flight_ = 0;
    depth_ = 0;
    for (Broadcast& b : queue) Complete(b.done, stopped);
    auto jobs = std::exchange(jobs_, {});
    for (const auto& job : jobs) {
      if (!job->finished) {
        job->finished = true;
        Complete(job->done, stopped);
      }
    }
    std::vector<CommandWaiter> waiters = std::exchange(cmd_waiters_, {});
    for (CommandWaiter& w : waiters) w(nullptr, stopped);
    FinishCount(std::nullopt);
    work_.reset();
    io_.stop();
  }

  const config::RedisAdapterConfig config_;
  const Options options_;
  const std::string broadcast_channel_;
  const std::string requests_channel_;
  const std::string responses_channel_;
  // Set by Start before the driver thread runs, then read-only.
  Identity identity_;
  Listener* listener_ = nullptr;
  std::string node_channel_;
  std::string reply_channel_;
  std::vector<std::string> subscriptions_;

  std::mutex mu_;  // run_state_ and posting against Stop
  RunState run_state_ = RunState::kNew;

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;

  // Driver thread only below.
  bool stopping_ = false;
  std::shared_ptr<Sentinel> pub_sentinel_;
  std::shared_ptr<Sentinel> sub_sentinel_;

  std::shared_ptr<RedisConnection> sub_;
  milliseconds sub_delay_{options_.resubscribe_delay};
  asio::steady_timer sub_timer_;
  asio::steady_timer ping_timer_;

  std::shared_ptr<RedisConnection> events_;
  std::deque<Broadcast> queue_;  // the first in_flight_ are written, awaiting their replies
  size_t in_flight_ = 0;
  bool events_dialing_ = false;
  bool events_waiting_ = false;  // a retry delay is running
  asio::steady_timer events_timer_;

  std::shared_ptr<RedisConnection> cmd_;
  bool cmd_dialing_ = false;
  std::vector<CommandWaiter> cmd_waiters_;
  std::unordered_set<std::shared_ptr<Job>> jobs_;

  bool count_cached_ = false;
  size_t count_value_ = 0;
  Clock::time_point count_time_;
  bool count_in_flight_ = false;
  std::vector<std::function<void(std::optional<size_t>)>> count_waiters_;
};

RedisTransport::RedisTransport(config::RedisAdapterConfig config)
    : RedisTransport(std::move(config), Options()) {}

RedisTransport::RedisTransport(config::RedisAdapterConfig config, Options options)
    : impl_(std::make_unique<Impl>(std::move(config), options)) {}

RedisTransport::~RedisTransport() { Stop(); }

absl::Status RedisTransport::Start(const Identity& identity, Listener* listener) {
  return impl_->Start(identity, listener);
}

void RedisTransport::Stop() { impl_->Stop(); }

void RedisTransport::Publish(Channel channel, std::string payload, Completion done) {
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

void RedisTransport::PublishToNode(std::string_view node_id, std::string payload, Completion done) {
  impl_->PublishCommand(RedisChannel(impl_->prefix(), Channel::kNodeInbox, node_id),
                        std::move(payload), std::move(done));
}

void RedisTransport::PublishRequest(std::string_view request_id, std::string payload,
                                    Completion done) {
  impl_->PublishCommand(impl_->requests_channel(), std::move(payload), std::move(done));
}

void RedisTransport::Reply(std::string_view address, std::string payload, Completion done) {
  impl_->PublishCommand(address.empty() ? impl_->responses_channel() : std::string(address),
                        std::move(payload), std::move(done));
}

std::string RedisTransport::ReplyTo() const { return impl_->ReplyTo(); }

void RedisTransport::CountNodes(std::function<void(std::optional<size_t>)> done) {
  impl_->CountNodes(std::move(done));
}

bool RedisTransport::Healthy() const { return impl_->healthy_.load(); }

void RedisTransport::Post(std::function<void()> fn) { impl_->Post(std::move(fn)); }

uint64_t RedisTransport::dropped_messages() const { return impl_->dropped_.load(); }
uint64_t RedisTransport::reconnections() const { return impl_->reconnections_.load(); }
size_t RedisTransport::queue_depth() const { return impl_->depth_.load(); }
uint64_t RedisTransport::failed_publishes() const { return impl_->failed_.load(); }
std::string RedisTransport::endpoint() const { return impl_->endpoint(); }

}  // namespace sockudo::bus::redis
