#include "common/bus/redis_cluster/cluster_topology.h"

#include <set>
#include <string>
#include <vector>

#include "common/bus/redis_cluster/cluster_router.h"
#include "common/bus/redis_cluster/cluster_slot.h"
#include "gtest/gtest.h"
#include "tests/testutil/redis_cluster.h"

namespace sockudo::bus::redis_cluster {
namespace {

using redis::RedisReply;

RedisReply Str(std::string s) {
  RedisReply r;
  r.type = RedisReply::Type::kString;
  r.str = std::move(s);
  return r;
}
RedisReply Int(int64_t v) {
  RedisReply r;
  r.type = RedisReply::Type::kInteger;
  r.integer = v;
  return r;
}
RedisReply Nil() { return RedisReply{}; }
RedisReply Arr(std::vector<RedisReply> elements) {
  RedisReply r;
  r.type = RedisReply::Type::kArray;
  r.elements = std::move(elements);
  return r;
}

// One CLUSTER SHARDS node entry.
RedisReply ShardNode(std::string role, std::string ip, int64_t port,
                     std::vector<RedisReply> extra = {}, std::string health = "online") {
  std::vector<RedisReply> kv = {
      Str("id"),          Str("abc"),  Str("port"),          Int(port),     Str("ip"),
      Str(std::move(ip)), Str("role"), Str(std::move(role)), Str("health"), Str(std::move(health))};
  for (RedisReply& e : extra) kv.push_back(std::move(e));
  return Arr(std::move(kv));
}

RedisReply Shard(std::vector<int64_t> ranges, std::vector<RedisReply> nodes) {
  std::vector<RedisReply> slots;
  for (int64_t v : ranges) slots.push_back(Int(v));
  return Arr({Str("slots"), Arr(std::move(slots)), Str("nodes"), Arr(std::move(nodes))});
}

const NodeAddress kAsked{"10.1.1.1", 7000};

TEST(ClusterTopologyTest, ShardsMapsSlotsToMastersAndKeepsReplicas) {
  RedisReply reply = Arr({
      Shard({0, 100, 200, 300},
            {ShardNode("master", "10.0.0.1", 7001), ShardNode("replica", "10.0.0.4", 7004)}),
      Shard({101, 199},
            {ShardNode("replica", "10.0.0.5", 7005), ShardNode("master", "10.0.0.2", 7002)}),
  });
  auto t = ClusterTopology::FromShards(reply, kAsked, /*tls=*/false);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->covered_slots(), 301u);
  ASSERT_NE(t->MasterOf(0), nullptr);
  EXPECT_EQ(t->MasterOf(0)->ToString(), "10.0.0.1:7001");
  EXPECT_EQ(t->MasterOf(300)->ToString(), "10.0.0.1:7001");
  EXPECT_EQ(t->MasterOf(150)->ToString(), "10.0.0.2:7002");
  EXPECT_EQ(t->MasterOf(301), nullptr);
  EXPECT_EQ(t->masters().size(), 2u);
  ASSERT_EQ(t->replicas().size(), 2u);
  EXPECT_EQ(t->nodes().size(), 4u);
  EXPECT_EQ(t->DebugString(),
            "10.0.0.1:7001[0-100,200-300] 10.0.0.2:7002[101-199] 10.0.0.4:7004[replica] "
            "10.0.0.5:7005[replica]");

  // -MOVED patches one slot.
  t->SetOwner(5, NodeAddress{"10.0.0.3", 7003});
  EXPECT_EQ(t->MasterOf(5)->ToString(), "10.0.0.3:7003");
  EXPECT_EQ(t->MasterOf(4)->ToString(), "10.0.0.1:7001");
  EXPECT_TRUE(t->IsMaster(NodeAddress{"10.0.0.3", 7003}));
}

TEST(ClusterTopologyTest, ShardsHostAndPortRules) {
  // endpoint wins over hostname over ip; "?" and "" fall through; nothing left: the asked host.
  RedisReply reply = Arr({
      Shard({0, 0},
            {ShardNode("master", "10.0.0.1", 7001,
                       {Str("endpoint"), Str("redis-a.example"), Str("hostname"), Str("host-a")})}),
      Shard({1, 1}, {ShardNode("master", "10.0.0.2", 7002,
                               {Str("endpoint"), Str("?"), Str("hostname"), Str("host-b")})}),
      Shard({2, 2}, {ShardNode("master", "10.0.0.3", 7003, {Str("endpoint"), Str("")})}),
      Shard({3, 3}, {ShardNode("master", "", 7004, {Str("endpoint"), Str("?")})}),
      // TLS: tls-port when present (and not 0).
      Shard({4, 4}, {ShardNode("master", "10.0.0.5", 7005, {Str("tls-port"), Int(8005)})}),
      Shard({5, 5}, {ShardNode("master", "10.0.0.6", 7006, {Str("tls-port"), Int(0)})}),
      // A failed master does not own its slots; an empty shard adds nobody.
      Shard({6, 6}, {ShardNode("master", "10.0.0.7", 7007, {}, "fail"),
                     ShardNode("replica", "10.0.0.8", 7008)}),
      Shard({}, {ShardNode("master", "10.0.0.9", 7009)}),
  });
  auto plain = ClusterTopology::FromShards(reply, kAsked, /*tls=*/false);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->MasterOf(0)->ToString(), "redis-a.example:7001");
  EXPECT_EQ(plain->MasterOf(1)->ToString(), "host-b:7002");
  EXPECT_EQ(plain->MasterOf(2)->ToString(), "10.0.0.3:7003");
  EXPECT_EQ(plain->MasterOf(3)->ToString(), "10.1.1.1:7004");
  EXPECT_EQ(plain->MasterOf(4)->ToString(), "10.0.0.5:7005");
  EXPECT_EQ(plain->MasterOf(6), nullptr);
  EXPECT_FALSE(plain->IsMaster(NodeAddress{"10.0.0.9", 7009}));
  auto tls = ClusterTopology::FromShards(reply, kAsked, /*tls=*/true);
  ASSERT_TRUE(tls.ok());
  EXPECT_EQ(tls->MasterOf(4)->ToString(), "10.0.0.5:8005");
  EXPECT_EQ(tls->MasterOf(5)->ToString(), "10.0.0.6:7006");
}

TEST(ClusterTopologyTest, SlotsReplyAndItsUnknownAddresses) {
  RedisReply reply = Arr({
      Arr({Int(0), Int(8191), Arr({Str("10.0.0.1"), Int(7001), Str("id1")}),
           Arr({Str("10.0.0.4"), Int(7004), Str("id4")})}),
      Arr({Int(8192), Int(16382), Arr({Str("?"), Int(7002), Str("id2")})}),
      Arr({Int(16383), Int(16383), Arr({Nil(), Int(7003), Str("id3")})}),
  });
  auto t = ClusterTopology::FromSlots(reply, kAsked);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->covered_slots(), 16384u);
  EXPECT_EQ(t->MasterOf(8191)->ToString(), "10.0.0.1:7001");
  EXPECT_EQ(t->MasterOf(8192)->ToString(), "10.1.1.1:7002");
  EXPECT_EQ(t->MasterOf(16383)->ToString(), "10.1.1.1:7003");
  ASSERT_EQ(t->replicas().size(), 1u);
  EXPECT_EQ(t->replicas()[0].ToString(), "10.0.0.4:7004");
}

TEST(ClusterTopologyTest, MalformedRepliesAreErrors) {
  EXPECT_FALSE(ClusterTopology::FromShards(Str("x"), kAsked, false).ok());
  EXPECT_FALSE(ClusterTopology::FromShards(Arr({Arr({Str("slots")})}), kAsked, false).ok());
  EXPECT_FALSE(ClusterTopology::FromShards(Arr({Shard({5, 3}, {ShardNode("master", "a", 1)})}),
                                           kAsked, false)
                   .ok());
  EXPECT_FALSE(
      ClusterTopology::FromSlots(Arr({Arr({Int(0), Int(16384), Arr({Str("a"), Int(1)})})}), kAsked)
          .ok());
  EXPECT_FALSE(ClusterTopology::FromSlots(Arr({Arr({Int(0), Int(1)})}), kAsked).ok());
}

TEST(ClusterTopologyTest, NodeAddressParse) {
  EXPECT_EQ(NodeAddress::Parse("127.0.0.1:6380", "x")->ToString(), "127.0.0.1:6380");
  EXPECT_EQ(NodeAddress::Parse(":6380", "10.0.0.9")->ToString(), "10.0.0.9:6380");
  EXPECT_EQ(NodeAddress::Parse("10.0.0.1:6380@16380", "")->ToString(), "10.0.0.1:6380");
  EXPECT_EQ(NodeAddress::Parse("::1:6380", "")->host, "::1");
  EXPECT_FALSE(NodeAddress::Parse("host", "").has_value());
  EXPECT_FALSE(NodeAddress::Parse("host:0", "").has_value());
  EXPECT_FALSE(NodeAddress::Parse("host:70000", "").has_value());
}

TEST(ClusterTopologyTest, ParseRedirect) {
  Redirect moved = ParseRedirect("MOVED 3999 127.0.0.1:6381", "h");
  EXPECT_EQ(moved.kind, Redirect::Kind::kMoved);
  EXPECT_EQ(moved.slot, 3999);
  EXPECT_EQ(moved.to.ToString(), "127.0.0.1:6381");
  Redirect ask = ParseRedirect("ASK 12 :7000", "10.0.0.2");
  EXPECT_EQ(ask.kind, Redirect::Kind::kAsk);
  EXPECT_EQ(ask.to.ToString(), "10.0.0.2:7000");
  EXPECT_EQ(ParseRedirect("TRYAGAIN Multiple keys request during rehashing of slot", "h").kind,
            Redirect::Kind::kTryAgain);
  EXPECT_EQ(ParseRedirect("CLUSTERDOWN The cluster is down", "h").kind,
            Redirect::Kind::kClusterDown);
  EXPECT_EQ(ParseRedirect("ERR unknown command", "h").kind, Redirect::Kind::kNone);
  EXPECT_EQ(ParseRedirect("MOVED x 1.2.3.4:5", "h").kind, Redirect::Kind::kNone);
  EXPECT_EQ(ParseRedirect("MOVED 16384 1.2.3.4:5", "h").kind, Redirect::Kind::kNone);
  EXPECT_EQ(ParseRedirect("MOVEDX 1 1.2.3.4:5", "h").kind, Redirect::Kind::kNone);
}

TEST(ClusterTopologyTest, ClusterLinksUp) {
  const std::string myself = "07c3 127.0.0.1:30004@40004 myself,master - 0 0 1 connected 0-5460\n";
  const std::string up =
      "67ed 127.0.0.1:30002@40002 master - 0 1426238316232 2 connected 5461-10922\n"
      "292f 127.0.0.1:30003@40003 slave 67ed 0 1426238318243 3 connected\n";
  EXPECT_TRUE(ClusterLinksUp(myself + up));
  EXPECT_TRUE(ClusterLinksUp(myself));
  // A link still down (a node restarting) holds; a failed, address-less or handshaking node does
  // not.
  EXPECT_FALSE(ClusterLinksUp(
      myself + up +
      "6ec2 127.0.0.1:30005@40005 master - 1426238316232 0 4 disconnected 10923-16383\n"));
  EXPECT_FALSE(ClusterLinksUp(
      myself + "6ec2 127.0.0.1:30005@40005 master,fail? - 1 0 4 disconnected 10923-16383\n"));
  EXPECT_TRUE(ClusterLinksUp(myself + up +
                             "6ec2 127.0.0.1:30005@40005 master,fail - 1 0 4 disconnected\n" +
                             "824f :0@0 master,noaddr - 1 0 0 disconnected\n" +
                             "a1b2 127.0.0.1:30007@40007 handshake - 1 0 0 disconnected\n"));
  EXPECT_FALSE(ClusterLinksUp(""));
  EXPECT_FALSE(ClusterLinksUp("07c3 127.0.0.1:30004@40004 myself,master\n"));
}

// The parsers against what a real Redis 7 cluster answers.
TEST(ClusterTopologyTest, RealClusterShardsAndSlotsAgree) {
  testutil::RedisCluster cluster(testutil::RedisCluster::Options::Masters(3, 1));
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  const NodeAddress asked{"127.0.0.1", static_cast<uint16_t>(cluster.port(0))};
  auto shards = cluster.Command(0, {"CLUSTER", "SHARDS"});
  ASSERT_TRUE(shards.ok()) << shards.status();
  auto slots = cluster.Command(0, {"CLUSTER", "SLOTS"});
  ASSERT_TRUE(slots.ok()) << slots.status();
  auto from_shards = ClusterTopology::FromShards(*shards, asked, /*tls=*/false);
  ASSERT_TRUE(from_shards.ok()) << from_shards.status();
  auto from_slots = ClusterTopology::FromSlots(*slots, asked);
  ASSERT_TRUE(from_slots.ok()) << from_slots.status();

  for (const ClusterTopology* t : {&*from_shards, &*from_slots}) {
    EXPECT_EQ(t->covered_slots(), 16384u) << t->DebugString();
    ASSERT_EQ(t->masters().size(), 3u) << t->DebugString();
    EXPECT_EQ(t->replicas().size(), 3u) << t->DebugString();
    std::set<int> master_ports;
    for (const NodeAddress& m : t->masters()) {
      EXPECT_EQ(m.host, "127.0.0.1");
      master_ports.insert(m.port);
    }
    EXPECT_EQ(master_ports, (std::set<int>{cluster.port(0), cluster.port(1), cluster.port(2)}));
    for (const char* key : {"sockudo_adapter::#broadcast", "sockudo_adapter::#requests", "foo"}) {
      const int slot = KeySlot(key);
      ASSERT_NE(t->MasterOf(slot), nullptr);
      EXPECT_EQ(t->MasterOf(slot)->port, cluster.OwnerPort(slot)) << key;
      auto keyslot = cluster.Command(0, {"CLUSTER", "KEYSLOT", key});
      ASSERT_TRUE(keyslot.ok());
      EXPECT_EQ(keyslot->integer, slot) << key;
    }
  }
  for (int slot = 0; slot < kSlotCount; ++slot) {
    ASSERT_EQ(*from_shards->MasterOf(slot), *from_slots->MasterOf(slot)) << slot;
  }
  auto nodes = cluster.Command(0, {"CLUSTER", "NODES"});
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_TRUE(ClusterLinksUp(nodes->str)) << nodes->str;
}

}  // namespace
}  // namespace sockudo::bus::redis_cluster
