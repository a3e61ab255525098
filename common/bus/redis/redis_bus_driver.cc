#include "common/bus/redis/redis_bus_driver.h"

#include <boost/asio/post.hpp>
#include <exception>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sockudo::bus::redis {
namespace asio = boost::asio;

RedisBusDriver::RedisBusDriver(std::string name, std::string class_name, std::string prefix,
                               const RedisBusOptions& options, std::shared_ptr<spdlog::logger> log)
    : name_(std::move(name)),
      class_name_(std::move(class_name)),
      options_(options),
      log_(std::move(log)),
      channels_(std::move(prefix)),
      work_(asio::make_work_guard(io_)),
      pipeline_(io_, name_, options_, log_,
                [this](const PublishPipeline::JobPtr& job, PublishPipeline::Reply reply) {
                  SendPublish(job, std::move(reply));
                }),
      ping_timer_(io_) {}

RedisBusDriver::~RedisBusDriver() = default;

// --- Owner thread ---------------------------------------------------------------------------

absl::Status RedisBusDriver::Start(const Identity& identity, Transport::Listener* listener) {
  {
    std::lock_guard lock(mu_);
    if (run_state_ != RunState::kNew) {
      return absl::FailedPreconditionError(absl::StrCat(class_name_, "::Start called twice"));
    }
    if (listener == nullptr) return absl::InvalidArgumentError(class_name_ + ": no listener");
    if (identity.reply_hex.empty() || (!identity.observer && identity.node_id.empty())) {
      return absl::InvalidArgumentError(class_name_ + ": identity without node id or reply id");
    }
    if (absl::Status st = CheckConfig(); !st.ok()) return st;
    run_state_ = RunState::kRunning;
  }
  listener_ = listener;
  channels_.Bind(identity);
  BeforeStart();
  thread_ = std::thread([this] { Run(); });

  auto result = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> future = result->get_future();
  const Clock::time_point deadline = Clock::now() + options_.startup_timeout;
  asio::post(io_, [this, result, deadline] {
    StartOnIo(deadline, [this, result](absl::Status st) {
      if (st.ok()) StartPing();
      result->set_value(std::move(st));
    });
  });
  absl::Status status;
  if (future.wait_for(options_.startup_timeout + std::chrono::seconds(3)) ==
      std::future_status::ready) {
    status = future.get();
  } else {
    status = absl::DeadlineExceededError(
        absl::StrCat(StartupContext(), ": startup did not finish in time"));
  }
  if (!status.ok()) {
    log_->error("{} bus unavailable endpoint={}: {}", name_, endpoint(),
                std::string(status.message()));
    Stop();
    return status;
  }
  log_->info("{} bus connected endpoint={}{} subscriptions={}", name_, endpoint(),
             ConnectedDetail(), channels_.subscriptions().size());
  return absl::OkStatus();
}

void RedisBusDriver::Stop() {
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
      log_->error("BUG: {}::Stop called on its own thread; not joining", class_name_);
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

// --- Any thread -----------------------------------------------------------------------------

bool RedisBusDriver::running() const {
  std::lock_guard lock(mu_);
  return run_state_ == RunState::kRunning;
}

absl::Status RedisBusDriver::NotRunning() const {
  return absl::FailedPreconditionError(absl::StrCat(name_, " transport is not running"));
}

void RedisBusDriver::Publish(Channel channel, std::string payload, Completion done) {
  switch (channel) {
    case Channel::kBroadcast:
      Enqueue(channels_.broadcast(), std::move(payload), std::move(done), /*broadcast=*/true);
      return;
    case Channel::kRequests:
      Enqueue(channels_.requests(), std::move(payload), std::move(done), false);
      return;
    case Channel::kResponses:
      Enqueue(channels_.responses(), std::move(payload), std::move(done), false);
      return;
    default:
      // Inboxes have their own calls (PublishToNode, Reply): refuse on the driver thread.
      Post([this, done = std::move(done), channel] {
        Complete(*log_, done,
                 absl::InvalidArgumentError(absl::StrCat(
                     "Publish cannot address the ", std::string(ChannelName(channel)), " inbox")));
      });
  }
}

void RedisBusDriver::PublishToNode(std::string_view node_id, std::string payload, Completion done) {
  Enqueue(channels_.NodeInbox(node_id), std::move(payload), std::move(done), false);
}

void RedisBusDriver::PublishRequest(std::string payload, Completion done) {
  Enqueue(channels_.requests(), std::move(payload), std::move(done), false);
}

void RedisBusDriver::Reply(std::string_view address, std::string payload, Completion done) {
  Enqueue(address.empty() ? channels_.responses() : std::string(address), std::move(payload),
          std::move(done), false);
}

void RedisBusDriver::Enqueue(std::string channel, std::string payload, Completion done,
                             bool broadcast) {
  std::unique_lock lock(mu_);
  if (run_state_ != RunState::kRunning) {
    lock.unlock();
    Complete(*log_, done, NotRunning());
    return;
  }
  if (broadcast && !pipeline_.Reserve()) {
    asio::post(io_,
               [this, done = std::move(done)] { Complete(*log_, done, pipeline_.FullError()); });
    return;
  }
  asio::post(io_, [this, channel = std::move(channel), payload = std::move(payload),
                   done = std::move(done), broadcast]() mutable {
    pipeline_.Add(std::move(channel), std::move(payload), std::move(done), broadcast);
  });
}

void RedisBusDriver::CountNodes(CountCallback done) {
  std::unique_lock lock(mu_);
  if (run_state_ != RunState::kRunning) {
    lock.unlock();
    if (done) done(std::nullopt);
    return;
  }
  asio::post(io_, [this, done = std::move(done)]() mutable { CountOnIo(std::move(done)); });
}

void RedisBusDriver::Post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }

std::optional<size_t> RedisBusDriver::SubscriberCount(const RedisReply& reply) {
  if (reply.is_array() && reply.elements.size() == 2 &&
      reply.elements[1].type == RedisReply::Type::kInteger && reply.elements[1].integer >= 0) {
    return static_cast<size_t>(reply.elements[1].integer);
  }
  return std::nullopt;
}

// --- Driver thread --------------------------------------------------------------------------

void RedisBusDriver::CountOnIo(CountCallback done) {
  if (count_cached_ && Clock::now() - count_time_ <= options_.count_cache) {
    if (done) Guard("a CountNodes callback", [&] { done(count_value_); });
    return;
  }
  count_waiters_.push_back(std::move(done));
  if (count_in_flight_) return;
  count_in_flight_ = true;
  QueryNodeCount([this](std::optional<size_t> n) {
    if (n) {
      count_cached_ = true;
      count_value_ = *n;
      count_time_ = Clock::now();
    }
    FinishCount(n);
  });
}

void RedisBusDriver::FinishCount(std::optional<size_t> n) {
  count_in_flight_ = false;
  auto waiters = std::exchange(count_waiters_, {});
  for (auto& w : waiters) {
    if (w) Guard("a CountNodes callback", [&] { w(n); });
  }
}

void RedisBusDriver::Deliver(Push push) {
  if (push.kind != "message" && push.kind != "smessage") {
    log_->debug("{} subscriber: ignored push kind={} channel={}", name_, push.kind, push.channel);
    return;
  }
  std::optional<Channel> channel = channels_.Classify(push.channel);
  if (!channel) {
    log_->debug("{} subscriber: message on unexpected channel {}", name_, push.channel);
    return;
  }
  Guard("Listener::OnMessage", [&] {
    listener_->OnMessage(Incoming{*channel, std::move(push.payload), ""});
  });
}

void RedisBusDriver::SetHealthy(bool healthy) {
  if (healthy_.exchange(healthy) == healthy) return;
  Guard("Listener::OnHealthChanged", [&] { listener_->OnHealthChanged(healthy); });
  if (healthy) Guard("Listener::OnResubscribed", [&] { listener_->OnResubscribed(); });
}

void RedisBusDriver::StartPing() {
  if (options_.subscriber_ping_interval.count() <= 0) return;
  ping_timer_.expires_after(options_.subscriber_ping_interval);
  ping_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    if (PingSubscribers()) StartPing();
  });
}

void RedisBusDriver::StopPing() { ping_timer_.cancel(); }

void RedisBusDriver::Run() {
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      log_->error("BUG: exception escaped a {} bus handler: {}", name_, e.what());
    } catch (...) {
      log_->error("BUG: unknown exception escaped a {} bus handler", name_);
    }
  }
}

void RedisBusDriver::Shutdown() {
  stopping_ = true;
  healthy_ = false;
  ping_timer_.cancel();
  CloseConnections();
  pipeline_.Shutdown(absl::CancelledError(absl::StrCat(name_, " transport stopped")));
  FinishCount(std::nullopt);
  work_.reset();
  io_.stop();
}

}  // namespace sockudo::bus::redis
