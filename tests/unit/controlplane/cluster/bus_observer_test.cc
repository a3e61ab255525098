// The control plane's services over a BusObserver on the in-process hub, with two scripted data
// nodes that heartbeat and answer requests the way sockudo-node does.
#include "controlplane/cluster/bus_observer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <map>

#include "common/apps/memory/writable_memory_app_store.h"
#include "common/bus/local/local_hub.h"
#include "common/bus/local/local_transport.h"
#include "common/limits/memory_rate_limiter.h"
#include "controlplane/service/channels_service.h"
#include "controlplane/service/cluster_service.h"
#include "controlplane/service/events_service.h"
#include "controlplane/service/users_service.h"
#include "tests/testutil/bus_listener.h"

namespace sockudo::controlplane::cluster {
namespace {

using namespace std::chrono_literals;

// A data node on the hub: heartbeats on demand, answers requests from a script, records the
// rest (AppChanged, broadcasts).
class ScriptedNode : public bus::Transport::Listener {
 public:
  ScriptedNode(bus::local::LocalHub& hub, std::string id) : transport_(hub), id_(std::move(id)) {}
  ~ScriptedNode() override { transport_.Stop(); }

  void Start() {
    ASSERT_TRUE(transport_.Start({id_, bus::UuidHex(bus::NewUuid()), false}, this).ok());
  }
  void Heartbeat(int connections) {
    bus::RequestBody hb;
    hb.request_type = bus::RequestType::kHeartbeat;
    hb.node_id = id_;
    hb.app_id = "cluster";
    hb.request_id = bus::NewUuid();
    hb.user_info = base::Json{{"connections", connections},
                              {"channels", 1},
                              {"host", "127.0.0.1"},
                              {"port", 6001},
                              {"apps", {{"a1", {{"connections", connections}, {"channels", 1}}}}}};
    transport_.Publish(bus::Channel::kRequests, bus::EncodeRequest(hb), nullptr);
  }

  std::function<void(const bus::RequestBody&, bus::ResponseBody*)> answer;
  testutil::RecordingListener seen;

  void OnMessage(bus::Incoming message) override {
    if (message.channel == bus::Channel::kRequests) {
      auto r = bus::DecodeRequest(message.payload);
      if (r.ok() && !bus::IsFireAndForget(r->request_type) && answer) {
        bus::ResponseBody resp;
        resp.request_id = r->request_id;
        resp.node_id = id_;
        resp.app_id = r->app_id;
        answer(*r, &resp);
        transport_.Reply(r->reply_to.value_or(""), bus::EncodeResponse(resp), nullptr);
      }
    }
    seen.OnMessage(std::move(message));
  }
  void OnResubscribed() override {}

 private:
  bus::local::LocalTransport transport_;
  std::string id_;
};

template <typename T>
absl::StatusOr<T> Wait(const std::function<void(service::Callback<T>)>& call) {
  std::promise<absl::StatusOr<T>> p;
  call([&p](absl::StatusOr<T> r) { p.set_value(std::move(r)); });
  auto f = p.get_future();
  if (f.wait_for(10s) != std::future_status::ready) return absl::DeadlineExceededError("no answer");
  return f.get();
}

class BusObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = apps::WritableMemoryAppStore::FromApps({});
    ASSERT_TRUE(store.ok());
    store_ = *std::move(store);
    apps::App app;
    app.id = "a1";
    app.key = "k1";
    app.secret = "s1";
    ASSERT_TRUE(store_->Create(app).ok());
    observer_ = std::make_unique<BusObserver>(
        std::make_unique<bus::local::LocalTransport>(hub_),
        BusObserverOptions{
            .heartbeat_interval = 200ms, .node_timeout = 600ms, .request_timeout = 1000ms});
    ASSERT_TRUE(observer_->Start().ok());
    for (auto* n : {&a_, &b_}) n->Start();
  }
  void TearDown() override { observer_->Stop(); }

  void BothAlive() {
    a_.Heartbeat(3);
    b_.Heartbeat(4);
    ASSERT_TRUE(testutil::Eventually([&] { return observer_->Nodes().size() == 2; }));
  }

  bus::local::LocalHub hub_;
  std::unique_ptr<apps::WritableMemoryAppStore> store_;
  std::unique_ptr<BusObserver> observer_;
  ScriptedNode a_{hub_, "node-a"};
  ScriptedNode b_{hub_, "node-b"};
};

TEST_F(BusObserverTest, HeartbeatsBuildTheViewAndTheHealthSumsTheLiving) {
  BothAlive();
  service::ClusterService cluster(observer_.get());
  auto health = cluster.GetClusterHealth({});
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->alive_nodes(), 2);
  EXPECT_EQ(health->connections(), 7);
  EXPECT_EQ(health->leader(), "node-a");
  ASSERT_EQ(health->apps_size(), 1);
  EXPECT_EQ(health->apps(0).connections(), 7);
  EXPECT_EQ(health->status(), v1::ClusterHealth::HEALTHY);
  auto node = cluster.GetNode([] {
    v1::GetNodeRequest r;
    r.set_name("nodes/node-b");
    return r;
  }());
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->address(), "127.0.0.1:6001");
  EXPECT_EQ(node->state(), v1::Node::ALIVE);

  // node-b goes silent: suspect, then dead, and a watcher hears it.
  std::vector<v1::ClusterEvent> snapshot;
  std::mutex mu;
  std::vector<v1::ClusterEvent> events;
  uint64_t id = cluster.Watch(
      [&](v1::ClusterEvent e) {
        std::lock_guard lock(mu);
        events.push_back(std::move(e));
      },
      &snapshot);
  EXPECT_EQ(snapshot.size(), 2u);
  ASSERT_TRUE(testutil::Eventually(
      [&] {
        a_.Heartbeat(3);
        std::lock_guard lock(mu);
        for (const auto& e : events) {
          if (e.type() == v1::ClusterEvent::NODE_DEAD && e.node().id() == "node-b") return true;
        }
        return false;
      },
      5s));
  cluster.Unwatch(id);
  EXPECT_EQ(cluster.GetClusterHealth({})->status(), v1::ClusterHealth::DEGRADED);
}

TEST_F(BusObserverTest, UsersAndChannelsAreGatheredFromEveryNode) {
  BothAlive();
  auto answer = [](int n) {
    return [n](const bus::RequestBody& r, bus::ResponseBody* resp) {
      switch (r.request_type) {
        case bus::RequestType::kCountUserConnections:
          resp->sockets_count = n;
          break;
        case bus::RequestType::kChannelsWithSocketsCount:
          resp->channels_with_sockets_count = {{"news", n}, {"presence-room", 1}};
          if (n == 2) resp->channels_with_sockets_count["private-b"] = 1;
          break;
        case bus::RequestType::kChannelSocketsCount:
          resp->sockets_count = 1;
          break;
        case bus::RequestType::kChannelMembers:
          resp->members["u1"] = {"\"u1\"", "{\"n\":1}"};
          resp->members[n == 1 ? "u2" : "u3"] = {"\"x\"", "null"};
          break;
        default:
          break;
      }
    };
  };
  a_.answer = answer(1);
  b_.answer = answer(2);
  service::UsersService users(observer_.get(), store_.get());
  service::ChannelsService channels(observer_.get(), store_.get());

  v1::CountUserConnectionsRequest count;
  count.set_name("apps/a1/users/u1");
  auto counted = Wait<v1::CountUserConnectionsResponse>(
      [&](auto done) { users.CountUserConnections(count, std::move(done)); });
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->connections(), 3);
  EXPECT_TRUE(counted->answer().complete());
  EXPECT_EQ(counted->answer().responses_received(), 2);

  v1::ListChannelsRequest list;
  list.set_parent("apps/a1");
  list.set_page_size(2);
  auto page = Wait<v1::ListChannelsResponse>(
      [&](auto done) { channels.ListChannels(list, std::move(done)); });
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->channels_size(), 2);
  EXPECT_EQ(page->channels(0).channel(), "news");
  EXPECT_EQ(page->channels(0).subscription_count(), 3);
  EXPECT_EQ(page->channels(1).channel(), "presence-room");
  EXPECT_EQ(page->total_size(), 3);
  list.set_page_token(page->next_page_token());
  auto rest = Wait<v1::ListChannelsResponse>(
      [&](auto done) { channels.ListChannels(list, std::move(done)); });
  ASSERT_EQ(rest->channels_size(), 1);
  EXPECT_EQ(rest->channels(0).channel(), "private-b");
  EXPECT_TRUE(rest->next_page_token().empty());

  v1::GetChannelRequest get;
  get.set_name("apps/a1/channels/presence-room");
  auto room = Wait<v1::Channel>([&](auto done) { channels.GetChannel(get, std::move(done)); });
  ASSERT_TRUE(room.ok());
  EXPECT_EQ(room->subscription_count(), 2);
  EXPECT_EQ(room->user_count(), 3);  // u1 on both nodes counts once

  // Members united by user id (u1 is on both nodes), sorted, in pages of 2.
  v1::ListMembersRequest members;
  members.set_parent("apps/a1/channels/presence-room");
  members.set_page_size(2);
  auto first = Wait<v1::ListMembersResponse>(
      [&](auto done) { channels.ListMembers(members, std::move(done)); });
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->members_size(), 2);
  EXPECT_EQ(first->members(0).user_id(), "u1");
  EXPECT_EQ(first->members(1).user_id(), "u2");
  EXPECT_EQ(first->total_size(), 3);
  members.set_page_token(first->next_page_token());
  auto second = Wait<v1::ListMembersResponse>(
      [&](auto done) { channels.ListMembers(members, std::move(done)); });
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->members_size(), 1);
  EXPECT_EQ(second->members(0).user_id(), "u3");
  EXPECT_TRUE(second->next_page_token().empty());
  members.set_page_token("not base64!");
  auto bad_token = Wait<v1::ListMembersResponse>(
      [&](auto done) { channels.ListMembers(members, std::move(done)); });
  EXPECT_EQ(bad_token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_token.status().message()), testing::HasSubstr("page_token"));

  members.clear_page_token();
  members.set_parent("apps/a1/channels/news");
  auto not_presence = Wait<v1::ListMembersResponse>(
      [&](auto done) { channels.ListMembers(members, std::move(done)); });
  EXPECT_EQ(not_presence.status().code(), absl::StatusCode::kInvalidArgument);
  v1::ListChannelsRequest unknown;
  unknown.set_parent("apps/nope");
  auto missing = Wait<v1::ListChannelsResponse>(
      [&](auto done) { channels.ListChannels(unknown, std::move(done)); });
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BusObserverTest, AnUnansweredRequestIsIncompleteNotAnError) {
  BothAlive();
  a_.answer = [](const bus::RequestBody&, bus::ResponseBody* r) { r->sockets_count = 1; };
  // node-b never answers.
  service::UsersService users(observer_.get(), store_.get());
  v1::CountUserConnectionsRequest count;
  count.set_name("apps/a1/users/u1");
  auto counted = Wait<v1::CountUserConnectionsResponse>(
      [&](auto done) { users.CountUserConnections(count, std::move(done)); });
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->connections(), 1);
  EXPECT_FALSE(counted->answer().complete());
  EXPECT_EQ(counted->answer().expected_responses(), 2);
}

absl::StatusOr<v1::PublishEventResponse> Publish(service::EventsService& events,
                                                 const v1::PublishEventRequest& request) {
  return Wait<v1::PublishEventResponse>(
      [&](auto done) { events.PublishEvent(request, std::move(done)); });
}

TEST_F(BusObserverTest, PublishEventValidatesLikeTheHttpApiAndReachesEveryNode) {
  BothAlive();
  service::EventsService events(observer_.get(), store_.get(), apps::LimitDefaults{}, nullptr);
  v1::PublishEventRequest bad;
  bad.set_parent("apps/a1");
  bad.set_name("e");
  bad.set_data("x");
  bad.add_channels("bad channel");
  auto refused = Publish(events, bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "channels: Invalid channel name: bad channel");

  v1::PublishEventRequest good = bad;
  good.clear_channels();
  good.add_channels("news");
  auto sent = Publish(events, good);
  ASSERT_TRUE(sent.ok()) << sent.status();
  for (auto* n : {&a_, &b_}) {
    ASSERT_TRUE(n->seen.WaitFor([&] {
      for (const auto& m : n->seen.messages_locked()) {
        if (m.channel != bus::Channel::kBroadcast) continue;
        auto b = bus::DecodeBroadcast(m.payload);
        if (b.ok() && b->channel == "news" && b->node_id == observer_->id()) return true;
      }
      return false;
    }));
  }
}

TEST_F(BusObserverTest, PublishEventFlagsCacheChannelsAndIsRefusedForADisabledApp) {
  BothAlive();
  service::EventsService events(observer_.get(), store_.get(), apps::LimitDefaults{}, nullptr);
  v1::PublishEventRequest request;
  request.set_parent("apps/a1");
  request.set_name("price");
  request.set_data("1");
  request.add_channels("cache-prices");
  request.add_channels("news");
  ASSERT_TRUE(Publish(events, request).ok());
  std::map<std::string, bool> cache_event;  // channel -> the flag it was broadcast with
  ASSERT_TRUE(a_.seen.WaitFor([&] {
    cache_event.clear();
    for (const auto& m : a_.seen.messages_locked()) {
      if (m.channel != bus::Channel::kBroadcast) continue;
      if (auto b = bus::DecodeBroadcast(m.payload); b.ok())
        cache_event[b->channel] = b->cache_event;
    }
    return cache_event.size() == 2;
  }));
  EXPECT_TRUE(cache_event["cache-prices"]);
  EXPECT_FALSE(cache_event["news"]);

  auto app = store_->FindById("a1");
  ASSERT_NE(app, nullptr);
  apps::App disabled = *app;
  disabled.enabled = false;
  ASSERT_TRUE(store_->Update(disabled).ok());
  auto refused = Publish(events, request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(), "apps/a1: the app is disabled; enable it to publish");
}

TEST_F(BusObserverTest, PublishEventSpendsTheAppsBackendEventBudgetOneTokenAChannel) {
  BothAlive();
  auto app = store_->FindById("a1");
  ASSERT_NE(app, nullptr);
  apps::App limited = *app;
  limited.max_backend_events_per_second = 1;  // a bucket of one token: two channels never fit
  ASSERT_TRUE(store_->Update(limited).ok());
  limits::MemoryRateLimiter limiter;
  service::EventsService events(observer_.get(), store_.get(), apps::LimitDefaults{}, &limiter);
  v1::PublishEventRequest one;
  one.set_parent("apps/a1");
  one.set_name("e");
  one.set_data("x");
  one.add_channels("budget-one");
  v1::PublishEventRequest two = one;
  two.clear_channels();
  two.add_channels("budget-two-a");
  two.add_channels("budget-two-b");
  auto refused = Publish(events, two);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              testing::HasSubstr("apps/a1: over max_backend_events_per_second (1 a second"));
  // A refusal takes no token: one channel still fits.
  ASSERT_TRUE(Publish(events, one).ok());
  // The bus delivers in order: once the later event is seen, the refused one would have been.
  ASSERT_TRUE(a_.seen.WaitFor([&] {
    for (const auto& m : a_.seen.messages_locked()) {
      if (m.channel != bus::Channel::kBroadcast) continue;
      if (auto b = bus::DecodeBroadcast(m.payload); b.ok() && b->channel == "budget-one") {
        return true;
      }
    }
    return false;
  }));
  for (const auto& m : a_.seen.messages()) {
    if (m.channel != bus::Channel::kBroadcast) continue;
    auto b = bus::DecodeBroadcast(m.payload);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->channel.rfind("budget-two", 0), std::string::npos) << b->channel;
  }
}

TEST_F(BusObserverTest, WithNoNodeKnownAnAskIsCompleteAndEmpty) {
  // No node has heartbeated: nothing to ask, the answer is complete and empty.
  service::UsersService users(observer_.get(), store_.get());
  v1::CountUserConnectionsRequest count;
  count.set_name("apps/a1/users/u1");
  auto none = Wait<v1::CountUserConnectionsResponse>(
      [&](auto done) { users.CountUserConnections(count, std::move(done)); });
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->answer().expected_responses(), 0);
  EXPECT_TRUE(none->answer().complete());
}

}  // namespace
}  // namespace sockudo::controlplane::cluster
