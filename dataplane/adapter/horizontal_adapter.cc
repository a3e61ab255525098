#include "dataplane/adapter/horizontal_adapter.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "common/base/process_memory.h"
#include "common/protocol/channel_name.h"
#include "common/protocol/close_codes.h"
#include "common/protocol/frame.h"
#include "dataplane/connection/connection.h"
#include "dataplane/metrics/cluster_observer.h"

namespace sockudo::dataplane::adapter {

namespace net = boost::asio;
using bus::RequestBody;
using bus::RequestType;
using bus::ResponseBody;
using Clock = std::chrono::steady_clock;

namespace {

// The channel name of a fence marker (see Fence): no app has it, so a peer that does not know
// markers (an older node during an upgrade) delivers it to nobody.
constexpr std::string_view kFenceChannel = "#fence";

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// FNV-1a 64 of a node id: the stagger of its presence syncs.
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

Answer<int64_t> SumSockets(const bus::RequestRouter::Result& r, int64_t local) {
  Answer<int64_t> a{local, r.complete};
  for (const ResponseBody& resp : r.responses) a.value += resp.sockets_count;
  return a;
}

}  // namespace

HorizontalAdapter::HorizontalAdapter(const config::Config& config, node::NodeContext& node,
                                     node::WorkerPool& workers,
                                     std::unique_ptr<bus::Transport> transport, NodeInfo info,
                                     std::unique_ptr<bus::Transport> fallback)
    : config_(config),
      node_(node),
      delivery_(workers, node.channels, node.users),
      transport_(std::move(transport)),
      info_(std::move(info)),
      identity_{bus::NewUuid(), bus::UuidHex(bus::NewUuid()), /*observer=*/false},
      clustered_(config.adapter.driver != "local"),
      health_enabled_(clustered_ && config.adapter.cluster_health.enabled),
      fallback_(std::move(fallback)),
      request_timeout_(bus::RequestBaseTimeout(config)),
      health_(identity_.node_id) {}

HorizontalAdapter::~HorizontalAdapter() { Stop(); }

absl::Status HorizontalAdapter::Start() {
  router_ = std::make_unique<bus::RequestRouter>(io_, identity_.node_id, request_timeout_);
  guard_.emplace(net::make_work_guard(io_));
  thread_ = std::thread([this] { io_.run(); });
  absl::Status st = transport_->Start(identity_, this);
  if (!st.ok() && fallback_ != nullptr) {
    base::Logger("adapter")->error(
        "the {} bus cannot be reached ({}); adapter.fallback_to_local is set: this node runs "
        "ALONE on the local bus and sees no other node",
        transport_->name(), std::string(st.message()));
    transport_ = std::move(fallback_);
    clustered_ = false;
    health_enabled_ = false;
    st = transport_->Start(identity_, this);
  }
  if (!st.ok()) {
    guard_.reset();
    io_.stop();
    thread_.join();
    return st;
  }
  bus_healthy_ = transport_->Healthy();
  if (health_enabled_) {
    RunOnCluster([this] {
      SendHeartbeat(std::nullopt);  // first heartbeat as soon as the subscriptions are up
      ScheduleHeartbeat();
      ScheduleCleanup();
    });
  } else if (!clustered_ && info_.local_heartbeats) {
    RunOnCluster([this] {
      SendHeartbeat(std::nullopt);
      ScheduleHeartbeat();
    });
  }
  base::Logger("adapter")->info("node {} on the {} bus", identity_.node_id, transport_->name());
  return absl::OkStatus();
}

void HorizontalAdapter::Stop() {
  if (!thread_.joinable()) return;
  // Leave the cluster at once rather than after node_timeout_ms.
  std::promise<void> left;
  RunOnCluster([this, &left] {
    stopping_ = true;
    heartbeat_timer_.cancel();
    cleanup_timer_.cancel();
    if (!health_enabled_) return left.set_value();
    RequestBody dead = NewRequest(RequestType::kNodeDead, "cluster");
    dead.dead_node_id = identity_.node_id;
    dead.timestamp = WallMillis() / 1000;
    auto once = std::make_shared<std::once_flag>();
    transport_->Publish(
        bus::Channel::kRequests, bus::EncodeRequest(dead),
        [&left, once](absl::Status) { std::call_once(*once, [&left] { left.set_value(); }); });
  });
  left.get_future().wait_for(std::chrono::seconds(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::promise<void> cancelled;
  RunOnCluster([this, &cancelled] {
    router_->CancelAll();
    for (auto& [token, fence] : std::exchange(fences_, {})) {
      fence.timer->cancel();
      fence.done(absl::CancelledError("adapter stopped"));
    }
    cancelled.set_value();
  });
  cancelled.get_future().wait_for(std::chrono::seconds(2));
  transport_->Stop();
  guard_.reset();
  io_.stop();
  thread_.join();
}

bool HorizontalAdapter::Healthy() const { return bus_healthy_.load(); }

ClusterMetrics HorizontalAdapter::Metrics() const {
  const bus::Transport::Counters bus = transport_->counters();
  ClusterMetrics m;
  m.cluster_nodes = static_cast<int64_t>(known_peers()) + 1;
  m.bus_healthy = Healthy();
  m.requests_sent = stats_.requests_sent.load();
  m.requests_received = stats_.requests_received.load();
  m.requests_resolved = stats_.requests_resolved.load();
  m.requests_uncomplete = stats_.requests_uncomplete.load();
  m.broadcasts_received = stats_.broadcasts_received.load();
  m.dead_nodes_cleaned = stats_.dead_nodes_cleaned.load();
  m.transport_dropped = stats_.dropped_messages.load() + static_cast<int64_t>(bus.dropped);
  m.transport_reconnections = static_cast<int64_t>(bus.reconnections);
  m.transport_queue_depth = static_cast<int64_t>(bus.queue_depth);
  m.transport = std::string(transport_->name());
  for (const auto& e : transport_->events()) {
    m.transport_events.emplace_back(std::string(e.event), static_cast<int64_t>(e.count));
  }
  return m;
}

void HorizontalAdapter::RunOnCluster(std::function<void()> fn) { net::post(io_, std::move(fn)); }

// ---------------------------------------------------------------------------------------------
// Delivery

void HorizontalAdapter::Broadcast(const std::string& app_id, const std::string& channel,
                                  protocol::SharedFrame frame, const std::string& except_socket_id,
                                  StatusCallback done) {
  delivery_.ToChannel(app_id, channel, frame, except_socket_id);
  if (!clustered_) {
    if (done) done(absl::OkStatus());
    return;
  }
  // Published even when this node believes it is alone: a new node does not know its peers yet.
  bus::BroadcastMessage m;
  m.node_id = identity_.node_id;
  m.app_id = app_id;
  m.channel = channel;
  m.message = std::string(frame->text());
  if (!except_socket_id.empty()) m.except_socket_id = except_socket_id;
  m.timestamp_ms = static_cast<double>(WallMillis());
  transport_->Publish(
      bus::Channel::kBroadcast, bus::EncodeBroadcast(m), [done = std::move(done)](absl::Status s) {
        if (!s.ok()) {
          base::Logger("adapter")->warn("broadcast not published: {}", std::string(s.message()));
        }
        if (done) done(s.ok() ? s : absl::UnavailableError(s.message()));
      });
}

void HorizontalAdapter::Fence(std::chrono::milliseconds timeout, StatusCallback done) {
  if (!clustered_) return done(absl::OkStatus());
  if (!transport_->HearsOwnBroadcasts()) {
    return done(absl::FailedPreconditionError(
        absl::StrCat("the ", std::string(transport_->name()),
                     " bus does not send a node its own messages (no_echo)")));
  }
  const std::string token = bus::NewUuid();
  // Registered before the marker goes out: its return is handled on this thread after this.
  RunOnCluster([this, token, timeout, done = std::move(done)]() mutable {
    auto timer = std::make_unique<net::steady_timer>(io_, timeout);
    timer->async_wait([this, token](boost::system::error_code ec) {
      if (!ec) EndFence(token, absl::DeadlineExceededError("the fence marker did not come back"));
    });
    fences_[token] = PendingFence{std::move(done), std::move(timer)};
  });
  bus::BroadcastMessage m;
  m.node_id = identity_.node_id;
  m.channel = std::string(kFenceChannel);
  m.message = token;
  transport_->Publish(bus::Channel::kBroadcast, bus::EncodeBroadcast(m),
                      [this, token](absl::Status s) {
                        if (!s.ok()) {
                          RunOnCluster([this, token, s] { EndFence(token, s); });
                        }
                      });
}

void HorizontalAdapter::EndFence(const std::string& token, absl::Status status) {
  auto it = fences_.find(token);
  if (it == fences_.end()) return;
  PendingFence fence = std::move(it->second);
  fences_.erase(it);
  fence.timer->cancel();
  fence.done(std::move(status));
}

void HorizontalAdapter::SendToUser(const std::string& app_id, const std::string& user_id,
                                   protocol::SharedFrame frame, const std::string& except_socket_id,
                                   StatusCallback done) {
  // On the bus a #server-to-user- delivery is a broadcast on that pseudo-channel.
  delivery_.ToUser(app_id, user_id, frame, except_socket_id);
  if (!clustered_) {
    if (done) done(absl::OkStatus());
    return;
  }
  bus::BroadcastMessage m;
  m.node_id = identity_.node_id;
  m.app_id = app_id;
  m.channel = std::string(protocol::kServerToUserPrefix) + user_id;
  m.message = std::string(frame->text());
  if (!except_socket_id.empty()) m.except_socket_id = except_socket_id;
  m.timestamp_ms = static_cast<double>(WallMillis());
  transport_->Publish(bus::Channel::kBroadcast, bus::EncodeBroadcast(m),
                      [done = std::move(done)](absl::Status s) {
                        if (done) done(s.ok() ? s : absl::UnavailableError(s.message()));
                      });
}

void HorizontalAdapter::DisconnectUser(const std::string& app_id, const std::string& user_id,
                                       int code, const std::string& message, StatusCallback done) {
  delivery_.DisconnectUser(app_id, user_id, code, message);
  if (!clustered_) {
    if (done) done(absl::OkStatus());
    return;
  }
  RunOnCluster([this, app_id, user_id, code, done = std::move(done)] {
    RequestBody r = NewRequest(code == protocol::close_code::kReconnectNow
                                   ? RequestType::kForceReconnect
                                   : RequestType::kTerminateUserConnections,
                               app_id);
    r.user_id_json = base::JsonString(user_id);
    // Missing answers never fail the call; a request that could not be sent does (503).
    Ask(std::move(r), nullptr, [done](Result, bool failed) {
      if (done) {
        done(failed ? absl::UnavailableError("the request could not be published")
                    : absl::OkStatus());
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Queries

void HorizontalAdapter::GetChannel(const std::string& app_id, const std::string& channel,
                                   std::function<void(Answer<ChannelCounts>)> done) {
  const bool presence = protocol::ClassifyChannel(channel).IsPresence();
  if (!clustered_) {
    ChannelCounts counts{node_.channels.Count(app_id, channel),
                         presence ? node_.presence.MemberCount(app_id, channel) : 0};
    return done({counts, true});
  }
  RunOnCluster([this, app_id, channel, presence, done = std::move(done)] {
    RequestBody r = NewRequest(RequestType::kChannelSocketsCount, app_id);
    r.channel = channel;
    Ask(std::move(r), nullptr, [this, app_id, channel, presence, done](Result sockets, bool) {
      Answer<ChannelCounts> a;
      // Counted after the answers came: a subscriber that saw success is in the local count.
      const Answer<int64_t> subs =
          SumSockets(sockets, static_cast<int64_t>(node_.channels.Count(app_id, channel)));
      a.value.subscription_count = static_cast<size_t>(subs.value);
      a.complete = subs.complete;
      if (!presence) return done(a);
      RequestBody m = NewRequest(RequestType::kChannelMembers, app_id);
      m.channel = channel;
      Ask(std::move(m), nullptr, [this, app_id, channel, a, done](Result members, bool) mutable {
        presence::MemberMap all = node_.presence.MemberInfos(app_id, channel);
        for (const ResponseBody& resp : members.responses) {
          for (const auto& [key, info] : resp.members) all.try_emplace(key);
        }
        a.value.user_count = all.size();
        a.complete = a.complete && members.complete;
        done(a);
      });
    });
  });
}

void HorizontalAdapter::GetChannels(const std::string& app_id, const std::string& prefix,
                                    bool with_user_counts,
                                    std::function<void(Answer<ChannelList>)> done) {
  auto local = [this, app_id, prefix] {
    std::map<std::string, size_t> counts;
    for (auto& [name, n] : node_.channels.List(app_id, prefix)) counts[name] = n;
    return counts;
  };
  auto finish = [this, app_id, with_user_counts](std::map<std::string, size_t> counts,
                                                 bool complete,
                                                 std::function<void(Answer<ChannelList>)> done) {
    Answer<ChannelList> a;
    a.complete = complete;
    for (auto& [name, n] : counts) {
      ChannelCounts c{n, 0};
      if (with_user_counts && protocol::ClassifyChannel(name).IsPresence()) {
        c.user_count = node_.presence.MemberCount(app_id, name);
      }
      a.value.emplace_back(name, c);
    }
    done(std::move(a));
  };
  if (!clustered_) return finish(local(), true, std::move(done));
  RunOnCluster([this, app_id, prefix, with_user_counts, local, finish, done = std::move(done)] {
    Ask(NewRequest(RequestType::kChannelsWithSocketsCount, app_id), nullptr,
        [this, app_id, prefix, with_user_counts, local, finish, done](Result r, bool) {
          std::map<std::string, size_t> counts = local();
          for (const ResponseBody& resp : r.responses) {
            for (const auto& [name, n] : resp.channels_with_sockets_count) {
              if (n > 0 && std::string_view(name).substr(0, prefix.size()) == prefix) {
                counts[name] += static_cast<size_t>(n);
              }
            }
          }
          if (!with_user_counts) return finish(std::move(counts), r.complete, done);
          // User counts of presence channels come from member lists (one request each).
          std::vector<std::string> presence_channels;
          for (const auto& [name, n] : counts) {
            if (protocol::ClassifyChannel(name).IsPresence()) presence_channels.push_back(name);
          }
          if (presence_channels.empty()) return finish(std::move(counts), r.complete, done);
          struct Pending {
            Answer<ChannelList> answer;
            std::map<std::string, size_t> users;
            size_t remaining;
          };
          auto p = std::make_shared<Pending>();
          p->remaining = presence_channels.size();
          p->answer.complete = r.complete;
          for (const std::string& name : presence_channels) {
            GetPresenceMembers(
                app_id, name, [this, p, name, counts, done](Answer<std::vector<std::string>> m) {
                  RunOnCluster([p, name, counts, done, m = std::move(m)] {
                    p->users[name] = m.value.size();
                    p->answer.complete = p->answer.complete && m.complete;
                    if (--p->remaining > 0) return;
                    for (const auto& [channel, n] : counts) {
                      auto u = p->users.find(channel);
                      p->answer.value.emplace_back(
                          channel, ChannelCounts{n, u == p->users.end() ? 0 : u->second});
                    }
                    done(std::move(p->answer));
                  });
                });
          }
        });
  });
}

void HorizontalAdapter::GetPresenceMembers(
    const std::string& app_id, const std::string& channel,
    std::function<void(Answer<std::vector<std::string>>)> done) {
  if (!clustered_) return done({node_.presence.Members(app_id, channel), true});
  RunOnCluster([this, app_id, channel, done = std::move(done)] {
    RequestBody r = NewRequest(RequestType::kChannelMembers, app_id);
    r.channel = channel;
    Ask(std::move(r), nullptr, [this, app_id, channel, done](Result result, bool) {
      presence::MemberMap all = node_.presence.MemberInfos(app_id, channel);
      for (const ResponseBody& resp : result.responses) {
        for (const auto& [key, info] : resp.members) {
          all.try_emplace(key, presence::MemberInfo{info.user_id_json, info.user_info_json});
        }
      }
      Answer<std::vector<std::string>> a;
      a.complete = result.complete;
      for (const auto& [key, info] : all) a.value.push_back(info.user_id_json);
      done(std::move(a));
    });
  });
}

void HorizontalAdapter::CountRemoteConnections(const std::string& app_id,
                                               std::function<void(Answer<int64_t>)> done) {
  // Without socket counting the quota is per node.
  if (!clustered_ || !config_.adapter.enable_socket_counting) return done({0, true});
  RunOnCluster([this, app_id, done = std::move(done)] {
    Ask(NewRequest(RequestType::kSocketsCount, app_id), nullptr,
        [done](Result r, bool) { done(SumSockets(r, 0)); });
  });
}

// ---------------------------------------------------------------------------------------------
// Presence

void HorizontalAdapter::JoinPresence(const PresenceJoin& join,
                                     std::function<void(PresenceJoinAnswer)> done) {
  presence::MemberIdentity identity{join.member_key, join.user_id_json, join.user_info_json};
  auto local =
      node_.presence.Join(join.app_id, join.channel, join.socket_id, identity, join.max_members);
  if (local.full) return done({true, ""});
  if (!clustered_) {
    if (local.new_member) {
      Broadcast(join.app_id, join.channel,
                protocol::MakeShared(protocol::MemberAddedFrame(join.channel, join.user_id_json,
                                                                join.user_info_json)),
                join.socket_id, nullptr);
    }
    return done({false, std::move(local.subscription_data), local.new_member});
  }
  const bool new_here = local.new_member;
  RunOnCluster([this, join, new_here, done = std::move(done)] {
    ReplicateJoin(join);
    RequestBody r = NewRequest(RequestType::kChannelMembers, join.app_id);
    r.channel = join.channel;
    const JoinWatches::Id watch = join_watches_.Open(join.app_id, join.channel);
    Ask(std::move(r), nullptr, [this, join, new_here, done, watch](Result result, bool) {
      const std::vector<JoinWatches::Event> heard = join_watches_.Take(watch);
      // The member list: this node's own entries win, then the answer of the smallest node id,
      // then what the peers announced while answering.
      presence::MemberMap all = node_.presence.MemberInfos(join.app_id, join.channel);
      std::sort(result.responses.begin(), result.responses.end(),
                [](const ResponseBody& a, const ResponseBody& b) { return a.node_id < b.node_id; });
      bool elsewhere = false;
      for (const ResponseBody& resp : result.responses) {
        for (const auto& [key, info] : resp.members) {
          elsewhere = elsewhere || key == join.member_key;
          all.try_emplace(key, presence::MemberInfo{info.user_id_json, info.user_info_json});
        }
      }
      JoinWatches::Apply(heard, all, [&](const std::string& key) {
        return node_.presence.MemberSockets(join.app_id, join.channel, key) > 0;
      });
      const bool new_member = new_here && !elsewhere;
      if (new_member && join.max_members > 0 &&
          static_cast<int64_t>(all.size()) > join.max_members) {
        // Full across the cluster: the socket leaves again, unseen.
        node_.presence.Leave(join.app_id, join.channel, join.socket_id, join.member_key);
        ReplicateLeave(join.app_id, join.channel, join.socket_id);
        join_watches_.Close(watch);
        return done({true, ""});
      }
      if (new_member) {
        Broadcast(join.app_id, join.channel,
                  protocol::MakeShared(protocol::MemberAddedFrame(join.channel, join.user_id_json,
                                                                  join.user_info_json)),
                  join.socket_id, nullptr);
      }
      done({false, presence::SubscriptionData(all), new_member});
      join_watches_.Close(watch);
    });
  });
}

void HorizontalAdapter::LeavePresence(const std::string& app_id, const std::string& channel,
                                      const std::string& socket_id, const std::string& member_key) {
  auto left = node_.presence.Leave(app_id, channel, socket_id, member_key);
  if (!clustered_) {
    if (left.member_removed) {
      Broadcast(app_id, channel,
                protocol::MakeShared(protocol::MemberRemovedFrame(channel, left.user_id_json)), "",
                nullptr);
      if (node_.webhooks != nullptr) {
        node_.webhooks->EmitFor(app_id, webhooks::MemberRemoved(channel, left.user_id_json));
      }
    }
    return;
  }
  RunOnCluster([this, app_id, channel, socket_id, member_key, left] {
    ReplicateLeave(app_id, channel, socket_id);
    if (!left.member_removed) return;
    RemoveIfGone(app_id, channel, member_key, left.user_id_json);
  });
}

void HorizontalAdapter::RemoveIfGone(const std::string& app_id, const std::string& channel,
                                     const std::string& user_key, const std::string& user_id_json) {
  if (node_.presence.MemberSockets(app_id, channel, user_key) > 0) return;
  RequestBody r = NewRequest(RequestType::kCountUserConnectionsInChannel, app_id);
  r.channel = channel;
  r.user_id_json = user_id_json;
  Ask(
      std::move(r), [](const ResponseBody& resp) { return resp.sockets_count > 0; },
      [this, app_id, channel, user_key, user_id_json](Result result, bool) {
        for (const ResponseBody& resp : result.responses) {
          if (resp.sockets_count > 0) return;
        }
        // The user may have joined here again while the peers answered.
        if (node_.presence.MemberSockets(app_id, channel, user_key) > 0) return;
        Broadcast(app_id, channel,
                  protocol::MakeShared(protocol::MemberRemovedFrame(channel, user_id_json)), "",
                  nullptr);
        if (node_.webhooks != nullptr) {
          node_.webhooks->EmitFor(app_id, webhooks::MemberRemoved(channel, user_id_json));
        }
      });
}

void HorizontalAdapter::ReannounceIfHeld(const std::string& app_id, const std::string& channel,
                                         std::string_view removed_frame) {
  auto removed = JoinWatches::Parse(removed_frame);
  if (!removed.has_value() || removed->added) return;
  const presence::MemberMap here = node_.presence.MemberInfos(app_id, channel);
  auto member = here.find(removed->key);
  if (member == here.end()) return;
  // A peer decided that the user had no socket left anywhere while this node holds one: the
  // decision raced the user's rejoin here, or came from a node cut off from the bus (its dead-
  // node cleanup, sent when the link healed). Announce the member again, here and everywhere.
  stats_.members_reannounced++;
  Broadcast(app_id, channel,
            protocol::MakeShared(protocol::MemberAddedFrame(channel, member->second.user_id_json,
                                                            member->second.user_info_json)),
            "", nullptr);
  if (node_.webhooks != nullptr) {
    node_.webhooks->EmitFor(app_id, webhooks::MemberAdded(channel, member->second.user_id_json));
  }
}

void HorizontalAdapter::ReplicateJoin(const PresenceJoin& join) {
  const int64_t seq = ++sequence_;
  replica_.Upsert(identity_.node_id, join.channel, join.socket_id,
                  {join.app_id, join.user_id_json, join.user_info_json, seq});
  if (!health_enabled_) return;
  RequestBody r = NewRequest(RequestType::kPresenceMemberJoined, join.app_id);
  r.channel = join.channel;
  r.socket_id = join.socket_id;
  r.user_id_json = join.user_id_json;
  if (auto info = base::ParseJson(join.user_info_json)) r.user_info = std::move(*info);
  r.sequence_number = seq;
  Tell(std::move(r));
}

void HorizontalAdapter::ReplicateLeave(const std::string& app_id, const std::string& channel,
                                       const std::string& socket_id) {
  const int64_t seq = ++sequence_;
  replica_.Remove(identity_.node_id, channel, socket_id, seq, Clock::now());
  if (!health_enabled_) return;
  RequestBody r = NewRequest(RequestType::kPresenceMemberLeft, app_id);
  r.channel = channel;
  r.socket_id = socket_id;
  r.sequence_number = seq;
  Tell(std::move(r));
}

// ---------------------------------------------------------------------------------------------
// Users

void HorizontalAdapter::NotifyWatchers(const std::string& app_id, const std::string& user_id,
                                       bool online) {
  const std::vector<std::string> watchers = node_.users.WatchersOf(app_id, user_id);
  if (watchers.empty()) return;
  const std::vector<std::string> ids = {user_id};
  auto frame = protocol::MakeShared(online ? protocol::WatchlistEventsFrame(ids, {})
                                           : protocol::WatchlistEventsFrame({}, ids));
  for (const std::string& watcher : watchers) delivery_.ToUser(app_id, watcher, frame, "");
}

void HorizontalAdapter::SignIn(const std::string& app_id, const std::string& user_id,
                               const std::vector<std::string>& watchlist) {
  if (node_.users.SignIn(app_id, user_id, watchlist))
    AnnounceWatchlistChange(app_id, user_id, true);
}

void HorizontalAdapter::SignOut(const std::string& app_id, const std::string& user_id,
                                const std::vector<std::string>& watchlist) {
  if (node_.users.SignOut(app_id, user_id, watchlist)) {
    AnnounceWatchlistChange(app_id, user_id, false);
  }
}

void HorizontalAdapter::AnnounceWatchlistChange(const std::string& app_id,
                                                const std::string& user_id, bool online) {
  auto app = node_.apps.FindById(app_id);
  if (!app || !app->enable_watchlist_events) return;
  if (!clustered_) return NotifyWatchers(app_id, user_id, online);
  // The user came online (went offline) cluster-wide only if no peer holds a connection of it.
  RunOnCluster([this, app_id, user_id, online] {
    RequestBody r = NewRequest(RequestType::kCountUserConnections, app_id);
    r.user_id_json = base::JsonString(user_id);
    Ask(
        std::move(r), [](const ResponseBody& resp) { return resp.sockets_count > 0; },
        [this, app_id, user_id, online](Result result, bool) {
          for (const ResponseBody& resp : result.responses) {
            if (resp.sockets_count > 0) return;  // connected elsewhere
          }
          if (!online && node_.users.Sockets(app_id, user_id) > 0) return;  // back here meanwhile
          NotifyWatchers(app_id, user_id, online);
          RequestBody update = NewRequest(RequestType::kWatchlistUpdate, app_id);
          update.user_id_json = base::JsonString(user_id);
          update.user_info = base::Json{{"online", online}};
          Tell(std::move(update));
        });
  });
}

void HorizontalAdapter::GetWatchlistStatus(const std::string& app_id,
                                           std::vector<std::string> user_ids,
                                           std::function<void(WatchlistStatus)> done) {
  users::WatchlistStatus local = node_.users.Status(app_id, user_ids);
  if (!clustered_ || local.offline.empty()) {
    return done({std::move(local.online), std::move(local.offline)});
  }
  RunOnCluster([this, app_id, local = std::move(local), done = std::move(done)] {
    struct Pending {
      WatchlistStatus status;
      size_t remaining;
    };
    auto p = std::make_shared<Pending>();
    p->status.online = local.online;
    p->remaining = local.offline.size();
    for (const std::string& user : local.offline) {
      RequestBody r = NewRequest(RequestType::kCountUserConnections, app_id);
      r.user_id_json = base::JsonString(user);
      Ask(
          std::move(r), [](const ResponseBody& resp) { return resp.sockets_count > 0; },
          [p, user, done](Result result, bool) {
            bool online = false;
            for (const ResponseBody& resp : result.responses) online |= resp.sockets_count > 0;
            (online ? p->status.online : p->status.offline).push_back(user);
            if (--p->remaining == 0) done(std::move(p->status));
          });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The bus

RequestBody HorizontalAdapter::NewRequest(RequestType type, const std::string& app_id) {
  RequestBody r;
  r.request_type = type;
  r.app_id = app_id;
  r.node_id = identity_.node_id;
  r.request_id = bus::NewUuid();
  return r;
}

void HorizontalAdapter::CountPeers(std::function<void(size_t)> done) {
  const size_t heartbeat_peers = health_.peers();
  transport_->CountNodes([this, heartbeat_peers, done = std::move(done)](std::optional<size_t> n) {
    size_t peers = heartbeat_peers;
    if (n.has_value()) {
      peers = *n > 0 ? *n - 1 : 0;
    } else if (heartbeat_peers == 0 && config_.adapter.driver == "nats" &&
               config_.adapter.nats.nodes_number.has_value()) {
      peers = static_cast<size_t>(std::max<int64_t>(*config_.adapter.nats.nodes_number - 1, 0));
    }
    RunOnCluster([done, peers] { done(peers); });
  });
}

void HorizontalAdapter::Ask(RequestBody request, bus::RequestRouter::EarlyReturn early,
                            std::function<void(Result, bool)> done) {
  if (stopping_) return done(Result{{}, 0, false}, true);
  CountPeers([this, request = std::move(request), early = std::move(early),
              done = std::move(done)](size_t peers) mutable {
    if (peers == 0) return done(Result{{}, 0, true}, false);
    const std::string id = request.request_id;
    const std::string reply_to = transport_->ReplyTo();
    if (!reply_to.empty()) request.reply_to = reply_to;
    auto failed = std::make_shared<bool>(false);
    router_->Expect(id, peers, bus::RequestTimeout(request.request_type, peers, request_timeout_),
                    std::move(early),
                    [this, done = std::move(done), failed, app_id = request.app_id,
                     start = Clock::now()](Result r) {
                      (r.complete ? stats_.requests_resolved : stats_.requests_uncomplete)++;
                      node_.metrics.cluster().RequestSettled(
                          app_id, r.complete, r.responses.size(),
                          std::chrono::duration<double, std::milli>(Clock::now() - start).count());
                      done(std::move(r), *failed);
                    });
    stats_.requests_sent++;
    node_.metrics.cluster().RequestSent(request.app_id);
    transport_->PublishRequest(id, bus::EncodeRequest(request), [this, id, failed](absl::Status s) {
      if (s.ok()) return;
      base::Logger("adapter")->warn("request not published: {}", std::string(s.message()));
      RunOnCluster([this, id, failed] {
        *failed = true;
        router_->Fail(id);
      });
    });
  });
}

void HorizontalAdapter::Tell(RequestBody request) {
  transport_->Publish(bus::Channel::kRequests, bus::EncodeRequest(request), nullptr);
}

void HorizontalAdapter::KeepInCache(const bus::BroadcastMessage& m) {
  if (!node_.cache || !protocol::ClassifyChannel(m.channel).cache) return;
  const std::optional<base::Json> frame = base::ParseJson(m.message);
  if (!frame || !frame->is_object()) return;
  const auto event = frame->find("event");
  const auto data = frame->find("data");
  if (event == frame->end() || !event->is_string()) return;
  std::string text;
  if (data != frame->end()) text = data->is_string() ? data->get<std::string>() : base::Dump(*data);
  node_.cache->Put(m.app_id, m.channel, event->get<std::string>(), std::move(text));
}

void HorizontalAdapter::OnMessage(bus::Incoming message) {
  switch (message.channel) {
    case bus::Channel::kBroadcast: {
      auto m = bus::DecodeBroadcast(message.payload);
      if (!m.ok()) {
        stats_.dropped_messages++;
        return;
      }
      if (m->channel == kFenceChannel) {
        // Through the cluster thread, behind the member events routed there before it.
        if (m->node_id == identity_.node_id) {
          RunOnCluster([this, token = m->message] { EndFence(token, absl::OkStatus()); });
        }
        return;
      }
      if (m->node_id == identity_.node_id || m->presence_replication) return;
      stats_.broadcasts_received++;
      auto frame = protocol::MakeShared(m->message);
      const std::string except = m->except_socket_id.value_or("");
      const bool presence = protocol::ClassifyChannel(m->channel).IsPresence();
      if (auto user = protocol::ServerToUserId(m->channel)) {
        delivery_.ToUser(m->app_id, std::string(*user), frame, except);
      } else if (presence && join_watches_.Any()) {
        // A presence join is waiting for member lists: its channel's member events go through
        // the cluster thread, where the join folds them into the list it sends.
        RunOnCluster([this, app = m->app_id, channel = m->channel, frame, except] {
          if (auto e = JoinWatches::Parse(frame->text())) join_watches_.Record(app, channel, *e);
          delivery_.ToChannel(app, channel, frame, except);
        });
      } else {
        delivery_.ToChannel(m->app_id, m->channel, frame, except);
      }
      // After the removal was handed to the workers, so that a correction follows it everywhere.
      if (presence && frame->text().substr(0, 48).find("pusher_internal:member_removed") !=
                          std::string_view::npos) {
        RunOnCluster([this, app = m->app_id, channel = m->channel, frame] {
          ReannounceIfHeld(app, channel, frame->text());
        });
      }
      if (m->cache_event) KeepInCache(*m);
      node_.metrics.cluster().BroadcastDelivered(m->app_id, m->channel, m->timestamp_ms);
      return;
    }
    case bus::Channel::kRequests:
    case bus::Channel::kNodeInbox: {
      auto r = bus::DecodeRequest(message.payload);
      if (!r.ok()) {
        stats_.dropped_messages++;
        return;
      }
      if (r->node_id == identity_.node_id) return;
      if (r->target_node_id.has_value() && *r->target_node_id != identity_.node_id) return;
      std::string address =
          !message.reply_to.empty() ? std::move(message.reply_to) : r->reply_to.value_or("");
      RunOnCluster([this, r = std::move(*r), address = std::move(address)]() mutable {
        HandleRequest(std::move(r), std::move(address));
      });
      return;
    }
    case bus::Channel::kResponses:
    case bus::Channel::kReplyInbox: {
      auto r = bus::DecodeResponse(message.payload);
      if (!r.ok()) {
        stats_.dropped_messages++;
        return;
      }
      RunOnCluster([this, r = std::move(*r)]() mutable { router_->OnResponse(std::move(r)); });
      return;
    }
  }
}

void HorizontalAdapter::OnResubscribed() {
  // Joins and leaves were missed while the subscription was down.
  RunOnCluster([this] { ResyncWithPeers(); });
}

void HorizontalAdapter::ResyncWithPeers() {
  replica_.DropAllBut(identity_.node_id);
  // Each peer gets this node's entries again when its next heartbeat arrives (after it took the
  // resync heartbeat below), as a newly seen peer would. The peers are not forgotten: a socket
  // rejoining a presence channel meanwhile still gets the members they hold.
  resync_peers_.clear();
  for (const auto& [id, peer] : health_.table()) resync_peers_.insert(id);
  resync_pending_ = true;
  if (health_enabled_) SendHeartbeat(std::nullopt);
}

void HorizontalAdapter::OnHealthChanged(bool healthy) {
  bus_healthy_ = healthy;
  base::Logger("adapter")->log(healthy ? spdlog::level::info : spdlog::level::err,
                               "the {} bus is {}", transport_->name(), healthy ? "up" : "down");
}

void HorizontalAdapter::Respond(const std::string& address, ResponseBody response) {
  response.node_id = identity_.node_id;
  std::string payload = bus::EncodeResponse(response);
  if (address.empty()) {
    transport_->Publish(bus::Channel::kResponses, std::move(payload), nullptr);
  } else {
    transport_->Reply(address, std::move(payload), nullptr);
  }
}

void HorizontalAdapter::HandleRequest(RequestBody request, std::string address) {
  stats_.requests_received++;
  node_.metrics.cluster().RequestReceived(request.app_id);
  ResponseBody resp;
  resp.request_id = request.request_id;
  resp.app_id = request.app_id;
  const std::string& app = request.app_id;
  const std::string channel = request.channel.value_or("");
  switch (request.request_type) {
    case RequestType::kChannelMembers:
    case RequestType::kChannelMembersCount:
      for (auto& [key, info] : node_.presence.MemberInfos(app, channel)) {
        resp.members.emplace(key, bus::PresenceMemberInfo{info.user_id_json, info.user_info_json});
      }
      resp.members_count = static_cast<int64_t>(resp.members.size());
      if (request.request_type == RequestType::kChannelMembersCount) resp.members.clear();
      break;
    case RequestType::kChannelSocketsCount:
      resp.sockets_count = static_cast<int64_t>(node_.channels.Count(app, channel));
      break;
    case RequestType::kBatchChannelSocketsCount:
      for (const std::string& c : request.channels.value_or(std::vector<std::string>{})) {
        const size_t n = node_.channels.Count(app, c);
        if (n > 0) resp.channels_with_sockets_count[c] = static_cast<int64_t>(n);
      }
      break;
    case RequestType::kChannelSockets:
    case RequestType::kSockets:
    case RequestType::kSocketExistsInChannel: {
      // Socket ids live in the workers' indices: gather them, answer when all have.
      const bool exists_question = request.request_type == RequestType::kSocketExistsInChannel;
      const std::string socket = request.socket_id.value_or("");
      delivery_.SocketIds(
          app, request.request_type == RequestType::kSockets ? "" : channel,
          [this, resp, address, exists_question, socket](std::vector<std::string> ids) mutable {
            RunOnCluster([this, resp = std::move(resp), address, exists_question, socket,
                          ids = std::move(ids)]() mutable {
              if (exists_question) {
                resp.exists = std::find(ids.begin(), ids.end(), socket) != ids.end();
              } else {
                resp.sockets_count = static_cast<int64_t>(ids.size());
                resp.socket_ids = std::move(ids);
              }
              Respond(address, std::move(resp));
            });
          });
      return;
    }
    case RequestType::kSocketsCount:
      resp.sockets_count = node_.connections.AppConnections(app);
      break;
    case RequestType::kChannels:
      for (auto& [name, n] : node_.channels.List(app, "")) resp.channels.push_back(name);
      break;
    case RequestType::kChannelsWithSocketsCount:
      for (auto& [name, n] : node_.channels.List(app, "")) {
        resp.channels_with_sockets_count[name] = static_cast<int64_t>(n);
      }
      break;
    case RequestType::kCountUserConnectionsInChannel:
      resp.sockets_count = static_cast<int64_t>(
          node_.presence.MemberSockets(app, channel, request.UserIdKey().value_or("")));
      break;
    case RequestType::kCountUserConnections:
      resp.sockets_count =
          static_cast<int64_t>(node_.users.Sockets(app, request.UserIdKey().value_or("")));
      break;
    case RequestType::kTerminateUserConnections:
    case RequestType::kForceReconnect: {
      const bool reconnect = request.request_type == RequestType::kForceReconnect;
      delivery_.DisconnectUser(
          app, request.UserIdKey().value_or(""),
          reconnect ? protocol::close_code::kReconnectNow : protocol::close_code::kUnauthorized,
          reconnect ? protocol::close_message::kForceReconnect
                    : protocol::close_message::kTerminated);
      resp.exists = true;
      break;
    }
    case RequestType::kWatchlistUpdate: {
      bool online = false;
      if (request.user_info.has_value() && request.user_info->is_object()) {
        auto it = request.user_info->find("online");
        online = it != request.user_info->end() && it->is_boolean() && it->get<bool>();
      }
      NotifyWatchers(app, request.UserIdKey().value_or(""), online);
      return;
    }
    case RequestType::kPresenceMemberJoined:
    case RequestType::kPresenceMemberUpdated: {
      if (!request.socket_id.has_value() || !request.user_id_json.has_value()) return;
      replica_.Upsert(request.node_id, channel, *request.socket_id,
                      {app, *request.user_id_json,
                       request.user_info.has_value() ? base::Dump(*request.user_info) : "null",
                       request.sequence_number.value_or(0)});
      return;
    }
    case RequestType::kPresenceMemberLeft:
      if (request.socket_id.has_value()) {
        replica_.Remove(request.node_id, channel, *request.socket_id,
                        request.sequence_number.value_or(0), Clock::now());
      }
      return;
    case RequestType::kPresenceStateSync:
      if (request.user_info.has_value()) replica_.Merge(request.node_id, *request.user_info);
      return;
    case RequestType::kHeartbeat:
      return OnHeartbeat(request);
    case RequestType::kNodeDead:
      return OnNodeDead(request);
    case RequestType::kAppChanged: {
      if (!app_changed_) return;
      std::string action;
      std::string old_key;
      if (request.user_info.has_value() && request.user_info->is_object()) {
        auto a = request.user_info->find("action");
        if (a != request.user_info->end() && a->is_string()) action = a->get<std::string>();
        auto k = request.user_info->find("key");
        if (k != request.user_info->end() && k->is_string()) old_key = k->get<std::string>();
      }
      app_changed_(app, action, old_key);
      return;
    }
    case RequestType::kChannelCountUpdate:
    case RequestType::kChannelCountSync:
      return;  // reserved
  }
  if (!bus::IsFireAndForget(request.request_type)) Respond(address, std::move(resp));
}

// ---------------------------------------------------------------------------------------------
// Cluster health

base::Json HorizontalAdapter::HeartbeatMetadata() {
  base::Json apps = base::Json::object();
  auto per_app = node_.connections.PerApp();
  std::sort(per_app.begin(), per_app.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  if (per_app.size() > 1000) per_app.resize(1000);
  for (const auto& [app, n] : per_app) apps[app] = {{"connections", n}, {"channels", 0}};
  int64_t channels = 0;
  for (const auto& [app, n] : node_.channels.ChannelsPerApp()) {
    channels += static_cast<int64_t>(n);
    if (apps.contains(app)) apps[app]["channels"] = n;
  }
  const bool draining = node_.draining.load();
  base::Json out = {{"process_id", info_.process_id},
                    {"version", info_.version},
                    {"started_at_ms", info_.started_at_ms},
                    {"host", info_.host},
                    {"port", info_.port},
                    {"connections", node_.connections.Total()},
                    {"channels", channels},
                    {"presence_members", node_.presence.TotalSockets()},
                    {"memory_bytes", base::ResidentMemoryBytes()},
                    {"apps", std::move(apps)},
                    {"ready", !draining},
                    {"bus_healthy", bus_healthy_.load()},
                    {"draining", draining}};
  if (resync_pending_) out["resync"] = true;
  return out;
}

void HorizontalAdapter::SendHeartbeat(const std::optional<std::string>& to_node) {
  // Once Stop() has published this node's NodeDead, a heartbeat (the reply to a new node, a
  // resync) would make peers count it again until node_timeout_ms, or take it for a zombie.
  if (stopping_) return;
  RequestBody r = NewRequest(RequestType::kHeartbeat, "cluster");
  r.timestamp = WallMillis() / 1000;
  r.user_info = HeartbeatMetadata();
  resync_pending_ = false;
  if (to_node.has_value()) {
    r.target_node_id = *to_node;
    transport_->PublishToNode(*to_node, bus::EncodeRequest(r), nullptr);
  } else {
    Tell(std::move(r));  // not retried: the next interval is the retry
  }
}

void HorizontalAdapter::ScheduleHeartbeat() {
  heartbeat_timer_.expires_after(
      health_enabled_
          ? std::chrono::milliseconds(config_.adapter.cluster_health.heartbeat_interval_ms)
          : std::chrono::milliseconds(1000));  // local heartbeats for an embedded observer
  heartbeat_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    SendHeartbeat(std::nullopt);
    replica_.PurgeTombstones(Clock::now());
    ScheduleHeartbeat();
  });
}

void HorizontalAdapter::SyncPresenceTo(const std::string& node) {
  auto snapshot = replica_.Snapshot(identity_.node_id);
  if (!snapshot.has_value()) return;
  RequestBody r = NewRequest(RequestType::kPresenceStateSync, "cluster");
  r.target_node_id = node;
  r.user_info = std::move(*snapshot);
  r.sequence_number = sequence_;
  transport_->PublishToNode(node, bus::EncodeRequest(r), nullptr);
}

void HorizontalAdapter::OnHeartbeat(const RequestBody& request) {
  const std::string& sender = request.node_id;
  const auto now = Clock::now();
  bool resync = false;
  if (request.user_info.has_value() && request.user_info->is_object()) {
    auto it = request.user_info->find("resync");
    resync = it != request.user_info->end() && it->is_boolean() && it->get<bool>();
  }
  // It was declared dead while alive: tell it, so that its users rejoin.
  // A node heartbeats as soon as it can publish, possibly before its subscriptions are back (a
  // Redis subscriber that reconnects after the command connection): that NodeDead is lost. Its
  // resync heartbeat says it was not listening, so it is told once more then.
  bool tell = health_.TakeRecentlyDead(sender, now);
  if (tell && !resync) told_dead_.insert(sender);
  if (resync && told_dead_.erase(sender) > 0) tell = true;
  if (tell) {
    RequestBody dead = NewRequest(RequestType::kNodeDead, "cluster");
    dead.dead_node_id = sender;
    dead.target_node_id = sender;
    dead.timestamp = WallMillis() / 1000;
    transport_->PublishToNode(sender, bus::EncodeRequest(dead), nullptr);
  }
  if (resync) {
    replica_.TakeOwner(sender);
    health_.Remove(sender, now);
    health_.TakeRecentlyDead(sender, now);  // a resync is not a zombie
  }
  const bool is_new = health_.OnHeartbeat(sender, now, request.user_info.value_or(base::Json()));
  const bool owed_sync = resync_peers_.erase(sender) > 0;
  PeersChanged();
  if (!is_new && !owed_sync) return;
  // Tell it about this node at once, then send it this node's presence entries, staggered.
  SendHeartbeat(sender);
  auto timer = std::make_shared<net::steady_timer>(
      io_, std::chrono::milliseconds(100 + Fnv1a(identity_.node_id) % 5000));
  timer->async_wait([this, timer, sender](boost::system::error_code ec) {
    if (!ec && !stopping_) SyncPresenceTo(sender);
  });
}

// The heartbeat table changed: the metric, and what the transport waits for after a
// reconnection (Transport::ExpectPeers).
void HorizontalAdapter::PeersChanged() {
  known_peers_ = health_.peers();
  transport_->ExpectPeers(known_peers_.load());
}

void HorizontalAdapter::OnNodeDead(const RequestBody& request) {
  const std::string dead = request.dead_node_id.value_or("");
  if (dead.empty()) return;
  const auto now = Clock::now();
  if (dead == identity_.node_id) {
    if (request.node_id == identity_.node_id) return;
    // Every peer that saw this node die says so: the first one starts the resync, the others
    // (within a node timeout) would only close the rejoined sockets a second time.
    const auto timeout = std::chrono::milliseconds(config_.adapter.cluster_health.node_timeout_ms);
    if (declared_dead_at_.has_value() && now - *declared_dead_at_ < timeout) return;
    declared_dead_at_ = now;
    // Declared dead while alive (a pause, a partition): the cluster already sent member_removed
    // for this node's users. Their sockets reconnect and join again.
    base::Logger("adapter")->warn("node {} says this node is dead: resyncing", request.node_id);
    delivery_.CloseWhere("", protocol::close_code::kReconnectNow,
                         protocol::close_message::kServerClosing,
                         [](const connection::Connection& c) { return c.HasPresence(); });
    ResyncWithPeers();
    return;
  }
  health_.Remove(dead, now);
  PeersChanged();
  replica_.TakeOwner(dead);
}

void HorizontalAdapter::ScheduleCleanup() {
  cleanup_timer_.expires_after(
      std::chrono::milliseconds(config_.adapter.cluster_health.cleanup_interval_ms));
  cleanup_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    CleanUpDeadNodes();
    ScheduleCleanup();
  });
}

void HorizontalAdapter::CleanUpDeadNodes() {
  const auto now = Clock::now();
  const std::vector<std::string> dead = health_.Expired(
      now, std::chrono::milliseconds(config_.adapter.cluster_health.node_timeout_ms));
  if (dead.empty() || !health_.IsLeader(dead)) return;
  for (const std::string& node : dead) {
    health_.Remove(node, now);
    told_dead_.erase(node);
    PeersChanged();
    stats_.dead_nodes_cleaned++;
    base::Logger("adapter")->warn("node {} missed its heartbeats: removing its presence", node);
    // One member_removed per distinct user the dead node held, unless it is still connected
    // somewhere.
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (auto& [channel, sockets] : replica_.TakeOwner(node)) {
      for (auto& [socket_id, e] : sockets) {
        const std::string key = MemberKey(e.user_id_json);
        if (!seen.emplace(e.app_id, channel, key).second) continue;
        RemoveIfGone(e.app_id, channel, key, e.user_id_json);
      }
    }
    // Its sockets leave the cluster-wide occupancy counts; the channels that empties are vacated.
    if (node_.occupancy != nullptr) {
      node_.occupancy->Reclaim(node, [this](const std::string& app_id, const std::string& channel) {
        if (node_.webhooks != nullptr) {
          node_.webhooks->EmitFor(app_id, webhooks::ChannelVacated(channel));
        }
      });
    }
    if (health_.peers() == 0) continue;
    RequestBody r = NewRequest(RequestType::kNodeDead, "cluster");
    r.dead_node_id = node;
    r.timestamp = WallMillis() / 1000;
    Tell(std::move(r));
  }
}

}  // namespace sockudo::dataplane::adapter
