// HorizontalAdapter nodes clustered in one process over one in-process bus (spec/cluster.md
// §5-§10): broadcast fan-out and exclusion, cross-node counts and lists with complete / partial
// answers, duplicate responses, presence across nodes (member_added / member_removed exactly
// once), dead-node detection by the leader, and graceful leave. The nodes' config names a
// clustered driver, so they behave as on Redis or NATS. Every wait polls a condition with a
// deadline.
#include "dataplane/adapter/horizontal_adapter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/bus/envelope.h"
#include "common/protocol/frame.h"
#include "common/protocol/shared_frame.h"
#include "tests/testutil/cluster_fixture.h"

namespace sockudo::dataplane::adapter {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testutil::ClusterFixture;
using testutil::ClusterNode;
using Client = ClusterNode::Client;
using Clock = std::chrono::steady_clock;

constexpr char kApp[] = "app-id";
constexpr char kRoom[] = "presence-room";

size_t Count(const Client& c, const std::string& frame) {
  return static_cast<size_t>(
      std::count(c.transport.frames.begin(), c.transport.frames.end(), frame));
}
bool Has(const Client& c, const std::string& frame) { return Count(c, frame) > 0; }
bool Subscribed(const Client& c, const std::string& channel) {
  for (const std::string& f : c.transport.frames) {
    if (f.find("pusher_internal:subscription_succeeded") != std::string::npos &&
        f.find("\"channel\":\"" + channel + "\"") != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string EventFrame(const std::string& channel, const std::string& data) {
  return protocol::ChannelEventFrame("my-event", channel, data);
}
std::string MemberAdded(const std::string& user_id_json, const std::string& info = "null") {
  return protocol::MemberAddedFrame(kRoom, user_id_json, info);
}
std::string MemberRemoved(const std::string& user_id_json) {
  return protocol::MemberRemovedFrame(kRoom, user_id_json);
}

std::map<std::string, size_t> Subscriptions(const ChannelList& list) {
  std::map<std::string, size_t> out;
  for (const auto& [name, counts] : list) out[name] = counts.subscription_count;
  return out;
}

class HorizontalAdapterTest : public ::testing::Test {
 protected:
  // Runs one request through `node`'s cluster thread and waits for its answer: what that thread
  // had queued before (e.g. the broadcast decided in a finished request's callback) is done.
  void Barrier(ClusterFixture& cluster, ClusterNode& node) {
    auto answer = cluster.Await<Answer<ChannelCounts>>(
        [&](auto done) { node.adapter->GetChannel(kApp, "barrier", done); });
    ASSERT_TRUE(answer.has_value());
  }
  // Broadcasts `text` from `from` and waits until every client in `to` has it: whatever `from`
  // sent before has then been delivered too (one ordered path per sender and receiver).
  void Marker(ClusterFixture& cluster, ClusterNode& from, const std::string& channel,
              const std::vector<Client*>& to, const std::string& text) {
    from.adapter->Broadcast(kApp, channel, protocol::MakeShared(text), "", nullptr);
    ASSERT_TRUE(cluster.WaitUntil([&] {
      return std::all_of(to.begin(), to.end(), [&](Client* c) { return Has(*c, text); });
    })) << "marker not delivered: " + text;
  }
  // Waits until `node` has finished `finished` requests in all (answered or timed out): e.g. the
  // "is the user still connected anywhere?" question of a presence leave.
  void WaitForRequests(ClusterFixture& cluster, ClusterNode& node, int64_t finished) {
    ASSERT_TRUE(cluster.WaitUntil([&] {
      const auto& s = node.adapter->stats();
      return s.requests_resolved.load() + s.requests_uncomplete.load() >= finished;
    }));
  }
  // Runs a fence on `node` and waits for its end; `at_end` runs in the fence's callback (e.g. to
  // see what the node's held worker has queued at that moment).
  static absl::Status AwaitFence(ClusterNode& node, std::function<void()> at_end = nullptr) {
    auto ended = std::make_shared<std::promise<absl::Status>>();
    node.adapter->Fence(milliseconds(2000), [ended, at_end](absl::Status s) {
      if (at_end) at_end();
      ended->set_value(std::move(s));
    });
    auto answer = ended->get_future();
    if (answer.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
      return absl::DeadlineExceededError("the fence never ended");
    }
    return answer.get();
  }
  static int64_t Finished(ClusterNode& node) {
    const auto& s = node.adapter->stats();
    return s.requests_resolved.load() + s.requests_uncomplete.load();
  }
};

// ---------------------------------------------------------------------------------------------
// Broadcast (§5)

TEST_F(HorizontalAdapterTest, BroadcastReachesSubscribersOnPeersAndIsDeliveredOnceLocally) {
  ClusterFixture cluster(2);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  Client& a1 = a.Connect("1.1");
  Client& b1 = b.Connect("2.1");
  Client& b_other = b.Connect("2.2");
  a.Subscribe(a1, "news");
  b.Subscribe(b1, "news");
  b.Subscribe(b_other, "sports");

  const std::string frame = EventFrame("news", R"({"n":1})");
  auto published = cluster.Await<absl::Status>([&](auto done) {
    a.adapter->Broadcast(kApp, "news", protocol::MakeShared(frame), "", done);
  });
  ASSERT_TRUE(published.has_value());
  EXPECT_TRUE(published->ok()) << *published;
  ASSERT_TRUE(cluster.WaitUntil([&] { return Has(b1, frame); }));
  EXPECT_EQ(Count(b1, frame), 1u);
  EXPECT_EQ(Count(a1, frame), 1u);
  EXPECT_FALSE(Has(b_other, frame));  // another channel
  EXPECT_EQ(b.adapter->stats().broadcasts_received.load(), 1);
  EXPECT_EQ(a.adapter->stats().broadcasts_received.load(), 0);

  // A's own message coming back over the bus (an echoing broker) is never delivered again, nor
  // is a Protocol V2 presence-replication message; the foreign marker after them is.
  testutil::FakePeer& peer = cluster.AddPeer();
  bus::BroadcastMessage echo{a.adapter->node_id(), kApp, "news", frame, std::nullopt, std::nullopt};
  peer.Publish(bus::Channel::kBroadcast, bus::EncodeBroadcast(echo));
  peer.Publish(bus::Channel::kBroadcast,
               R"({"node_id":"v2-node","app_id":"app-id","channel":"news","message":"v2",)"
               R"("except_socket_id":null,"presence_replication":{"action":"join"}})");
  peer.Publish(bus::Channel::kBroadcast, "not json");
  const std::string marker = EventFrame("news", R"({"marker":true})");
  bus::BroadcastMessage foreign{peer.node_id(), kApp, "news", marker, std::nullopt, std::nullopt};
  peer.Publish(bus::Channel::kBroadcast, bus::EncodeBroadcast(foreign));
  ASSERT_TRUE(cluster.WaitUntil([&] { return Has(a1, marker) && Has(b1, marker); }));
  EXPECT_EQ(Count(a1, frame), 1u);
  EXPECT_EQ(Count(b1, frame), 2u);  // for B the "echo" is a message of another node
  EXPECT_FALSE(Has(a1, "v2"));
  EXPECT_FALSE(Has(b1, "v2"));
  EXPECT_GE(a.adapter->stats().dropped_messages.load(), 1);  // the unparsable payload
}

// What a draining node relies on before it closes sockets: when a fence ends, every broadcast
// the bus took before it is on the node's workers, so a close posted after the fence comes
// behind that delivery. (The worker is held: the event is still queued when the fence ends.)
TEST_F(HorizontalAdapterTest, AFenceEndsAfterWhatTheBusTookBeforeItReachedTheWorkers) {
  ClusterFixture cluster(2);
  ClusterNode& a = cluster[0];
  Client& a1 = a.Connect("1.1");
  a.Subscribe(a1, "news");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(a1, "news"); }));
  testutil::FakePeer& peer = cluster.AddPeer();
  for (int round = 0; round < 20; ++round) {
    const std::string text = EventFrame("news", "{\"round\":" + std::to_string(round) + "}");
    peer.Publish(bus::Channel::kBroadcast, bus::EncodeBroadcast({.node_id = peer.node_id(),
                                                                 .app_id = kApp,
                                                                 .channel = "news",
                                                                 .message = text,
                                                                 .except_socket_id = std::nullopt,
                                                                 .timestamp_ms = std::nullopt}));
    auto queued = std::make_shared<std::atomic<size_t>>(0);
    const absl::Status status =
        AwaitFence(a, [&pool = a.pool, queued] { *queued = pool.pending(); });
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_GE(queued->load(), 1u) << "round " << round << ": the event was not on the worker yet";
    ASSERT_TRUE(cluster.WaitUntil([&] { return Has(a1, text); }));
  }
  // The markers reach no socket and count as no broadcast, on the node or its peer (which
  // counts the peer's 20 events only).
  EXPECT_TRUE(std::none_of(a1.transport.frames.begin(), a1.transport.frames.end(),
                           [](const std::string& f) { return f.find("#fence") != f.npos; }));
  // (The hub orders them: when B has the last event it has had the 19 markers before it.)
  const auto& heard = cluster[1].adapter->stats().broadcasts_received;
  ASSERT_TRUE(cluster.WaitUntil([&] { return heard.load() >= 20; }));
  EXPECT_EQ(heard.load(), 20);
}

// A fence that cannot be answered says so instead of making the drain wait: the bus is gone
// (the publish fails), or the NATS server does not send a node its own messages (no_echo).
TEST_F(HorizontalAdapterTest, AFenceThatCannotComeBackEndsWithAnError) {
  {
    ClusterFixture cluster(2);
    cluster[0].transport->Sever();
    EXPECT_EQ(AwaitFence(cluster[0]).code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(AwaitFence(cluster[1]).ok());
  }
  ClusterFixture cluster(1);
  cluster[0].transport->ReportNoEcho();  // nats_transport_test: a real no_echo connection does
  const absl::Status st = AwaitFence(cluster[0]);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), HasSubstr("no_echo"));
}

TEST_F(HorizontalAdapterTest, BroadcastExcludesTheGivenSocketWhereverItIs) {
  ClusterFixture cluster(2);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  Client& a1 = a.Connect("1.1");
  Client& b1 = b.Connect("2.1");
  Client& b2 = b.Connect("2.2");
  for (auto [node, client] : {std::pair{&a, &a1}, std::pair{&b, &b1}, std::pair{&b, &b2}}) {
    node->Subscribe(*client, "news");
  }

  // Excluding a socket of the peer.
  const std::string first = EventFrame("news", R"({"n":1})");
  a.adapter->Broadcast(kApp, "news", protocol::MakeShared(first), "2.2", nullptr);
  Marker(cluster, a, "news", {&a1, &b1, &b2}, EventFrame("news", R"({"marker":1})"));
  EXPECT_EQ(Count(a1, first), 1u);
  EXPECT_EQ(Count(b1, first), 1u);
  EXPECT_EQ(Count(b2, first), 0u);

  // Excluding the sender's own socket (a client event).
  const std::string second = EventFrame("news", R"({"n":2})");
  a.adapter->Broadcast(kApp, "news", protocol::MakeShared(second), "1.1", nullptr);
  Marker(cluster, a, "news", {&a1, &b1, &b2}, EventFrame("news", R"({"marker":2})"));
  EXPECT_EQ(Count(a1, second), 0u);
  EXPECT_EQ(Count(b1, second), 1u);
  EXPECT_EQ(Count(b2, second), 1u);
}

// ---------------------------------------------------------------------------------------------
// Queries (§6, §7, §9)

TEST_F(HorizontalAdapterTest, ChannelCountsAggregateEveryNode) {
  ClusterFixture cluster(3);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  ClusterNode& c = cluster[2];
  Client& a1 = a.Connect("1.1");
  Client& a2 = a.Connect("1.2");
  Client& b1 = b.Connect("2.1");
  Client& c1 = c.Connect("3.1");
  a.Subscribe(a1, "news");
  a.Subscribe(a2, "news");
  a.Subscribe(a1, "sports");
  b.Subscribe(b1, "news");
  c.Subscribe(c1, "news");
  c.Subscribe(c1, "weather");

  auto all = cluster.Await<Answer<ChannelList>>(
      [&](auto done) { a.adapter->GetChannels(kApp, "", false, done); });
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->complete);
  EXPECT_EQ(Subscriptions(all->value),
            (std::map<std::string, size_t>{{"news", 4}, {"sports", 1}, {"weather", 1}}));

  // Prefix filter, asked from a node that has no such channel itself.
  auto filtered = cluster.Await<Answer<ChannelList>>(
      [&](auto done) { b.adapter->GetChannels(kApp, "w", false, done); });
  ASSERT_TRUE(filtered.has_value());
  EXPECT_TRUE(filtered->complete);
  EXPECT_EQ(Subscriptions(filtered->value), (std::map<std::string, size_t>{{"weather", 1}}));

  auto news = cluster.Await<Answer<ChannelCounts>>(
      [&](auto done) { c.adapter->GetChannel(kApp, "news", done); });
  ASSERT_TRUE(news.has_value());
  EXPECT_TRUE(news->complete);
  EXPECT_EQ(news->value.subscription_count, 4u);
  EXPECT_EQ(news->value.user_count, 0u);

  auto empty = cluster.Await<Answer<ChannelCounts>>(
      [&](auto done) { b.adapter->GetChannel(kApp, "nobody-here", done); });
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->complete);
  EXPECT_EQ(empty->value.subscription_count, 0u);

  // Another app sees nothing of these.
  auto other = cluster.Await<Answer<ChannelList>>(
      [&](auto done) { a.adapter->GetChannels("other-app", "", false, done); });
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(other->value.empty());

  for (size_t i = 0; i < cluster.size(); ++i) {
    EXPECT_EQ(cluster[i].adapter->stats().requests_uncomplete.load(), 0) << "node " << i;
  }
}

TEST_F(HorizontalAdapterTest, CountRemoteConnectionsSumsThePeers) {
  ClusterFixture cluster(3);
  cluster[0].Connect("1.1");
  for (const char* id : {"2.1", "2.2"}) cluster[1].Connect(id);
  for (const char* id : {"3.1", "3.2", "3.3"}) cluster[2].Connect(id);

  const int64_t expected[] = {5, 4, 3};  // everyone but the asking node
  for (size_t i = 0; i < cluster.size(); ++i) {
    auto n = cluster.Await<Answer<int64_t>>(
        [&](auto done) { cluster[i].adapter->CountRemoteConnections(kApp, done); });
    ASSERT_TRUE(n.has_value()) << "node " << i;
    EXPECT_TRUE(n->complete) << "node " << i;
    EXPECT_EQ(n->value, expected[i]) << "node " << i;
  }
  auto other = cluster.Await<Answer<int64_t>>(
      [&](auto done) { cluster[0].adapter->CountRemoteConnections("other-app", done); });
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->value, 0);
}

TEST_F(HorizontalAdapterTest, APeerThatNeverAnswersMakesTheAnswerIncompleteAtTheDeadline) {
  config::Config config = ClusterFixture::ClusterConfig();
  config.adapter.nats.request_timeout_ms = 300;
  ClusterFixture cluster(2, config);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  Client& a1 = a.Connect("1.1");
  Client& b1 = b.Connect("2.1");
  a.Subscribe(a1, "news");
  b.Subscribe(b1, "news");
  cluster.AddPeer();  // counted as a node, never answers

  auto start = Clock::now();
  auto all = cluster.Await<Answer<ChannelList>>(
      [&](auto done) { a.adapter->GetChannels(kApp, "", false, done); });
  ASSERT_TRUE(all.has_value());
  EXPECT_GE(Clock::now() - start, milliseconds(300));  // the full class waits T
  EXPECT_FALSE(all->complete);
  // What the answering peer said is kept.
  EXPECT_EQ(Subscriptions(all->value), (std::map<std::string, size_t>{{"news", 2}}));

  // A fast request gives up sooner: clamp(50 ms x 3, min(200 ms, T), T) = 200 ms.
  start = Clock::now();
  auto remote = cluster.Await<Answer<int64_t>>(
      [&](auto done) { a.adapter->CountRemoteConnections(kApp, done); });
  ASSERT_TRUE(remote.has_value());
  EXPECT_GE(Clock::now() - start, milliseconds(200));
  EXPECT_FALSE(remote->complete);
  EXPECT_EQ(remote->value, 1);

  EXPECT_EQ(a.adapter->stats().requests_uncomplete.load(), 2);
  EXPECT_EQ(a.adapter->Metrics().requests_uncomplete, 2);
}

TEST_F(HorizontalAdapterTest, DuplicateResponsesOfAPeerAreCountedOnce) {
  ClusterFixture cluster(2);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  Client& a1 = a.Connect("1.1");
  Client& b1 = b.Connect("2.1");
  a.Subscribe(a1, "news");
  b.Subscribe(b1, "news");
  // A peer that answers everything twice, plus a response forged with A's own id.
  const std::string a_id = a.adapter->node_id();
  cluster.AddPeer([a_id](const bus::RequestBody& r) {
    bus::ResponseBody resp;
    resp.channels_with_sockets_count["news"] = 5;
    resp.sockets_count = 7;
    bus::ResponseBody forged = resp;
    forged.node_id = a_id;
    return std::vector<bus::ResponseBody>{resp, resp, forged};
  });

  auto all = cluster.Await<Answer<ChannelList>>(
      [&](auto done) { a.adapter->GetChannels(kApp, "", false, done); });
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->complete);
  EXPECT_EQ(Subscriptions(all->value), (std::map<std::string, size_t>{{"news", 1 + 1 + 5}}));

  auto remote = cluster.Await<Answer<int64_t>>(
      [&](auto done) { a.adapter->CountRemoteConnections(kApp, done); });
  ASSERT_TRUE(remote.has_value());
  EXPECT_TRUE(remote->complete);
  EXPECT_EQ(remote->value, 1 + 7);
}

TEST_F(HorizontalAdapterTest, RequestsCarryTheSpecFieldsAndReplyAddress) {
  ClusterFixture cluster(1);
  testutil::FakePeer& peer = cluster.AddPeer(
      [](const bus::RequestBody&) { return std::vector<bus::ResponseBody>{bus::ResponseBody{}}; });
  auto answer = cluster.Await<Answer<ChannelCounts>>(
      [&](auto done) { cluster[0].adapter->GetChannel(kApp, "news", done); });
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->complete);
  std::vector<bus::RequestBody> asked;
  for (const bus::RequestBody& r : peer.requests()) {
    if (r.request_type == bus::RequestType::kChannelSocketsCount) asked.push_back(r);
  }
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].node_id, cluster[0].adapter->node_id());
  EXPECT_EQ(asked[0].app_id, kApp);
  EXPECT_EQ(asked[0].channel, "news");
  EXPECT_TRUE(asked[0].reply_to.has_value());  // where the answer goes
  EXPECT_EQ(asked[0].request_id.size(), 36u);
}

// ---------------------------------------------------------------------------------------------
// Presence (§8)

TEST_F(HorizontalAdapterTest, PresenceMembersOfOneNodeAreSeenFromAnother) {
  ClusterFixture cluster(2);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  Client& a1 = a.Connect("1.1");
  a.JoinPresence(a1, kRoom, R"("alice")", R"({"name":"Alice"})");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(a1, kRoom); }));

  auto members = cluster.Await<Answer<std::vector<std::string>>>(
      [&](auto done) { b.adapter->GetPresenceMembers(kApp, kRoom, done); });
  ASSERT_TRUE(members.has_value());
  EXPECT_TRUE(members->complete);
  EXPECT_THAT(members->value, UnorderedElementsAre(R"("alice")"));

  // A numeric user id joins on B: it keeps its type everywhere.
  Client& b1 = b.Connect("2.1");
  b.JoinPresence(b1, kRoom, "42");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(b1, kRoom); }));
  // B's subscription_succeeded lists the member of A.
  const auto succeeded = std::find_if(
      b1.transport.frames.begin(), b1.transport.frames.end(),
      [](const std::string& f) { return f.find("subscription_succeeded") != std::string::npos; });
  ASSERT_NE(succeeded, b1.transport.frames.end());
  EXPECT_THAT(*succeeded, HasSubstr("alice"));
  EXPECT_THAT(*succeeded, HasSubstr(R"(\"count\":2)"));

  members = cluster.Await<Answer<std::vector<std::string>>>(
      [&](auto done) { a.adapter->GetPresenceMembers(kApp, kRoom, done); });
  ASSERT_TRUE(members.has_value());
  EXPECT_TRUE(members->complete);
  EXPECT_THAT(members->value, UnorderedElementsAre(R"("alice")", "42"));

  auto room = cluster.Await<Answer<ChannelCounts>>(
      [&](auto done) { b.adapter->GetChannel(kApp, kRoom, done); });
  ASSERT_TRUE(room.has_value());
  EXPECT_TRUE(room->complete);
  EXPECT_EQ(room->value.subscription_count, 2u);
  EXPECT_EQ(room->value.user_count, 2u);

  auto list = cluster.Await<Answer<ChannelList>>(
      [&](auto done) { a.adapter->GetChannels(kApp, "presence-", true, done); });
  ASSERT_TRUE(list.has_value());
  EXPECT_TRUE(list->complete);
  ASSERT_EQ(list->value.size(), 1u);
  EXPECT_EQ(list->value[0].first, kRoom);
  EXPECT_EQ(list->value[0].second.subscription_count, 2u);
  EXPECT_EQ(list->value[0].second.user_count, 2u);
}

TEST_F(HorizontalAdapterTest, OneUserOnTwoNodesIsAddedOnceAndRemovedOnce) {
  ClusterFixture cluster(2);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  // A watcher on each node.
  Client& wa = a.Connect("1.9");
  Client& wb = b.Connect("2.9");
  a.JoinPresence(wa, kRoom, R"("watcher-a")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(wa, kRoom); }));
  b.JoinPresence(wb, kRoom, R"("watcher-b")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(wb, kRoom); }));
  ASSERT_TRUE(cluster.WaitUntil([&] { return Has(wa, MemberAdded(R"("watcher-b")")); }));

  const std::string info = R"({"name":"Alice"})";
  const std::string added = MemberAdded(R"("alice")", info);
  const std::string removed = MemberRemoved(R"("alice")");

  // Alice joins on A: everyone else hears it once.
  Client& a1 = a.Connect("1.1");
  a.JoinPresence(a1, kRoom, R"("alice")", info);
  // (member_added goes out just before the joiner's own success frame is posted.)
  ASSERT_TRUE(
      cluster.WaitUntil([&] { return Has(wa, added) && Has(wb, added) && Subscribed(a1, kRoom); }));
  EXPECT_FALSE(Has(a1, added));  // not to the joining socket

  // Alice joins on B too: she is already a member, nobody hears about it.
  Client& b1 = b.Connect("2.1");
  b.JoinPresence(b1, kRoom, R"("alice")", info);
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(b1, kRoom); }));
  Marker(cluster, b, kRoom, {&wa, &wb, &a1, &b1}, EventFrame(kRoom, R"({"marker":1})"));
  EXPECT_EQ(Count(wa, added), 1u);
  EXPECT_EQ(Count(wb, added), 1u);
  EXPECT_EQ(Count(a1, added), 0u);
  EXPECT_EQ(Count(b1, added), 0u);

  auto members = cluster.Await<Answer<std::vector<std::string>>>(
      [&](auto done) { b.adapter->GetPresenceMembers(kApp, kRoom, done); });
  ASSERT_TRUE(members.has_value());
  EXPECT_THAT(members->value,
              UnorderedElementsAre(R"("watcher-a")", R"("watcher-b")", R"("alice")"));

  // She leaves B: still connected on A, so no member_removed.
  int64_t before = Finished(b);
  b.Unsubscribe(b1, kRoom);
  WaitForRequests(cluster, b, before + 1);  // B asked A whether she is still there
  Barrier(cluster, b);
  Marker(cluster, b, kRoom, {&wa, &wb, &a1}, EventFrame(kRoom, R"({"marker":2})"));
  EXPECT_EQ(Count(wa, removed), 0u);
  EXPECT_EQ(Count(wb, removed), 0u);

  // She leaves A as well: gone everywhere, everyone hears it once.
  before = Finished(a);
  a.Unsubscribe(a1, kRoom);
  ASSERT_TRUE(cluster.WaitUntil([&] { return Has(wa, removed) && Has(wb, removed); }));
  WaitForRequests(cluster, a, before + 1);
  Barrier(cluster, a);
  Marker(cluster, a, kRoom, {&wa, &wb}, EventFrame(kRoom, R"({"marker":3})"));
  EXPECT_EQ(Count(wa, removed), 1u);
  EXPECT_EQ(Count(wb, removed), 1u);

  members = cluster.Await<Answer<std::vector<std::string>>>(
      [&](auto done) { a.adapter->GetPresenceMembers(kApp, kRoom, done); });
  ASSERT_TRUE(members.has_value());
  EXPECT_THAT(members->value, UnorderedElementsAre(R"("watcher-a")", R"("watcher-b")"));
}

// A joining socket enters the channel only once every peer has answered: the members that
// peers add or remove after their answer are in its list (a peer that never answers makes the
// join wait for its deadline, with both events in between).
TEST_F(HorizontalAdapterTest, MemberEventsHeardWhileAJoinWaitsAreInItsList) {
  ClusterFixture cluster(2);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  Client& carol = b.Connect("2.1");
  b.JoinPresence(carol, kRoom, R"("carol")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(carol, kRoom); }));
  const std::string b_id = b.adapter->node_id();
  testutil::FakePeer& slow = cluster.AddPeer([b_id](const bus::RequestBody& r) {
    std::vector<bus::ResponseBody> out;
    if (r.node_id == b_id) out.emplace_back();  // answers B at once, A never
    return out;
  });

  Client& alice = a.Connect("1.1");
  a.JoinPresence(alice, kRoom, R"("alice")");
  ASSERT_TRUE(cluster.WaitUntil([&] {
    for (const bus::RequestBody& r : slow.requests()) {
      if (r.request_type == bus::RequestType::kChannelMembers) return true;
    }
    return false;
  }));
  Barrier(cluster, b);  // B has answered A's question: carol, no bob
  Client& bob = b.Connect("2.2");
  b.JoinPresence(bob, kRoom, R"("bob")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(bob, kRoom); }));
  b.Unsubscribe(carol, kRoom);
  ASSERT_TRUE(cluster.WaitUntil([&] { return Has(bob, MemberRemoved(R"("carol")")); }));
  ASSERT_FALSE(Subscribed(alice, kRoom));  // still waiting for the silent peer

  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(alice, kRoom); }, milliseconds(3000)));
  const auto succeeded = std::find_if(
      alice.transport.frames.begin(), alice.transport.frames.end(),
      [](const std::string& f) { return f.find("subscription_succeeded") != std::string::npos; });
  ASSERT_NE(succeeded, alice.transport.frames.end());
  EXPECT_THAT(*succeeded, HasSubstr("bob"));
  EXPECT_THAT(*succeeded, ::testing::Not(HasSubstr("carol")));
  EXPECT_THAT(*succeeded, HasSubstr(R"(\"count\":2)"));
  // Later events reach the joined socket.
  Client& dave = b.Connect("2.3");
  b.JoinPresence(dave, kRoom, R"("dave")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Has(alice, MemberAdded(R"("dave")")); }));
}

// The first socket of a node to join a presence channel has its member list, and its entry into
// the channel is on its way to the worker: a member event arriving now must queue behind that
// entry, though the node counts no subscriber yet (LocalDelivery skips channels nobody here is
// subscribed to or joining).
TEST_F(HorizontalAdapterTest, AMemberEventArrivingBetweenAJoinsAnswerAndItsEntryReachesIt) {
  ClusterFixture cluster(2);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  ASSERT_TRUE(cluster.WaitForMesh());
  Client& alice = a.Connect("1.1");
  a.JoinPresence(alice, kRoom, R"("alice")");
  // A's worker is not run: alice's entry waits in its queue once B has answered.
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(1500);
  while (a.pool.pending() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_GE(a.pool.pending(), 1u);
  EXPECT_EQ(a.node->channels.Count(kApp, kRoom), 0u);
  const int64_t heard = a.adapter->Metrics().broadcasts_received;

  Client& bob = b.Connect("2.1");
  b.JoinPresence(bob, kRoom, R"("bob")");
  while (a.adapter->Metrics().broadcasts_received == heard &&
         std::chrono::steady_clock::now() < deadline + milliseconds(1500)) {
    b.pool.Drain();  // B only: bob joins and B sends member_added to A
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_GT(a.adapter->Metrics().broadcasts_received, heard);

  ASSERT_TRUE(cluster.WaitUntil([&] { return Has(alice, MemberAdded(R"("bob")")); }));
  ASSERT_TRUE(Subscribed(alice, kRoom));
  const auto succeeded = std::find_if(
      alice.transport.frames.begin(), alice.transport.frames.end(),
      [](const std::string& f) { return f.find("subscription_succeeded") != std::string::npos; });
  const auto added = std::find_if(
      alice.transport.frames.begin(), alice.transport.frames.end(),
      [](const std::string& f) { return f.find("member_added") != std::string::npos; });
  EXPECT_LT(succeeded, added);  // after her member list, which did not have bob yet
  EXPECT_THAT(*succeeded, ::testing::Not(HasSubstr("bob")));
}

// A member_removed that a peer decided while the user still has a socket here (it raced the
// user's rejoin, or a node cut off from the bus sent it when the link healed) is contradicted:
// this node announces the member again, so every client ends with the user listed.
TEST_F(HorizontalAdapterTest, AStaleMemberRemovedIsFollowedByMemberAddedFromTheHolder) {
  ClusterFixture cluster(2);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  Client& alice = a.Connect("1.1");
  a.JoinPresence(alice, kRoom, R"("alice")", R"({"n":1})");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(alice, kRoom); }));
  Client& watcher = b.Connect("2.1");
  b.JoinPresence(watcher, kRoom, R"("watcher")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(watcher, kRoom); }));
  testutil::FakePeer& stale = cluster.AddPeer();
  const std::string added = MemberAdded(R"("alice")", R"({"n":1})");
  const std::string removed = MemberRemoved(R"("alice")");
  for (const std::string& user : {std::string(R"("alice")"), std::string(R"("nobody")")}) {
    stale.Publish(bus::Channel::kBroadcast, bus::EncodeBroadcast({.node_id = stale.node_id(),
                                                                  .app_id = kApp,
                                                                  .channel = kRoom,
                                                                  .message = MemberRemoved(user)}));
  }
  ASSERT_TRUE(cluster.WaitUntil([&] { return Has(watcher, removed) && Has(watcher, added); }));
  Marker(cluster, a, kRoom, {&alice, &watcher}, EventFrame(kRoom, R"({"marker":1})"));
  const auto& seen = watcher.transport.frames;
  EXPECT_GT(std::find(seen.begin(), seen.end(), added) - seen.begin(),
            std::find(seen.begin(), seen.end(), removed) - seen.begin());
  EXPECT_TRUE(Has(alice, removed) && Has(alice, added));  // its own list heals as well
  EXPECT_EQ(a.adapter->stats().members_reannounced.load(), 1);
  EXPECT_EQ(b.adapter->stats().members_reannounced.load(), 0);  // "nobody" is held nowhere
}

// ---------------------------------------------------------------------------------------------
// Cluster health (§10)

TEST_F(HorizontalAdapterTest, NodesLearnOfEachOtherFromHeartbeats) {
  ClusterFixture cluster(3);
  ASSERT_TRUE(cluster.WaitForMesh());
  for (size_t i = 0; i < cluster.size(); ++i) {
    EXPECT_EQ(cluster[i].adapter->Metrics().cluster_nodes, 3) << "node " << i;
  }
}

TEST_F(HorizontalAdapterTest, ANodeThatStopsHeartbeatingIsDeclaredDeadAndItsMembersRemoved) {
  config::Config config = ClusterFixture::ClusterConfig();
  config.adapter.cluster_health.node_timeout_ms = 400;
  ClusterFixture cluster(3, config);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  ClusterNode& c = cluster[2];
  ASSERT_TRUE(cluster.WaitForMesh());

  Client& wa = a.Connect("1.9");
  Client& wb = b.Connect("2.9");
  a.JoinPresence(wa, kRoom, R"("watcher-a")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(wa, kRoom); }));
  b.JoinPresence(wb, kRoom, R"("watcher-b")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(wb, kRoom); }));

  // Carol is on C with two sockets; A and B hear of her join (and have replicated it).
  Client& c1 = c.Connect("3.1");
  Client& c2 = c.Connect("3.2");
  c.JoinPresence(c1, kRoom, R"("carol")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(c1, kRoom); }));
  c.JoinPresence(c2, kRoom, R"("carol")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(c2, kRoom); }));
  ASSERT_TRUE(cluster.WaitUntil(
      [&] { return Has(wa, MemberAdded(R"("carol")")) && Has(wb, MemberAdded(R"("carol")")); }));

  // C crashes: no heartbeat, no NodeDead of its own, no answer.
  c.transport->Sever();
  const std::string removed = MemberRemoved(R"("carol")");
  ASSERT_TRUE(cluster.WaitUntil(
      [&] {
        return Has(wa, removed) && Has(wb, removed) && a.adapter->known_peers() == 1 &&
               b.adapter->known_peers() == 1;
      },
      milliseconds(3000)));
  // Exactly one node, the leader, cleaned it up and told the other.
  EXPECT_EQ(
      a.adapter->stats().dead_nodes_cleaned.load() + b.adapter->stats().dead_nodes_cleaned.load(),
      1);
  ClusterNode& leader = a.adapter->stats().dead_nodes_cleaned.load() == 1 ? a : b;
  EXPECT_EQ(leader.adapter->node_id(), std::min(a.adapter->node_id(), b.adapter->node_id()));

  Barrier(cluster, leader);
  Marker(cluster, leader, kRoom, {&wa, &wb}, EventFrame(kRoom, R"({"marker":1})"));
  EXPECT_EQ(Count(wa, removed), 1u);  // one member_removed per user, not per socket
  EXPECT_EQ(Count(wb, removed), 1u);

  auto members = cluster.Await<Answer<std::vector<std::string>>>(
      [&](auto done) { a.adapter->GetPresenceMembers(kApp, kRoom, done); });
  ASSERT_TRUE(members.has_value());
  EXPECT_TRUE(members->complete);
  EXPECT_THAT(members->value, UnorderedElementsAre(R"("watcher-a")", R"("watcher-b")"));
}

TEST_F(HorizontalAdapterTest, AUserStillConnectedElsewhereIsNotRemovedWithADeadNode) {
  config::Config config = ClusterFixture::ClusterConfig();
  config.adapter.cluster_health.node_timeout_ms = 400;
  ClusterFixture cluster(3, config);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  ClusterNode& c = cluster[2];
  ASSERT_TRUE(cluster.WaitForMesh());

  Client& wa = a.Connect("1.9");
  a.JoinPresence(wa, kRoom, R"("watcher-a")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(wa, kRoom); }));
  // Dave is on B and on C; Carol only on C.
  Client& b1 = b.Connect("2.1");
  b.JoinPresence(b1, kRoom, R"("dave")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(b1, kRoom); }));
  Client& c1 = c.Connect("3.1");
  c.JoinPresence(c1, kRoom, R"("dave")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(c1, kRoom); }));
  Client& c2 = c.Connect("3.2");
  c.JoinPresence(c2, kRoom, R"("carol")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Has(wa, MemberAdded(R"("carol")")); }));

  c.transport->Sever();
  ASSERT_TRUE(cluster.WaitUntil(
      [&] {
        return Has(wa, MemberRemoved(R"("carol")")) && a.adapter->known_peers() == 1 &&
               b.adapter->known_peers() == 1;
      },
      milliseconds(3000)));
  ClusterNode& leader = a.adapter->stats().dead_nodes_cleaned.load() == 1 ? a : b;
  Barrier(cluster, leader);
  Marker(cluster, leader, kRoom, {&wa, &b1}, EventFrame(kRoom, R"({"marker":1})"));
  EXPECT_EQ(Count(wa, MemberRemoved(R"("dave")")), 0u);
  EXPECT_EQ(Count(b1, MemberRemoved(R"("dave")")), 0u);
  EXPECT_EQ(Count(b1, MemberRemoved(R"("carol")")), 1u);
}

bus::RequestBody Replication(bus::RequestType type, const std::string& socket,
                             const std::string& user, int64_t sequence) {
  bus::RequestBody r;
  r.app_id = kApp;
  r.request_type = type;
  r.channel = kRoom;
  r.socket_id = socket;
  r.user_id_json = base::JsonString(user);
  r.sequence_number = sequence;
  return r;
}

TEST_F(HorizontalAdapterTest, OwnerSequencesDecideWhichMembersOfADeadNodeAreRemoved) {
  config::Config config = ClusterFixture::ClusterConfig();
  config.adapter.cluster_health.node_timeout_ms = 400;
  ClusterFixture cluster(2, config);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  ASSERT_TRUE(cluster.WaitForMesh());
  Client& wa = a.Connect("1.9");
  a.JoinPresence(wa, kRoom, R"("watcher-a")");
  ASSERT_TRUE(cluster.WaitUntil([&] { return Subscribed(wa, kRoom); }));

  // A third node, scripted: its replication messages reach the peers out of order, as joins,
  // leaves and snapshots may (spec/cluster.md §8.3).
  using T = bus::RequestType;
  testutil::FakePeer& p = cluster.AddPeer();
  p.Heartbeat();
  ASSERT_TRUE(cluster.WaitUntil(
      [&] { return a.adapter->known_peers() == 2 && b.adapter->known_peers() == 2; }));
  p.Tell(Replication(T::kPresenceMemberJoined, "9.1", "carol", 5));
  p.Tell(Replication(T::kPresenceMemberLeft, "9.1", "carol", 3));  // stale: carol stays
  p.Tell(Replication(T::kPresenceMemberJoined, "9.2", "dan", 7));
  p.Tell(Replication(T::kPresenceMemberLeft, "9.3", "erin", 9));    // the leave overtook...
  p.Tell(Replication(T::kPresenceMemberJoined, "9.3", "erin", 8));  // ...its join: erin is gone
  p.Tell(Replication(T::kPresenceMemberJoined, "9.4", "fay", 10));
  p.Tell(Replication(T::kPresenceMemberLeft, "9.4", "fay", 11));  // in order: fay is gone
  // Then it crashes.
  p.Leave();

  ASSERT_TRUE(cluster.WaitUntil(
      [&] {
        return Has(wa, MemberRemoved(R"("carol")")) && Has(wa, MemberRemoved(R"("dan")")) &&
               a.adapter->known_peers() == 1 && b.adapter->known_peers() == 1;
      },
      milliseconds(3000)));
  ClusterNode& leader = a.adapter->stats().dead_nodes_cleaned.load() == 1 ? a : b;
  Barrier(cluster, leader);
  Marker(cluster, leader, kRoom, {&wa}, EventFrame(kRoom, R"({"marker":1})"));
  EXPECT_EQ(Count(wa, MemberRemoved(R"("carol")")), 1u);
  EXPECT_EQ(Count(wa, MemberRemoved(R"("dan")")), 1u);
  EXPECT_EQ(Count(wa, MemberRemoved(R"("erin")")), 0u);
  EXPECT_EQ(Count(wa, MemberRemoved(R"("fay")")), 0u);
  EXPECT_EQ(
      a.adapter->stats().dead_nodes_cleaned.load() + b.adapter->stats().dead_nodes_cleaned.load(),
      1);
}

TEST_F(HorizontalAdapterTest, ANodeDeclaredDeadThatHeartbeatsAgainIsToldAndTreatedAsNew) {
  config::Config config = ClusterFixture::ClusterConfig();
  config.adapter.cluster_health.node_timeout_ms = 600;
  ClusterFixture cluster(2, config);
  ClusterNode& a = cluster[0];
  ClusterNode& b = cluster[1];
  ASSERT_TRUE(cluster.WaitForMesh());
  testutil::FakePeer& p = cluster.AddPeer();
  p.Heartbeat();
  ASSERT_TRUE(cluster.WaitUntil(
      [&] { return a.adapter->known_peers() == 2 && b.adapter->known_peers() == 2; }));
  // A pause longer than node_timeout_ms: declared dead (it stays on the bus, silent).
  ASSERT_TRUE(cluster.WaitUntil(
      [&] { return a.adapter->known_peers() == 1 && b.adapter->known_peers() == 1; },
      milliseconds(3000)));

  p.Heartbeat();  // it wakes up
  auto told = [&](const std::string& by) {
    for (const bus::RequestBody& r : p.requests()) {
      if (r.request_type == bus::RequestType::kNodeDead && r.node_id == by &&
          r.dead_node_id == p.node_id() && r.target_node_id == p.node_id()) {
        return true;
      }
    }
    return false;
  };
  // Both peers remember it as recently dead (the leader from its cleanup, the other from the
  // leader's NodeDead) and tell it so; then it counts as a new node again.
  ASSERT_TRUE(cluster.WaitUntil([&] {
    return told(a.adapter->node_id()) && told(b.adapter->node_id()) &&
           a.adapter->known_peers() == 2 && b.adapter->known_peers() == 2;
  }));

  // Its subscriptions were not back yet (that NodeDead was lost): its resync heartbeat, sent
  // once they are, is answered with the NodeDead once more, and only that once. (Each resync
  // heartbeat is also answered by a heartbeat sent to it: the sign that it was handled.)
  auto sent_to_p = [&](const std::string& by, bus::RequestType type) {
    const std::vector<bus::RequestBody> got = p.requests();
    return std::count_if(got.begin(), got.end(), [&](const bus::RequestBody& r) {
      return r.request_type == type && r.node_id == by && r.target_node_id == p.node_id();
    });
  };
  auto resync_heartbeat = [&] {
    bus::RequestBody r;
    r.app_id = "cluster";
    r.request_type = bus::RequestType::kHeartbeat;
    r.timestamp = 1;
    r.user_info = base::Json{{"resync", true}};
    p.Tell(std::move(r));
  };
  for (int round = 1; round <= 2; ++round) {
    const auto a_beats = sent_to_p(a.adapter->node_id(), bus::RequestType::kHeartbeat);
    const auto b_beats = sent_to_p(b.adapter->node_id(), bus::RequestType::kHeartbeat);
    resync_heartbeat();
    ASSERT_TRUE(cluster.WaitUntil([&] {
      return sent_to_p(a.adapter->node_id(), bus::RequestType::kHeartbeat) > a_beats &&
             sent_to_p(b.adapter->node_id(), bus::RequestType::kHeartbeat) > b_beats;
    }));
    EXPECT_EQ(sent_to_p(a.adapter->node_id(), bus::RequestType::kNodeDead), 2) << round;
    EXPECT_EQ(sent_to_p(b.adapter->node_id(), bus::RequestType::kNodeDead), 2) << round;
  }
}

TEST_F(HorizontalAdapterTest, ANodeThatStopsLeavesTheClusterAtOnce) {
  ClusterFixture cluster(3);  // node timeout 10 s: only the NodeDead of the stop can do this
  ASSERT_TRUE(cluster.WaitForMesh());
  cluster[2].adapter->Stop();
  ASSERT_TRUE(cluster.WaitUntil([&] {
    return cluster[0].adapter->known_peers() == 1 && cluster[1].adapter->known_peers() == 1;
  }));
  EXPECT_EQ(cluster[0].adapter->stats().dead_nodes_cleaned.load(), 0);
  EXPECT_EQ(cluster[1].adapter->stats().dead_nodes_cleaned.load(), 0);
  // The survivors still answer each other, completely.
  auto n = cluster.Await<Answer<int64_t>>(
      [&](auto done) { cluster[0].adapter->CountRemoteConnections(kApp, done); });
  ASSERT_TRUE(n.has_value());
  EXPECT_TRUE(n->complete);
}

TEST_F(HorizontalAdapterTest, AStoppingNodeNeverHeartbeatsAfterItsNodeDead) {
  ClusterFixture cluster(1);
  ClusterNode& a = cluster[0];
  testutil::FakePeer& peer = cluster.AddPeer();
  const std::string a_id = a.adapter->node_id();
  auto said_dead = [&] {
    for (const bus::RequestBody& r : peer.requests()) {
      if (r.request_type == bus::RequestType::kNodeDead && r.dead_node_id == a_id) return true;
    }
    return false;
  };

  std::thread stopper([&] { a.adapter->Stop(); });
  ASSERT_TRUE(cluster.WaitUntil(said_dead));
  // A node A has not met says hello while A is in its last 50 ms on the bus. Were A to answer
  // (the targeted heartbeat for new nodes), the peer would take it for a zombie of a node that
  // just left, or count it as alive until node_timeout_ms.
  bus::RequestBody hello;
  hello.request_id = bus::NewUuid();
  hello.node_id = peer.node_id();
  hello.app_id = "cluster";
  hello.request_type = bus::RequestType::kHeartbeat;
  hello.timestamp = 1;
  peer.Publish(bus::Channel::kRequests, bus::EncodeRequest(hello));
  stopper.join();

  bool dead_seen = false;
  for (const bus::RequestBody& r : peer.requests()) {
    if (r.node_id != a_id) continue;
    if (r.request_type == bus::RequestType::kNodeDead) dead_seen = true;
    EXPECT_FALSE(dead_seen && r.request_type == bus::RequestType::kHeartbeat)
        << "heartbeat after NodeDead, target " << r.target_node_id.value_or("(all)");
  }
  EXPECT_TRUE(dead_seen);
}

}  // namespace
}  // namespace sockudo::dataplane::adapter
