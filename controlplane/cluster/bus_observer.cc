#include "controlplane/cluster/bus_observer.h"

#include <boost/asio/post.hpp>
#include <future>

#include "absl/strings/str_cat.h"
#include "common/base/logging.h"

namespace sockudo::controlplane::cluster {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

BusObserver::BusObserver(std::unique_ptr<bus::Transport> transport, BusObserverOptions options)
    : transport_(std::move(transport)),
      options_(options),
      identity_{absl::StrCat("controlplane-", bus::NewUuid()), bus::UuidHex(bus::NewUuid()),
                /*observer=*/true},
      view_(options.heartbeat_interval, options.node_timeout) {}

BusObserver::~BusObserver() { Stop(); }

absl::Status BusObserver::Start() {
  router_ = std::make_unique<bus::RequestRouter>(io_, identity_.node_id, options_.request_timeout);
  guard_.emplace(net::make_work_guard(io_));
  thread_ = std::thread([this] { io_.run(); });
  absl::Status st = transport_->Start(identity_, this);
  if (!st.ok()) {
    guard_.reset();
    io_.stop();
    thread_.join();
    return st;
  }
  started_ = true;
  healthy_ = transport_->Healthy();
  net::post(io_, [this] { ScheduleTick(); });
  base::Logger("controlplane")
      ->info("observer {} on the {} bus", identity_.node_id, transport_->name());
  return absl::OkStatus();
}

void BusObserver::Stop() {
  if (!thread_.joinable()) return;
  std::promise<void> cancelled;
  net::post(io_, [this, &cancelled] {
    tick_.cancel();
    router_->CancelAll();
    cancelled.set_value();
  });
  cancelled.get_future().wait_for(std::chrono::seconds(2));
  if (started_) transport_->Stop();
  guard_.reset();
  io_.stop();
  thread_.join();
}

void BusObserver::ScheduleTick() {
  // A quarter of the heartbeat interval, at most 500 ms: states change soon after the age says.
  tick_.expires_after(std::min(options_.heartbeat_interval / 4, std::chrono::milliseconds(500)));
  tick_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    std::vector<NodeChange> changes;
    {
      std::lock_guard lock(mu_);
      changes = view_.Tick(Clock::now());
    }
    Publish(changes);
    ScheduleTick();
  });
}

void BusObserver::Publish(const std::vector<NodeChange>& changes) {
  if (changes.empty()) return;
  std::vector<WatchFn> watchers;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, fn] : watchers_) watchers.push_back(fn);
  }
  for (const NodeChange& change : changes) {
    for (const WatchFn& fn : watchers) fn(change);
  }
}

std::vector<NodeSnapshot> BusObserver::Nodes() const {
  std::lock_guard lock(mu_);
  return view_.Snapshot(Clock::now());
}

uint64_t BusObserver::Watch(WatchFn fn, std::vector<NodeSnapshot>* snapshot) {
  std::lock_guard lock(mu_);
  if (snapshot != nullptr) *snapshot = view_.Snapshot(Clock::now());
  const uint64_t id = next_watch_++;
  watchers_[id] = std::move(fn);
  return id;
}

void BusObserver::Unwatch(uint64_t id) {
  std::lock_guard lock(mu_);
  watchers_.erase(id);
}

void BusObserver::OnMessage(bus::Incoming message) {
  if (message.channel == bus::Channel::kRequests) {
    auto r = bus::DecodeRequest(message.payload);
    if (!r.ok() || r->node_id == identity_.node_id) return;
    std::vector<NodeChange> changes;
    const auto now = Clock::now();
    if (r->request_type == bus::RequestType::kHeartbeat) {
      std::lock_guard lock(mu_);
      changes = view_.OnHeartbeat(r->node_id, r->user_info.value_or(base::Json::object()), now,
                                  std::chrono::system_clock::now());
    } else if (r->request_type == bus::RequestType::kNodeDead && r->dead_node_id.has_value()) {
      std::lock_guard lock(mu_);
      changes = view_.OnNodeDead(*r->dead_node_id, now);
    } else {
      return;  // an observer never answers requests
    }
    net::post(io_, [this, changes = std::move(changes)] { Publish(changes); });
    return;
  }
  if (message.channel == bus::Channel::kReplyInbox || message.channel == bus::Channel::kResponses) {
    auto r = bus::DecodeResponse(message.payload);
    if (!r.ok()) return;
    net::post(io_, [this, r = std::move(*r)]() mutable { router_->OnResponse(std::move(r)); });
  }
}

void BusObserver::Ask(bus::RequestBody request, AskDone done) {
  net::post(io_, [this, request = std::move(request), done = std::move(done)]() mutable {
    if (!healthy_.load()) {
      return done(absl::UnavailableError(
          absl::StrCat("the ", std::string(transport_->name()), " bus is not connected")));
    }
    size_t peers = 0;
    {
      std::lock_guard lock(mu_);
      peers = view_.Responders(Clock::now());
    }
    if (peers == 0) return done(Result{{}, 0, true});
    request.node_id = identity_.node_id;
    request.request_id = bus::NewUuid();
    const std::string reply_to = transport_->ReplyTo();
    if (!reply_to.empty()) request.reply_to = reply_to;
    const std::string id = request.request_id;
    auto failed = std::make_shared<bool>(false);
    router_->Expect(id, peers,
                    bus::RequestTimeout(request.request_type, peers, options_.request_timeout),
                    nullptr, [done = std::move(done), failed](Result r) {
                      if (*failed) {
                        return done(absl::UnavailableError("the request could not be published"));
                      }
                      done(std::move(r));
                    });
    transport_->PublishRequest(id, bus::EncodeRequest(request), [this, id, failed](absl::Status s) {
      if (s.ok()) return;
      net::post(io_, [this, id, failed] {
        *failed = true;
        router_->Fail(id);
      });
    });
  });
}

absl::Status BusObserver::WaitForPublish(const std::function<void(bus::Completion)>& publish) {
  if (!healthy_.load()) {
    return absl::UnavailableError(
        absl::StrCat("the ", std::string(transport_->name()), " bus is not connected"));
  }
  auto promise = std::make_shared<std::promise<absl::Status>>();
  auto future = promise->get_future();
  auto once = std::make_shared<std::once_flag>();
  publish([promise, once](absl::Status s) {
    std::call_once(*once, [&] { promise->set_value(std::move(s)); });
  });
  if (future.wait_for(options_.publish_timeout) != std::future_status::ready) {
    return absl::UnavailableError(absl::StrCat("the ", std::string(transport_->name()),
                                               " bus did not take the message in time"));
  }
  absl::Status s = future.get();
  if (!s.ok()) return absl::UnavailableError(s.message());
  return s;
}

absl::Status BusObserver::Tell(bus::RequestBody request) {
  request.node_id = identity_.node_id;
  request.request_id = bus::NewUuid();
  std::string payload = bus::EncodeRequest(request);
  return WaitForPublish([this, &payload](bus::Completion done) {
    transport_->Publish(bus::Channel::kRequests, std::move(payload), std::move(done));
  });
}

absl::Status BusObserver::Broadcast(bus::BroadcastMessage message) {
  message.node_id = identity_.node_id;
  std::string payload = bus::EncodeBroadcast(message);
  return WaitForPublish([this, &payload](bus::Completion done) {
    transport_->Publish(bus::Channel::kBroadcast, std::move(payload), std::move(done));
  });
}

}  // namespace sockudo::controlplane::cluster
