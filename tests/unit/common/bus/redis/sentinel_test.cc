#include "common/bus/redis/sentinel.h"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/bus/names.h"
#include "common/bus/redis/redis_transport.h"
#include "gtest/gtest.h"
#include "tests/testutil/bus_listener.h"
#include "tests/testutil/redis_server.h"

namespace sockudo::bus::redis {
namespace {

using namespace std::chrono_literals;
using testutil::RedisSentinel;
using testutil::RedisServer;
using Clock = std::chrono::steady_clock;

template <typename Pred>
bool RunUntil(boost::asio::io_context& io, Pred done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (!done() && Clock::now() < deadline) {
    io.run_one_for(10ms);
    if (io.stopped()) io.restart();
  }
  return done();
}

// Sentinel and failover waits are long: poll every 20 ms.
bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  return testutil::Eventually(pred, timeout, 20ms);
}

// Value of `key` in a flat [k1, v1, k2, v2, ...] reply.
std::string Field(const RedisReply& flat, const std::string& key) {
  for (size_t i = 0; i + 1 < flat.elements.size(); i += 2) {
    if (flat.elements[i].str == key) return flat.elements[i + 1].str;
  }
  return "";
}

// A master, one replica and one sentinel (quorum 1) watching them as "mymaster".
class SentinelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status st = master_.Start();
    ASSERT_TRUE(st.ok()) << st;
    replica_ = std::make_unique<RedisServer>(RedisServer::Options::ReplicaOf(master_.port()));
    st = replica_->Start();
    ASSERT_TRUE(st.ok()) << st;
    st = sentinel_.Start(master_.port());
    ASSERT_TRUE(st.ok()) << st;
  }

  SentinelOptions Options(std::vector<config::HostPort> sentinels) {
    SentinelOptions o;
    o.sentinels = std::move(sentinels);
    o.master_name = "mymaster";
    return o;
  }

  // The sentinel knows the replica and its link to the master is up (a failover can pick it).
  bool ReplicaReady() {
    auto r = sentinel_.Command({"SENTINEL", "REPLICAS", "mymaster"});
    if (!r.ok() || !r->is_array()) return false;
    for (const RedisReply& replica : r->elements) {
      if (Field(replica, "port") == std::to_string(replica_->port()) &&
          Field(replica, "flags") == "slave" && Field(replica, "master-link-status") == "ok") {
        return true;
      }
    }
    return false;
  }

  int SentinelMasterPort() {
    auto r = sentinel_.Command({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"});
    if (!r.ok() || !r->is_array() || r->elements.size() != 2) return 0;
    return std::stoi(r->elements[1].str);
  }

  RedisServer master_;
  std::unique_ptr<RedisServer> replica_;
  RedisSentinel sentinel_;
  boost::asio::io_context io_;
};

TEST_F(SentinelTest, ResolvesTheMasterRotatingPastADeadSentinel) {
  const int dead = testutil::redis_internal::FreePort();
  auto sentinel =
      Sentinel::Create(io_, Options({{"127.0.0.1", dead}, {"127.0.0.1", sentinel_.port()}}));
  std::optional<absl::StatusOr<config::HostPort>> master;
  sentinel->ResolveMaster([&](absl::StatusOr<config::HostPort> r) { master = std::move(r); });
  ASSERT_TRUE(RunUntil(io_, [&] { return master.has_value(); }));
  ASSERT_TRUE(master->ok()) << master->status();
  EXPECT_EQ((*master)->host, "127.0.0.1");
  EXPECT_EQ((*master)->port, master_.port());
}

TEST_F(SentinelTest, FailsNamingEverySentinelWhenNoneKnowsTheMaster) {
  const int dead = testutil::redis_internal::FreePort();
  SentinelOptions o = Options({{"127.0.0.1", dead}, {"127.0.0.1", sentinel_.port()}});
  o.master_name = "othermaster";
  auto sentinel = Sentinel::Create(io_, o);
  std::optional<absl::StatusOr<config::HostPort>> master;
  sentinel->ResolveMaster([&](absl::StatusOr<config::HostPort> r) { master = std::move(r); });
  ASSERT_TRUE(RunUntil(io_, [&] { return master.has_value(); }));
  ASSERT_FALSE(master->ok());
  const std::string text(master->status().message());
  EXPECT_NE(text.find("unknown master 'othermaster'"), std::string::npos) << text;
  EXPECT_NE(text.find(absl::StrCat("127.0.0.1:", dead)), std::string::npos) << text;
  EXPECT_NE(text.find(absl::StrCat("127.0.0.1:", sentinel_.port())), std::string::npos) << text;
}

TEST_F(SentinelTest, ConnectMasterChecksTheRole) {
  auto sentinel = Sentinel::Create(io_, Options({{"127.0.0.1", sentinel_.port()}}));
  ConnectionOptions master;
  master.db = 2;
  std::optional<absl::StatusOr<std::shared_ptr<RedisConnection>>> conn;
  sentinel->ConnectMaster(master, Clock::now() + 5s,
                          [&](absl::StatusOr<std::shared_ptr<RedisConnection>> c) { conn = c; });
  ASSERT_TRUE(RunUntil(io_, [&] { return conn.has_value(); }));
  ASSERT_TRUE(conn->ok()) << conn->status();
  EXPECT_EQ((**conn)->address(), absl::StrCat("127.0.0.1:", master_.port()));
  EXPECT_TRUE((**conn)->ready());
  std::optional<absl::StatusOr<RedisReply>> info;
  (**conn)->Command({"CLIENT", "INFO"}, [&](absl::StatusOr<RedisReply> r) { info = r; });
  ASSERT_TRUE(RunUntil(io_, [&] { return info.has_value(); }));
  ASSERT_TRUE(info->ok());
  EXPECT_NE((*info)->str.find(" db=2 "), std::string::npos);
  (**conn)->Close();
}

TEST(SentinelLogTest, EndpointMasksSecrets) {
  config::RedisTarget t;
  t.sentinels = {{"10.0.0.1", 26379}, {"10.0.0.2", 0}};
  t.sentinel_name = "main";
  t.db = 4;
  EXPECT_EQ(Sentinel::EndpointForLog(t), "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/main/4");
  t.sentinel_password = "s";
  t.password = "p";
  EXPECT_EQ(Sentinel::EndpointForLog(t),
            "redis+sentinel://:***@10.0.0.1:26379,10.0.0.2:26379/main/4?password=***");
}

absl::Status PublishAndWait(Transport& t, const std::string& payload) {
  return testutil::Await([&](Completion c) { t.Publish(Channel::kBroadcast, payload, c); });
}

TEST_F(SentinelTest, TransportDiscoversTheMasterAndFollowsAFailover) {
  config::RedisAdapterConfig config;
  config.prefix = "sentinel_test:";
  config.pub.host = "192.0.2.1";  // never dialled: the sentinel names the master
  config.pub.sentinels = {{"127.0.0.1", sentinel_.port()}};
  config.pub.sentinel_name = "mymaster";
  config.sub = config.pub;
  RedisTransport::Options options;
  options.resubscribe_delay = 100ms;
  options.resubscribe_max_delay = 500ms;
  testutil::RecordingListener ra, rb;
  RedisTransport a(config, options), b(config, options);
  Identity ia{"node-a", std::string(32, 'a'), false}, ib{"node-b", std::string(32, 'b'), false};
  ASSERT_TRUE(a.Start(ia, &ra).ok());
  ASSERT_TRUE(b.Start(ib, &rb).ok());
  EXPECT_NE(a.endpoint().find("redis+sentinel://127.0.0.1:"), std::string::npos) << a.endpoint();
  ASSERT_TRUE(PublishAndWait(a, "before").ok());
  ASSERT_TRUE(Eventually([&] { return rb.HasPayloadPrefix("before"); }, 5s));
  EXPECT_EQ(testutil::CountNodes(a), std::optional<size_t>(2));

  ASSERT_TRUE(Eventually([&] { return ReplicaReady(); }, 30s)) << "sentinel never saw the replica";
  ASSERT_TRUE(Eventually(
      [&] {
        return sentinel_.Command({"SENTINEL", "FAILOVER", "mymaster"}).ok();
      },
      20s));
  ASSERT_TRUE(Eventually([&] { return SentinelMasterPort() == replica_->port(); }, 30s));

  // Publishes keep succeeding; the nodes end up on the new master (when the sentinel turns the
  // old master into a replica it disconnects its clients, and every redial asks the sentinel):
  // B hears A, and the new master counts both subscribers.
  const std::string broadcast = RedisChannel(config.prefix, Channel::kBroadcast);
  int i = 0;
  bool followed = Eventually(
      [&] {
        absl::Status st = PublishAndWait(a, absl::StrCat("after-", i++));
        if (!st.ok()) return false;
        auto numsub = replica_->Command({"PUBSUB", "NUMSUB", broadcast});
        return rb.HasPayloadPrefix("after-") && numsub.ok() && numsub->elements.size() == 2 &&
               numsub->elements[1].integer == 2;
      },
      30s);
  ASSERT_TRUE(followed);
  EXPECT_TRUE(Eventually([&] { return testutil::CountNodes(a) == std::optional<size_t>(2); }, 10s));
  EXPECT_TRUE(Eventually([&] { return a.Healthy() && b.Healthy(); }, 10s));
}

}  // namespace
}  // namespace sockudo::bus::redis
