// File: connection.h
// One Pusher connection, independent of the socket under it: subscriptions, presence
// memberships, the signed-in user, timers and limits. Created after admission, owned by its
// WebSocket session, and used only on that session's worker thread. The per-event logic lives in
// handlers/ (one file per event).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/apps/app.h"
#include "common/protocol/channel_name.h"
#include "common/protocol/frame.h"
#include "dataplane/connection/handle.h"
#include "dataplane/connection/transport.h"
#include "dataplane/node/node_context.h"
#include "dataplane/node/worker_state.h"

namespace sockudo::dataplane::connection {

// Counts events in fixed windows: at most `limit` per `window`, the window restarting at the
// first event after it ends.
class WindowCounter {
 public:
  using Clock = std::chrono::steady_clock;
  bool Take(Clock::time_point now, int64_t limit, Clock::duration window) {
    if (now - start_ >= window) {
      start_ = now;
      count_ = 0;
    }
    return ++count_ <= limit;
  }

 private:
  Clock::time_point start_{};
  int64_t count_ = 0;
};

class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  struct Subscription {
    protocol::ChannelTraits traits;
    std::string member_key;    // presence: string form of user_id
    std::string user_id_json;  // presence: original JSON value
    // A presence join waiting for the adapter's answer: the socket is a member (its leave must
    // run on close) but not yet in the channel's indices.
    bool pending = false;
    // Cache channel with a shared store: the last event is still being read.
    bool replay_pending = false;
    // In the cluster-wide occupancy count (see Enter): its leave must leave the count too.
    bool counted = false;
  };

  struct SignedInUser {
    std::string id;
    std::string user_info_json;
    std::vector<std::string> watchlist;
  };

  Connection(node::NodeContext& node, node::WorkerState& worker,
             std::shared_ptr<const apps::App> app, std::string socket_id, Transport& transport);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the worker and sends pusher:connection_established.
  void Open(Clock::time_point now);
  // Where code on other threads (answers from the bus) can reach this connection.
  Handle handle() const;
  // One inbound text (or binary) message.
  void OnMessage(std::string_view text, Clock::time_point now);
  // Any inbound frame, control frames included.
  void OnActivity(Clock::time_point now);
  // The socket is gone: run the disconnect cleanup (idempotent).
  void OnTransportClosed();
  // Timers: server ping, pong timeout, authorized-connection deadline. Called about once a
  // second by the worker.
  void Tick(Clock::time_point now);

  // Queues a shared frame; a full queue closes the socket with 4100 (or drops, per config).
  // Returns true when the frame was queued. The caller counts sent messages (see
  // CountDelivered), so a fan-out touches the shared counters once, not once per recipient.
  bool Deliver(const protocol::SharedFrame& frame);
  // Sends a frame built for this socket only, and counts it.
  void Send(std::string_view frame);

  // Adds `messages` sent frames of `bytes` bytes each to the app's counters.
  static void CountDelivered(metrics::AppCounters& counters, int64_t messages, int64_t bytes);
  metrics::AppCounters& counters() { return counters_; }
  // Closes the connection: error frame, cleanup, close frame with the same code.
  void CloseWithError(int code, std::string_view message);

  const std::string& socket_id() const { return socket_id_; }
  // The app as it was when the socket connected (limits apply to new connections only).
  const apps::App& app() const { return *app_; }
  // The app as the store has it now, for signature checks: a rotated secret applies to sockets
  // that were open before the rotation. The connect-time record when the store no longer has it.
  std::shared_ptr<const apps::App> CurrentApp() const;
  node::NodeContext& node() { return node_; }
  node::WorkerState& worker() { return worker_; }
  bool closed() const { return closed_; }

  // Subscription state, for the handlers.
  const Subscription* FindSubscription(const std::string& channel) const;
  // Runs once the socket is in a channel's indices (on its worker; not if it closed meanwhile).
  using Then = std::function<void(Connection&)>;
  // Subscribes: the channel's indices, unless `sub.pending` (a presence join in flight), then
  // `then`. With cluster-wide occupancy counts the socket is counted first, so `then` may run
  // later (the subscription stays pending until then).
  void AddSubscription(const std::string& channel, Subscription sub, Then then = nullptr);
  // A pending presence join was accepted: the socket enters the channel's indices, then `then`.
  void CommitSubscription(const std::string& channel, Then then = nullptr);
  // Removes the subscription and runs the leave flow (member_removed through the adapter), or,
  // with `member_gone`, only forgets it (the adapter refused the join and kept nothing). No-op
  // if absent.
  void RemoveSubscription(const std::string& channel, bool member_gone = false);

  // Subscribed (or joining) to at least one presence channel.
  bool HasPresence() const;

  // Cache channels over a shared store, whose answer comes later: the replay of `channel`'s last
  // event is on its way. A live event on the channel before it arrives makes it stale.
  void ExpectCacheReplay(const std::string& channel);
  // The replay arrived: true (once) when it may still be sent (subscribed, nothing newer sent).
  bool TakeCacheReplay(const std::string& channel);
  // A live event of `channel` goes to this socket (cheap when no replay is pending).
  void NoteChannelEvent(const std::string& channel) {
    if (pending_replays_ > 0) TakeCacheReplay(channel);
  }

  const std::optional<SignedInUser>& user() const { return user_; }
  void SignIn(SignedInUser user);
  // Leaves the user registries (watchlist offline notices when it was the user's last socket).
  void SignOut();
  void MarkAuthorized() { authorized_ = true; }

  // Client-event rate limit (app max_client_events_per_second per decay window).
  bool TakeClientEventToken(Clock::time_point now);

 private:
  bool TakeMessageToken(Clock::time_point now);
  void Cleanup();
  // Puts the socket in the channel's indices (see AddSubscription), then runs `then`.
  void Enter(const std::string& channel, Then then);
  // The indices, and this node's occupancy webhooks unless the cluster-wide count decides them.
  // True when this node's count of the channel went 0 -> 1.
  bool JoinIndices(const std::string& channel, bool shared);

  node::NodeContext& node_;
  node::WorkerState& worker_;
  std::shared_ptr<const apps::App> app_;
  const std::string socket_id_;
  Transport& transport_;
  metrics::AppCounters& counters_;

  absl::flat_hash_map<std::string, Subscription> subscriptions_;
  std::optional<SignedInUser> user_;
  bool authorized_ = false;
  bool closed_ = false;
  bool close_pending_ = false;  // a slow-consumer close is scheduled
  bool cleaned_ = false;
  uint64_t serial_ = 0;  // key in worker_.connections once open
  int pending_replays_ = 0;  // subscriptions with replay_pending

  Clock::time_point last_activity_;
  std::optional<Clock::time_point> ping_sent_at_;
  Clock::time_point auth_deadline_;
  WindowCounter client_events_;  // max_client_events_per_second per decay_seconds
  WindowCounter messages_;       // message_rate_limit
};

}  // namespace sockudo::dataplane::connection
