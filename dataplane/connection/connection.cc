#include "dataplane/connection/connection.h"

#include <variant>

#include "common/base/logging.h"
#include "common/protocol/close_codes.h"
#include "dataplane/connection/handlers/handlers.h"

namespace sockudo::dataplane::connection {

namespace cc = protocol::close_code;
namespace cm = protocol::close_message;
using metrics::AppCounters;

namespace {
constexpr auto kPongTimeout = std::chrono::seconds(30);

// Occupancy webhooks (channel_occupied, channel_vacated) an app asks for.
struct OccupancyWants {
  bool occupied = false;
  bool vacated = false;
  bool count = false;  // subscription_count (never for presence channels)
  bool any() const { return occupied || vacated || count; }
};

OccupancyWants WantsOf(const node::NodeContext& node, const apps::App& app,
                       const std::string& channel) {
  return {webhooks::Wanted(node.webhooks, app, "channel_occupied"),
          webhooks::Wanted(node.webhooks, app, "channel_vacated"),
          !protocol::ClassifyChannel(channel).IsPresence() &&
              webhooks::Wanted(node.webhooks, app, "subscription_count")};
}

// With cluster-wide counts (a shared cache driver and an app that wants these webhooks) a socket
// is counted before it is told it subscribed, and the update that moves the count 0 -> 1 or back
// to 0 emits, once in the cluster; subscription_count carries the cluster total.
bool CountsOccupancy(const node::NodeContext& node, const OccupancyWants& wants) {
  return node.occupancy != nullptr && wants.any();
}

// Emits what a decided transition (`transition`: 0 -> 1 when `joined`, to 0 otherwise) and
// count call for.
void EmitOccupancy(node::NodeContext& node, const std::string& app_id, const std::string& channel,
                   const OccupancyWants& wants, bool joined, bool transition, int64_t count) {
  if (node.webhooks == nullptr) return;
  if (transition && (joined ? wants.occupied : wants.vacated)) {
    node.webhooks->EmitFor(
        app_id, joined ? webhooks::ChannelOccupied(channel) : webhooks::ChannelVacated(channel));
  }
  if (wants.count) node.webhooks->EmitFor(app_id, webhooks::SubscriptionCount(channel, count));
}

// A cluster-wide count update's decision (`total`: the count after it), or, when the store
// failed or had lost the count, this node's own (`local_transition` and its count).
void EmitCounted(node::NodeContext& node, const std::string& app_id, const std::string& channel,
                 const OccupancyWants& wants, bool joined, const absl::StatusOr<int64_t>& total,
                 bool local_transition) {
  const bool shared = total.ok() && *total >= 0;
  EmitOccupancy(node, app_id, channel, wants, joined,
                shared ? *total == (joined ? 1 : 0) : local_transition,
                shared ? *total : static_cast<int64_t>(node.channels.Count(app_id, channel)));
}

// This node's own view: its transition and its count.
void LocalOccupancy(node::NodeContext& node, const apps::App& app, const std::string& channel,
                    bool transition, bool joined) {
  const OccupancyWants wants = WantsOf(node, app, channel);
  if (!wants.any()) return;
  EmitOccupancy(node, app.id, channel, wants, joined, transition,
                static_cast<int64_t>(node.channels.Count(app.id, channel)));
}
}  // namespace

Connection::Connection(node::NodeContext& node, node::WorkerState& worker,
                       std::shared_ptr<const apps::App> app, std::string socket_id,
                       Transport& transport)
    : node_(node),
      worker_(worker),
      app_(std::move(app)),
      socket_id_(std::move(socket_id)),
      transport_(transport),
      counters_(node.metrics.ForApp(app_->id)) {}

Connection::~Connection() { Cleanup(); }

void Connection::Open(Clock::time_point now) {
  serial_ = worker_.next_serial++;
  worker_.connections.emplace(serial_, this);
  AppCounters::Add(counters_.connected, 1);
  AppCounters::Add(counters_.new_connections, 1);
  last_activity_ = now;
  auth_deadline_ = now + std::chrono::seconds(node_.config.user_authentication_timeout);
  Send(protocol::ConnectionEstablishedFrame(socket_id_, node_.config.activity_timeout));
}

Handle Connection::handle() const { return Handle(node_.workers, worker_.id, serial_); }

void Connection::OnActivity(Clock::time_point now) {
  last_activity_ = now;
  ping_sent_at_.reset();
}

void Connection::OnMessage(std::string_view text, Clock::time_point now) {
  if (closed_) return;
  OnActivity(now);
  AppCounters::Add(counters_.ws_messages_received, 1);
  AppCounters::Add(counters_.socket_received_bytes, static_cast<int64_t>(text.size()));
  if (!TakeMessageToken(now)) return;
  auto parsed = protocol::ParseInbound(text);
  if (auto* error = std::get_if<protocol::ParseError>(&parsed)) {
    Send(std::move(error->error_frame));
    return;
  }
  const auto& frame = std::get<protocol::InboundFrame>(parsed);
  const std::string& event = frame.event;
  if (event == "pusher:ping") {
    handlers::HandlePing(*this, frame);
  } else if (event == "pusher:pong") {
    // Activity already recorded.
  } else if (event == "pusher:subscribe") {
    handlers::HandleSubscribe(*this, frame);
  } else if (event == "pusher:unsubscribe") {
    handlers::HandleUnsubscribe(*this, frame);
  } else if (event == "pusher:signin") {
    handlers::HandleSignin(*this, frame);
  } else if (event.rfind("client-", 0) == 0) {
    handlers::HandleClientEvent(*this, frame, now);
  }
  // Any other event is ignored.
}

void Connection::Tick(Clock::time_point now) {
  if (closed_) return;
  if (ping_sent_at_.has_value()) {
    if (now - *ping_sent_at_ >= kPongTimeout) {
      CloseWithError(cc::kPongNotReceived, cm::kPongNotReceived);
      return;
    }
  } else if (now - last_activity_ >= std::chrono::seconds(node_.config.activity_timeout)) {
    Send(protocol::PingFrame());
    ping_sent_at_ = now;
  }
  if (app_->enable_user_authentication && !authorized_ && now >= auth_deadline_) {
    CloseWithError(cc::kUnauthorized, cm::kNotAuthorizedInTime);
  }
}

void Connection::CountDelivered(metrics::AppCounters& counters, int64_t messages, int64_t bytes) {
  if (messages == 0) return;
  AppCounters::Add(counters.ws_messages_sent, messages);
  AppCounters::Add(counters.socket_transmitted_bytes, messages * bytes);
}

bool Connection::Deliver(const protocol::SharedFrame& frame) {
  if (closed_ || close_pending_) return false;
  if (transport_.Write(frame)) return true;
  if (!node_.config.websocket.disconnect_on_buffer_full) {
    AppCounters::Add(counters_.dropped_messages, 1);
    return false;
  }
  AppCounters::Add(counters_.slow_consumer_closes, 1);
  // Delivery may be walking an index this connection is in: close on the next turn. What is
  // queued goes: the client learns why it was closed as soon as it reads again.
  close_pending_ = true;
  handle().Post([](Connection& c) {
    c.transport_.DiscardQueued();
    c.CloseWithError(cc::kOverCapacity, cm::kSlowConsumer);
  });
  return false;
}

std::shared_ptr<const apps::App> Connection::CurrentApp() const {
  auto current = node_.apps.FindById(app_->id);
  return current != nullptr ? current : app_;
}

void Connection::Send(std::string_view frame) {
  const auto size = static_cast<int64_t>(frame.size());
  if (Deliver(protocol::MakeShared(frame))) CountDelivered(counters_, 1, size);
}

void Connection::CloseWithError(int code, std::string_view message) {
  if (closed_) return;
  closed_ = true;
  Cleanup();
  // The error frame is the client's only explanation: it goes out even when the queue is full.
  transport_.Close(code, message, protocol::MakeShared(protocol::ErrorFrame(code, message)));
}

void Connection::OnTransportClosed() {
  closed_ = true;
  Cleanup();
}

void Connection::Cleanup() {
  if (cleaned_) return;
  cleaned_ = true;
  std::vector<std::string> channels;
  channels.reserve(subscriptions_.size());
  for (const auto& [name, sub] : subscriptions_) channels.push_back(name);
  for (const std::string& name : channels) RemoveSubscription(name);
  SignOut();
  node_.connections.Release(app_->id, socket_id_);
  worker_.connections.erase(serial_);
  AppCounters::Add(counters_.connected, -1);
  AppCounters::Add(counters_.new_disconnections, 1);
}

const Connection::Subscription* Connection::FindSubscription(const std::string& channel) const {
  auto it = subscriptions_.find(channel);
  return it == subscriptions_.end() ? nullptr : &it->second;
}

void Connection::AddSubscription(const std::string& channel, Subscription sub, Then then) {
  if (subscriptions_.contains(channel)) return;
  const bool pending = sub.pending;
  if (pending && sub.traits.IsPresence()) node_.channels.AddJoining(app_->id, channel);
  subscriptions_.emplace(channel, std::move(sub));
  if (!pending) Enter(channel, std::move(then));
}

bool Connection::HasPresence() const {
  for (const auto& [name, sub] : subscriptions_) {
    if (sub.traits.IsPresence()) return true;
  }
  return false;
}

void Connection::CommitSubscription(const std::string& channel, Then then) {
  auto it = subscriptions_.find(channel);
  if (it == subscriptions_.end() || !it->second.pending || it->second.counted) return;
  Enter(channel, std::move(then));
}

void Connection::Enter(const std::string& channel, Then then) {
  Subscription& sub = subscriptions_.at(channel);
  const OccupancyWants wants = WantsOf(node_, *app_, channel);
  const bool counts = CountsOccupancy(node_, wants);
  if (!counts || sub.traits.IsPresence()) {
    // A presence socket enters at once, its count following: a member event already on its way
    // (queued behind this commit) must reach it, or its member list would be stale.
    const bool joining = sub.pending;
    sub.pending = false;
    sub.counted = counts;
    const bool occupied = JoinIndices(channel, counts);
    if (joining) node_.channels.RemoveJoining(app_->id, channel);  // counted by now
    if (counts) {
      node_.occupancy->Change(app_->id, channel, 1,
                              [&node = node_, app_id = app_->id, channel, wants,
                               occupied](absl::StatusOr<int64_t> total) {
                                EmitCounted(node, app_id, channel, wants, true, total, occupied);
                              });
    }
    if (then) then(*this);
    return;
  }
  // Counted first; the socket enters the indices (and hears it subscribed) once the count has it.
  sub.pending = true;
  sub.counted = true;
  node_.occupancy->Change(
      app_->id, channel, 1,
      [&node = node_, handle = handle(), app_id = app_->id, channel, wants,
       then = std::move(then)](absl::StatusOr<int64_t> total) mutable {
        const bool shared = total.ok() && *total >= 0;
        if (shared) EmitOccupancy(node, app_id, channel, wants, true, *total == 1, *total);
        handle.Resume([channel, shared, then = std::move(then)](Connection& c) {
          auto it = c.subscriptions_.find(channel);
          if (it == c.subscriptions_.end() || !it->second.counted || !it->second.pending) return;
          it->second.pending = false;
          c.JoinIndices(channel, shared);
          if (then) then(c);
        });
      });
}

bool Connection::JoinIndices(const std::string& channel, bool shared) {
  const bool occupied = node_.channels.Add(app_->id, channel);
  worker_.channels.Add(app_->id, channel, this);
  if (!shared) LocalOccupancy(node_, *app_, channel, occupied, true);
  return occupied;
}

void Connection::ExpectCacheReplay(const std::string& channel) {
  auto it = subscriptions_.find(channel);
  if (it == subscriptions_.end() || it->second.replay_pending) return;
  it->second.replay_pending = true;
  ++pending_replays_;
}

bool Connection::TakeCacheReplay(const std::string& channel) {
  auto it = subscriptions_.find(channel);
  if (it == subscriptions_.end() || !it->second.replay_pending) return false;
  it->second.replay_pending = false;
  --pending_replays_;
  return true;
}

void Connection::RemoveSubscription(const std::string& channel, bool member_gone) {
  auto it = subscriptions_.find(channel);
  if (it == subscriptions_.end()) return;
  const Subscription sub = std::move(it->second);
  subscriptions_.erase(it);
  if (sub.replay_pending) --pending_replays_;
  bool vacated = false;
  if (!sub.pending) {
    worker_.channels.Remove(app_->id, channel, this);
    vacated = node_.channels.Remove(app_->id, channel);
  } else if (sub.traits.IsPresence()) {
    node_.channels.RemoveJoining(app_->id, channel);  // left before it entered
  }
  if (sub.traits.IsPresence() && !member_gone) {
    node_.adapter->LeavePresence(app_->id, channel, socket_id_, sub.member_key);
  }
  // After the leave flow: member_removed comes before channel_vacated.
  if (sub.counted && node_.occupancy != nullptr) {
    // Counted sockets leave the count, entered or not; a failed update falls back to this
    // node's own view.
    const OccupancyWants wants = WantsOf(node_, *app_, channel);
    node_.occupancy->Change(
        app_->id, channel, -1,
        [&node = node_, app_id = app_->id, channel, wants, vacated](absl::StatusOr<int64_t> total) {
          EmitCounted(node, app_id, channel, wants, false, total, vacated);
        });
  } else if (!sub.pending) {
    LocalOccupancy(node_, *app_, channel, vacated, false);
  }
}

void Connection::SignIn(SignedInUser user) {
  SignOut();
  worker_.users.Add(app_->id, user.id, this);
  node_.adapter->SignIn(app_->id, user.id, user.watchlist);
  user_ = std::move(user);
  authorized_ = true;
}

void Connection::SignOut() {
  if (!user_.has_value()) return;
  SignedInUser user = std::move(*user_);
  user_.reset();
  worker_.users.Remove(app_->id, user.id, this);
  node_.adapter->SignOut(app_->id, user.id, user.watchlist);
}

bool Connection::TakeClientEventToken(Clock::time_point now) {
  const int64_t limit = app_->max_client_events_per_second;
  if (limit <= 0) return true;
  const bool allowed =
      client_events_.Take(now, limit, std::chrono::seconds(app_->ClientEventWindowSeconds()));
  node_.metrics.rate_limits().Count(metrics::Limiter::kClientEvents, allowed);
  return allowed;
}

bool Connection::TakeMessageToken(Clock::time_point now) {
  if (!app_->message_rate_limit.has_value() || !app_->message_rate_limit->enabled) return true;
  const apps::MessageRateLimit& limit = *app_->message_rate_limit;
  const bool allowed =
      messages_.Take(now, limit.max_attempts, std::chrono::seconds(limit.decay_seconds));
  node_.metrics.rate_limits().Count(metrics::Limiter::kMessages, allowed);
  if (allowed) return true;
  constexpr char kMessage[] = "Message rate limit exceeded.";
  if (limit.terminate_on_limit) {
    CloseWithError(cc::kClientEventRejected, kMessage);
  } else {
    Send(protocol::ErrorFrame(cc::kClientEventRejected, kMessage));
  }
  return false;
}

}  // namespace sockudo::dataplane::connection
