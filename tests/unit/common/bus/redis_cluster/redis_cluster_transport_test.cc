#include "common/bus/redis_cluster/redis_cluster_transport.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/bus/names.h"
#include "common/bus/redis_cluster/cluster_slot.h"
#include "gtest/gtest.h"
#include "tests/testutil/bus_listener.h"
#include "tests/testutil/redis_cluster.h"
#include "tests/testutil/redis_server.h"

namespace sockudo::bus::redis_cluster {
namespace {

using namespace std::chrono_literals;
using testutil::Await;
using testutil::Completions;
using testutil::CountNodes;
using testutil::Eventually;
using testutil::MakeIdentity;
using testutil::RecordingListener;
using testutil::RedisCluster;
using Clock = std::chrono::steady_clock;

config::RedisSeed Seed(int port) {
  config::RedisSeed s;
  s.host = "127.0.0.1";
  s.port = port;
  return s;
}

// Seeds: the cluster's nodes starting with `first` (so the subscriber goes there first).
config::RedisClusterAdapterConfig Config(const RedisCluster& cluster, size_t first,
                                         const std::string& prefix, bool sharded = false) {
  config::RedisClusterAdapterConfig c;
  c.prefix = prefix;
  c.use_sharded_pubsub = sharded;
  for (size_t i = 0; i < cluster.size(); ++i) {
    c.nodes.push_back(Seed(cluster.port((first + i) % cluster.size())));
  }
  return c;
}

RedisClusterTransport::Options FastOptions() {
  RedisClusterTransport::Options o;
  o.resubscribe_delay = 100ms;
  o.resubscribe_max_delay = 400ms;
  return o;
}

// A node's "127.0.0.1:port".
std::string Addr(int port) { return absl::StrCat("127.0.0.1:", port); }

// One 3-master cluster shared by the tests that leave it as they found it (each uses its own
// channel prefix, so nothing crosses between tests).
class RedisClusterTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new RedisCluster();
    start_status_ = cluster_->Start();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(start_status_.ok()) << start_status_; }

  // A started transport for node `n` whose seeds start at cluster node `first`.
  std::unique_ptr<RedisClusterTransport> Node(int n, RecordingListener* listener, size_t first,
                                              const std::string& prefix, bool observer = false,
                                              bool sharded = false) {
    auto t = std::make_unique<RedisClusterTransport>(Config(*cluster_, first, prefix, sharded),
                                                     FastOptions());
    absl::Status st = t->Start(MakeIdentity(n, observer), listener);
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_TRUE(t->Healthy());
    return t;
  }

  static RedisCluster* cluster_;
  static absl::Status start_status_;
};

RedisCluster* RedisClusterTransportTest::cluster_ = nullptr;
absl::Status RedisClusterTransportTest::start_status_;

TEST_F(RedisClusterTransportTest, FiveDestinationsBetweenNodesOnDifferentClusterNodes) {
  const std::string prefix = "five:";
  RecordingListener ra, rb;
  auto a = Node(1, &ra, 0, prefix);
  auto b = Node(2, &rb, 1, prefix);
  // Classic pub/sub: one subscriber each, on the first seed; the cluster bus carries messages
  // between the nodes.
  EXPECT_EQ(a->subscriber_nodes(), std::vector<std::string>{Addr(cluster_->port(0))});
  EXPECT_EQ(b->subscriber_nodes(), std::vector<std::string>{Addr(cluster_->port(1))});

  EXPECT_TRUE(Await([&](Completion c) { a->Publish(Channel::kBroadcast, "bcast", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->Publish(Channel::kRequests, "req", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->Publish(Channel::kResponses, "resp", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->PublishToNode("node-2", "inbox", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->PublishRequest("r-1", "query", c); }).ok());
  ASSERT_TRUE(rb.WaitForMessages(5));

  EXPECT_EQ(a->ReplyTo(), RedisChannel(prefix, Channel::kReplyInbox, MakeIdentity(1).reply_hex));
  EXPECT_TRUE(Await([&](Completion c) { b->Reply(a->ReplyTo(), "answer", c); }).ok());
  ASSERT_TRUE(ra.WaitFor(Channel::kReplyInbox, "answer"));

  EXPECT_TRUE(rb.Has(Channel::kBroadcast, "bcast"));
  EXPECT_TRUE(rb.Has(Channel::kRequests, "req"));
  EXPECT_TRUE(rb.Has(Channel::kResponses, "resp"));
  EXPECT_TRUE(rb.Has(Channel::kNodeInbox, "inbox"));
  EXPECT_TRUE(rb.Has(Channel::kRequests, "query"));
  EXPECT_TRUE(ra.On(Channel::kNodeInbox).empty());
  EXPECT_TRUE(rb.On(Channel::kReplyInbox).empty());
  for (const Incoming& m : rb.messages()) EXPECT_EQ(m.reply_to, "");

  // Reply without an address goes to the responses channel (spec/cluster.md §6.1).
  EXPECT_TRUE(Await([&](Completion c) { b->Reply("", "fallback", c); }).ok());
  EXPECT_TRUE(ra.WaitFor(Channel::kResponses, "fallback"));

  absl::Status wrong = Await([&](Completion c) { a->Publish(Channel::kNodeInbox, "x", c); });
  EXPECT_TRUE(absl::IsInvalidArgument(wrong)) << wrong;
  EXPECT_EQ(a->failed_publishes(), 0u);
  EXPECT_EQ(b->failed_publishes(), 0u);
}

TEST_F(RedisClusterTransportTest, ObserverHearsRequestsAndItsReplyInboxOnly) {
  const std::string prefix = "observer:";
  RecordingListener rn, ro;
  auto node = Node(1, &rn, 0, prefix);
  auto observer = Node(7, &ro, 2, prefix, /*observer=*/true);
  EXPECT_TRUE(Await([&](Completion c) { node->Publish(Channel::kBroadcast, "b", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { node->Publish(Channel::kResponses, "r", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { node->Publish(Channel::kRequests, "q", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { node->Reply(observer->ReplyTo(), "a", c); }).ok());
  ASSERT_TRUE(ro.WaitForMessages(2));
  ASSERT_TRUE(rn.WaitForMessages(3));
  // Anything else would have come through the same subscriber connection before the reply.
  ASSERT_TRUE(ro.WaitFor(Channel::kReplyInbox, "a"));
  auto got = ro.messages();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].channel, Channel::kRequests);
  EXPECT_EQ(got[0].payload, "q");
  EXPECT_EQ(got[1].channel, Channel::kReplyInbox);
}

TEST_F(RedisClusterTransportTest, ThousandBroadcastsArriveInPublishOrder) {
  const std::string prefix = "order:";
  RecordingListener ra, rb;
  auto a = Node(1, &ra, 0, prefix);
  auto b = Node(2, &rb, 2, prefix);
  Completions done;
  for (int i = 0; i < 1000; ++i) a->Publish(Channel::kBroadcast, std::to_string(i), done.Add());
  ASSERT_TRUE(done.WaitAll());
  ASSERT_TRUE(rb.WaitForMessages(1000));
  auto got = rb.messages();
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(got[i].payload, std::to_string(i));
    ASSERT_EQ(got[i].channel, Channel::kBroadcast);
  }
  for (const auto& r : done.results()) EXPECT_TRUE(r->ok()) << *r;
  EXPECT_EQ(a->queue_depth(), 0u);
}

TEST_F(RedisClusterTransportTest, ClassicModeLeavesCountingToHeartbeats) {
  RecordingListener ra, rb;
  auto a = Node(1, &ra, 0, "count:");
  auto b = Node(2, &rb, 1, "count:");
  EXPECT_EQ(CountNodes(*a), std::nullopt);
  EXPECT_EQ(a->name(), "redis-cluster");
  EXPECT_EQ(a->endpoint(), absl::StrCat("redis-cluster://", Addr(cluster_->port(0)), ",",
                                        Addr(cluster_->port(1)), ",", Addr(cluster_->port(2))));
  std::promise<std::thread::id> where;
  a->Post([&] { where.set_value(std::this_thread::get_id()); });
  auto future = where.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  EXPECT_NE(future.get(), std::this_thread::get_id());
}

TEST_F(RedisClusterTransportTest, StopFailsWhatIsQueuedAndLaterPublishesFailAtOnce) {
  RecordingListener ra;
  auto a = Node(1, &ra, 0, "stop:");
  a->Stop();
  EXPECT_FALSE(a->Healthy());
  std::optional<absl::Status> late;
  a->Publish(Channel::kBroadcast, "late", [&](absl::Status st) { late = st; });
  ASSERT_TRUE(late.has_value());
  EXPECT_TRUE(absl::IsFailedPrecondition(*late)) << *late;
  EXPECT_TRUE(a->subscriber_nodes().empty());
}

TEST_F(RedisClusterTransportTest, ShardedFiveDestinationsAndShardnumsubCounting) {
  const std::string prefix = "sharded:";
  RecordingListener ra, rb, ro;
  auto a = Node(1, &ra, 0, prefix, false, /*sharded=*/true);
  auto b = Node(2, &rb, 1, prefix, false, /*sharded=*/true);
  auto observer = Node(9, &ro, 2, prefix, /*observer=*/true, /*sharded=*/true);
  // One subscriber connection per master owning one of the five channels.
  std::set<std::string> owners;
  for (Channel ch : {Channel::kBroadcast, Channel::kRequests, Channel::kResponses}) {
    owners.insert(Addr(cluster_->OwnerPort(KeySlot(RedisChannel(prefix, ch)))));
  }
  owners.insert(
      Addr(cluster_->OwnerPort(KeySlot(RedisChannel(prefix, Channel::kNodeInbox, "node-1")))));
  owners.insert(Addr(cluster_->OwnerPort(
      KeySlot(RedisChannel(prefix, Channel::kReplyInbox, MakeIdentity(1).reply_hex)))));
  auto nodes = a->subscriber_nodes();
  EXPECT_EQ(std::set<std::string>(nodes.begin(), nodes.end()), owners);

  EXPECT_TRUE(Await([&](Completion c) { a->Publish(Channel::kBroadcast, "bcast", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->Publish(Channel::kResponses, "resp", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->PublishToNode("node-2", "inbox", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->PublishRequest("r-1", "query", c); }).ok());
  ASSERT_TRUE(rb.WaitFor(Channel::kBroadcast, "bcast"));
  ASSERT_TRUE(rb.WaitFor(Channel::kResponses, "resp"));
  ASSERT_TRUE(rb.WaitFor(Channel::kNodeInbox, "inbox"));
  ASSERT_TRUE(rb.WaitFor(Channel::kRequests, "query"));
  ASSERT_TRUE(ro.WaitFor(Channel::kRequests, "query"));
  EXPECT_TRUE(Await([&](Completion c) { b->Reply(observer->ReplyTo(), "answer", c); }).ok());
  ASSERT_TRUE(ro.WaitFor(Channel::kReplyInbox, "answer"));
  EXPECT_TRUE(ro.On(Channel::kBroadcast).empty());

  // SHARDNUMSUB on the broadcast channel's owner: the two data nodes, not the observer.
  EXPECT_EQ(CountNodes(*a), std::optional<size_t>(2));
  EXPECT_EQ(CountNodes(*observer), std::optional<size_t>(2));
  b->Stop();
  EXPECT_TRUE(Eventually([&] { return CountNodes(*a) == std::optional<size_t>(1); }, 3s));
}

TEST_F(RedisClusterTransportTest, ShardedSubscriptionFollowsItsSlotAndPublishesFollowMoved) {
  const std::string prefix = "moving:";
  const std::string broadcast = RedisChannel(prefix, Channel::kBroadcast);
  const int slot = KeySlot(broadcast);
  RecordingListener ra, rb, ro;
  // The observer never subscribes to broadcast: its map stays stale until a -MOVED.
  auto observer = Node(9, &ro, 0, prefix, /*observer=*/true, /*sharded=*/true);
  auto a = Node(1, &ra, 0, prefix, false, /*sharded=*/true);
  auto b = Node(2, &rb, 1, prefix, false, /*sharded=*/true);
  ASSERT_TRUE(Await([&](Completion c) { a->Publish(Channel::kBroadcast, "before", c); }).ok());
  ASSERT_TRUE(rb.WaitFor(Channel::kBroadcast, "before"));

  const int old_owner = cluster_->IndexOf(cluster_->OwnerPort(slot));
  ASSERT_GE(old_owner, 0);
  const size_t new_owner = (old_owner + 1) % 3;
  absl::Status moved = cluster_->MoveSlot(slot, new_owner);
  ASSERT_TRUE(moved.ok()) << moved;

  // The old owner drops the subscription (sunsubscribe): b refreshes and subscribes on the new
  // owner, which the listener sees as a break and a resubscription.
  ASSERT_TRUE(rb.WaitFor([&] { return rb.resubscribed_locked() >= 1; }));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.resubscribed_locked() >= 1; }));
  EXPECT_TRUE(Eventually([&] {
    auto nodes = b->subscriber_nodes();
    return std::find(nodes.begin(), nodes.end(), Addr(cluster_->port(new_owner))) != nodes.end();
  }));
  EXPECT_TRUE(b->Healthy());
  EXPECT_EQ(rb.health(), (std::vector<bool>{false, true}));

  // The observer still thinks the old owner serves the slot: -MOVED, then the new owner.
  ASSERT_TRUE(
      Await([&](Completion c) { observer->Publish(Channel::kBroadcast, "after", c); }).ok());
  EXPECT_GE(observer->redirections(), 1u);
  ASSERT_TRUE(rb.WaitFor(Channel::kBroadcast, "after"));
  ASSERT_TRUE(ra.WaitFor(Channel::kBroadcast, "after"));
  ASSERT_TRUE(Await([&](Completion c) { a->Publish(Channel::kBroadcast, "after-a", c); }).ok());
  ASSERT_TRUE(rb.WaitFor(Channel::kBroadcast, "after-a"));
  EXPECT_EQ(CountNodes(*a), std::optional<size_t>(2));
}

// --- Failures (own clusters) ------------------------------------------------------------------

TEST(RedisClusterTransportFailureTest, SubscriberMovesToAnotherNodeWhenItsNodeDies) {
  RedisCluster cluster;
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  RecordingListener ra, rb;
  RedisClusterTransport a(Config(cluster, 0, "kill:"), FastOptions());
  RedisClusterTransport b(Config(cluster, 1, "kill:"), FastOptions());
  ASSERT_TRUE(a.Start(MakeIdentity(1), &ra).ok());
  ASSERT_TRUE(b.Start(MakeIdentity(2), &rb).ok());
  ASSERT_EQ(b.subscriber_nodes(), std::vector<std::string>{Addr(cluster.port(1))});
  ASSERT_TRUE(Await([&](Completion c) { a.Publish(Channel::kBroadcast, "before", c); }).ok());
  ASSERT_TRUE(rb.WaitFor(Channel::kBroadcast, "before"));

  cluster.Kill(1);
  ASSERT_TRUE(rb.WaitFor([&] { return rb.resubscribed_locked() == 1; }));
  EXPECT_EQ(rb.health(), (std::vector<bool>{false, true}));
  EXPECT_TRUE(b.Healthy());
  EXPECT_EQ(b.reconnections(), 1u);
  auto nodes = b.subscriber_nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_NE(nodes[0], Addr(cluster.port(1)));
  // A's subscriber was elsewhere: no break.
  EXPECT_EQ(ra.resubscribed(), 0);
  EXPECT_TRUE(ra.health().empty());

  // Messages flow both ways again, whichever master owned the channels' slots.
  ASSERT_TRUE(Await([&](Completion c) { a.Publish(Channel::kBroadcast, "after", c); }).ok());
  ASSERT_TRUE(Await([&](Completion c) { a.PublishToNode("node-2", "inbox-after", c); }).ok());
  ASSERT_TRUE(rb.WaitFor(Channel::kBroadcast, "after"));
  ASSERT_TRUE(rb.WaitFor(Channel::kNodeInbox, "inbox-after"));
  ASSERT_TRUE(Await([&](Completion c) { b.Publish(Channel::kBroadcast, "from-b", c); }).ok());
  ASSERT_TRUE(Await([&](Completion c) { b.Reply(a.ReplyTo(), "reply-b", c); }).ok());
  ASSERT_TRUE(ra.WaitFor(Channel::kBroadcast, "from-b"));
  ASSERT_TRUE(ra.WaitFor(Channel::kReplyInbox, "reply-b"));
  EXPECT_EQ(a.failed_publishes(), 0u);
  EXPECT_EQ(b.failed_publishes(), 0u);
}

// Sharded pub/sub lives on the masters: when the one owning the broadcast channel dies, its
// replica takes over (cluster-node-timeout 1 s) and the subscription must follow it.
TEST(RedisClusterTransportFailureTest, ShardedSubscriptionsFollowAFailover) {
  RedisCluster cluster(RedisCluster::Options::Masters(3, 1));
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  const std::string prefix = "failover:";
  const int slot = KeySlot(RedisChannel(prefix, Channel::kBroadcast));
  const int owner = cluster.IndexOf(cluster.OwnerPort(slot));
  ASSERT_GE(owner, 0);
  const int replica = cluster.ReplicaIndexOf(owner);
  ASSERT_GE(replica, 0);
  // Seeds: masters only (the topology brings the replicas in).
  auto config = [&](size_t first) {
    config::RedisClusterAdapterConfig c;
    c.prefix = prefix;
    c.use_sharded_pubsub = true;
    for (size_t i = 0; i < 3; ++i) c.nodes.push_back(Seed(cluster.port((first + i) % 3)));
    return c;
  };
  RecordingListener ra, rb;
  RedisClusterTransport a(config(0), FastOptions());
  RedisClusterTransport b(config(1), FastOptions());
  ASSERT_TRUE(a.Start(MakeIdentity(1), &ra).ok());
  ASSERT_TRUE(b.Start(MakeIdentity(2), &rb).ok());
  ASSERT_TRUE(Await([&](Completion c) { a.Publish(Channel::kBroadcast, "before", c); }).ok());
  ASSERT_TRUE(rb.WaitFor(Channel::kBroadcast, "before"));

  cluster.Kill(owner);
  ASSERT_TRUE(Eventually([&] { return !b.Healthy(); }));
  // Reconnects to the dead master fail; every third failure refreshes the topology, and once
  // the replica is promoted the channels move to it.
  ASSERT_TRUE(rb.WaitFor([&] { return rb.resubscribed_locked() >= 1; }, 15s));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.resubscribed_locked() >= 1; }, 15s));
  EXPECT_TRUE(b.Healthy());
  auto nodes = b.subscriber_nodes();
  EXPECT_NE(std::find(nodes.begin(), nodes.end(), Addr(cluster.port(replica))), nodes.end());
  EXPECT_EQ(std::find(nodes.begin(), nodes.end(), Addr(cluster.port(owner))), nodes.end());
  // Subscriptions moved off the dead master's broken link count as restored after a break
  // (horizontal_transport_reconnections_total), as a return of that link would have.
  EXPECT_GE(a.reconnections(), 1u);
  EXPECT_GE(b.reconnections(), 1u);

  ASSERT_TRUE(Await([&](Completion c) { a.Publish(Channel::kBroadcast, "after", c); }).ok());
  ASSERT_TRUE(rb.WaitFor(Channel::kBroadcast, "after"));
  EXPECT_EQ(CountNodes(a), std::optional<size_t>(2));
}

TEST(RedisClusterTransportFailureTest, PublishesFailAfterTheirRetriesWhileTheClusterIsDown) {
  RedisCluster cluster(RedisCluster::Options::Masters(1));
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  RecordingListener ra;
  RedisClusterTransport a(Config(cluster, 0, "down:"), FastOptions());
  ASSERT_TRUE(a.Start(MakeIdentity(1), &ra).ok());
  cluster.Kill(0);
  ASSERT_TRUE(Eventually([&] { return !a.Healthy(); }));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.health_locked() == std::vector<bool>{false}; }));

  auto start = Clock::now();
  Completions done;
  a.Publish(Channel::kBroadcast, "lost-broadcast", done.Add());
  a.PublishRequest("r-1", "lost-request", done.Add());
  ASSERT_TRUE(done.WaitAll(10s));
  auto elapsed = Clock::now() - start;
  for (const auto& r : done.results()) {
    EXPECT_TRUE(absl::IsUnavailable(*r)) << *r;
    EXPECT_NE(r->message().find("after 4 attempts"), std::string::npos) << *r;
  }
  EXPECT_GE(elapsed, 700ms);  // three retries spaced 100, 200 and 400 ms
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(a.failed_publishes(), 2u);
  EXPECT_EQ(a.queue_depth(), 0u);
}

// TLS and a password together (one cluster start): the seed is the TLS port, and the topology
// must hand out the nodes' `tls-port` (CLUSTER SHARDS) for publishes to reach them.
TEST(RedisClusterTransportStartTest, AuthenticatesOverTlsAndAWrongPasswordFailsStartAtOnce) {
  RedisCluster cluster(RedisCluster::Options::Masters(1).WithPassword("pw").WithTls());
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  config::RedisClusterAdapterConfig config;
  config.prefix = "auth:";
  config.nodes = {Seed(cluster.tls_port(0))};
  config.nodes[0].password = "pw";
  config.tls = true;
  config.tls_options.enabled = true;
  config.tls_options.ca_path = cluster.ca_path();
  {
    RecordingListener ra, rb;
    RedisClusterTransport a(config), b(config);
    ASSERT_TRUE(a.Start(MakeIdentity(1), &ra).ok());
    ASSERT_TRUE(b.Start(MakeIdentity(2), &rb).ok());
    EXPECT_EQ(a.endpoint(), absl::StrCat("rediss-cluster://", Addr(cluster.tls_port(0))));
    ASSERT_TRUE(Await([&](Completion c) { a.Publish(Channel::kBroadcast, "secure", c); }).ok());
    ASSERT_TRUE(Await([&](Completion c) { a.PublishToNode("node-2", "inbox", c); }).ok());
    ASSERT_TRUE(rb.WaitFor(Channel::kBroadcast, "secure"));
    ASSERT_TRUE(rb.WaitFor(Channel::kNodeInbox, "inbox"));
  }
  config.nodes[0].password = "wrong";
  RecordingListener r;
  RedisClusterTransport t(config);
  auto start = Clock::now();
  absl::Status st = t.Start(MakeIdentity(1), &r);
  EXPECT_LT(Clock::now() - start, 2s);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(st)) << st;
  EXPECT_NE(st.message().find("WRONGPASS"), std::string::npos) << st;
  EXPECT_NE(st.message().find(absl::StrCat("seeds ", Addr(cluster.tls_port(0)))), std::string::npos)
      << st;
  EXPECT_FALSE(t.Healthy());
}

TEST(RedisClusterTransportStartTest, NoSeedReachableFailsWithinTheStartupBound) {
  const int p1 = testutil::redis_internal::FreePort();
  const int p2 = testutil::redis_internal::FreePort();
  config::RedisClusterAdapterConfig config;
  config.nodes = {Seed(p1), Seed(p2)};
  RecordingListener r;
  RedisClusterTransport t(config);
  auto start = Clock::now();
  absl::Status st = t.Start(MakeIdentity(1), &r);
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_NE(st.message().find(absl::StrCat("seeds ", Addr(p1), ",", Addr(p2))), std::string::npos)
      << st;
  EXPECT_NE(st.message().find("Connection refused"), std::string::npos) << st;
  EXPECT_GE(elapsed, 4500ms);  // it kept trying for the 5 s bound...
  EXPECT_LT(elapsed, 6500ms);  // ...and no longer
  EXPECT_FALSE(t.Healthy());
}

TEST(RedisClusterTransportStartTest, ARedisWithoutClusterSupportFailsAtOnce) {
  testutil::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  config::RedisClusterAdapterConfig config;
  config.nodes = {Seed(redis.port())};
  RecordingListener r;
  RedisClusterTransport t(config);
  auto start = Clock::now();
  absl::Status st = t.Start(MakeIdentity(1), &r);
  EXPECT_LT(Clock::now() - start, 2s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cluster support disabled"), std::string::npos) << st;
}

TEST(RedisClusterTransportStartTest, ConfigurationErrors) {
  RecordingListener r;
  {
    RedisClusterTransport t(config::RedisClusterAdapterConfig{});
    absl::Status st = t.Start(MakeIdentity(1), &r);
    EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
    EXPECT_NE(st.message().find("adapter.cluster.nodes"), std::string::npos) << st;
  }
  {
    config::RedisClusterAdapterConfig config;
    config.nodes = {Seed(0)};
    RedisClusterTransport t(config);
    EXPECT_TRUE(absl::IsInvalidArgument(t.Start(MakeIdentity(1), &r)));
  }
}

}  // namespace
}  // namespace sockudo::bus::redis_cluster
