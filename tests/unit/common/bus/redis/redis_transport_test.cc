#include "common/bus/redis/redis_transport.h"

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/bus/names.h"
#include "gtest/gtest.h"
#include "tests/testutil/bus_listener.h"
#include "tests/testutil/redis_server.h"

namespace sockudo::bus::redis {
namespace {

using namespace std::chrono_literals;
using testutil::Await;
using testutil::Completions;
using testutil::CountNodes;
using testutil::Eventually;
using testutil::MakeIdentity;
using testutil::RecordingListener;
using testutil::RedisServer;
using Clock = std::chrono::steady_clock;

config::RedisTarget Target(int port) {
  config::RedisTarget t;
  t.host = "127.0.0.1";
  t.port = port;
  return t;
}

config::RedisAdapterConfig Config(int port) {
  config::RedisAdapterConfig c;
  c.prefix = "test_adapter:";
  c.pub = Target(port);
  c.sub = Target(port);
  return c;
}

RedisTransport::Options FastOptions() {
  RedisTransport::Options o;
  o.resubscribe_delay = 100ms;
  o.resubscribe_max_delay = 400ms;
  return o;
}

class RedisTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status st = redis_.Start();
    ASSERT_TRUE(st.ok()) << st;
  }

  // A started transport for node `n`.
  std::unique_ptr<RedisTransport> Node(int n, RecordingListener* listener, bool observer = false,
                                       RedisTransport::Options options = FastOptions()) {
    auto t = std::make_unique<RedisTransport>(Config(redis_.port()), options);
    absl::Status st = t->Start(MakeIdentity(n, observer), listener);
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_TRUE(t->Healthy());
    return t;
  }

  RedisServer redis_;
};

TEST_F(RedisTransportTest, FiveDestinationsBetweenTwoNodes) {
  RecordingListener ra, rb;
  auto a = Node(1, &ra);
  auto b = Node(2, &rb);

  EXPECT_TRUE(Await([&](Completion c) { a->Publish(Channel::kBroadcast, "bcast", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->Publish(Channel::kRequests, "req", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->Publish(Channel::kResponses, "resp", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->PublishToNode("node-2", "inbox", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->PublishRequest("r-1", "query", c); }).ok());
  ASSERT_TRUE(rb.WaitForMessages(5));

  // The reply inbox: B answers A's request at A's reply_to.
  EXPECT_EQ(a->ReplyTo(),
            RedisChannel("test_adapter:", Channel::kReplyInbox, MakeIdentity(1).reply_hex));
  EXPECT_TRUE(Await([&](Completion c) { b->Reply(a->ReplyTo(), "answer", c); }).ok());
  ASSERT_TRUE(ra.WaitFor([&] {
    for (const Incoming& m : ra.messages_locked()) {
      if (m.channel == Channel::kReplyInbox) return true;
    }
    return false;
  }));

  EXPECT_TRUE(rb.Has(Channel::kBroadcast, "bcast"));
  EXPECT_TRUE(rb.Has(Channel::kRequests, "req"));
  EXPECT_TRUE(rb.Has(Channel::kResponses, "resp"));
  EXPECT_TRUE(rb.Has(Channel::kNodeInbox, "inbox"));
  EXPECT_TRUE(rb.Has(Channel::kRequests, "query"));
  EXPECT_TRUE(ra.Has(Channel::kReplyInbox, "answer"));
  // A's node inbox and B's reply inbox got nothing; every Incoming has an empty reply_to.
  EXPECT_TRUE(ra.On(Channel::kNodeInbox).empty());
  EXPECT_TRUE(rb.On(Channel::kReplyInbox).empty());
  for (const Incoming& m : rb.messages()) EXPECT_EQ(m.reply_to, "");

  // Reply without an address goes to the responses channel (spec/cluster.md §6.1).
  EXPECT_TRUE(Await([&](Completion c) { b->Reply("", "fallback", c); }).ok());
  EXPECT_TRUE(ra.WaitFor([&] {
    for (const Incoming& m : ra.messages_locked()) {
      if (m.channel == Channel::kResponses && m.payload == "fallback") return true;
    }
    return false;
  }));

  // Inboxes are not addressable through Publish.
  absl::Status wrong = Await([&](Completion c) { a->Publish(Channel::kNodeInbox, "x", c); });
  EXPECT_TRUE(absl::IsInvalidArgument(wrong)) << wrong;
  EXPECT_EQ(a->failed_publishes(), 0u);
}

TEST_F(RedisTransportTest, ObserverHearsRequestsAndItsReplyInboxOnly) {
  RecordingListener rn, ro;
  auto node = Node(1, &rn);
  auto observer = Node(7, &ro, /*observer=*/true);
  EXPECT_TRUE(Await([&](Completion c) { node->Publish(Channel::kBroadcast, "b", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { node->Publish(Channel::kResponses, "r", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { node->Publish(Channel::kRequests, "q", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { node->Reply(observer->ReplyTo(), "a", c); }).ok());
  ASSERT_TRUE(ro.WaitForMessages(2));
  // The node heard its own broadcast, response and request: it is subscribed, and ordered
  // delivery per connection puts them before anything published later.
  ASSERT_TRUE(rn.WaitForMessages(3));
  auto got = ro.messages();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].channel, Channel::kRequests);
  EXPECT_EQ(got[1].channel, Channel::kReplyInbox);
  EXPECT_EQ(got[1].payload, "a");
}

TEST_F(RedisTransportTest, ThousandBroadcastsArriveInPublishOrder) {
  RecordingListener ra, rb;
  auto a = Node(1, &ra);
  auto b = Node(2, &rb);
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

TEST_F(RedisTransportTest, FullPipelineDropsAndCountsNewBroadcasts) {
  RecordingListener ra, rb;
  auto a = Node(1, &ra);
  auto b = Node(2, &rb);
  redis_.Pause();  // nothing is acknowledged: everything stays queued or in flight
  Completions done;
  constexpr int kExtra = 25;
  for (int i = 0; i < 10000 + kExtra; ++i) {
    a->Publish(Channel::kBroadcast, std::to_string(i), done.Add());
  }
  EXPECT_EQ(a->dropped_messages(), static_cast<uint64_t>(kExtra));
  EXPECT_EQ(a->queue_depth(), 10000u);
  redis_.Resume();
  ASSERT_TRUE(done.WaitAll(30s));
  auto results = done.results();
  int ok = 0, exhausted = 0;
  for (int i = 0; i < 10000 + kExtra; ++i) {
    if (results[i]->ok()) {
      ++ok;
      EXPECT_LT(i, 10000);
    } else {
      EXPECT_TRUE(absl::IsResourceExhausted(*results[i])) << *results[i];
      EXPECT_GE(i, 10000);
      ++exhausted;
    }
  }
  EXPECT_EQ(ok, 10000);
  EXPECT_EQ(exhausted, kExtra);
  ASSERT_TRUE(rb.WaitForMessages(10000, 30s));
  auto got = rb.messages();
  EXPECT_EQ(got.front().payload, "0");
  EXPECT_EQ(got.back().payload, "9999");
  EXPECT_EQ(a->queue_depth(), 0u);
}

TEST_F(RedisTransportTest, CountsDataNodesThroughNumsubWithAShortCache) {
  RecordingListener ra, rb, rc, ro;
  auto a = Node(1, &ra);
  auto b = Node(2, &rb);
  auto observer = Node(9, &ro, /*observer=*/true);
  EXPECT_EQ(CountNodes(*a), std::optional<size_t>(2));
  EXPECT_EQ(CountNodes(*observer), std::optional<size_t>(2));  // observers are not counted
  auto c = Node(3, &rc);
  // Within 250 ms A may answer from its cache; afterwards it sees the third node.
  EXPECT_TRUE(Eventually([&] { return CountNodes(*a) == std::optional<size_t>(3); }, 3s));
  c->Stop();
  EXPECT_TRUE(Eventually([&] { return CountNodes(*b) == std::optional<size_t>(2); }, 3s));
}

TEST_F(RedisTransportTest, ReconnectsResubscribesAndDeliversAfterARedisRestart) {
  RecordingListener ra, rb;
  auto a = Node(1, &ra);
  auto b = Node(2, &rb);
  ASSERT_TRUE(Await([&](Completion c) { a->Publish(Channel::kBroadcast, "before", c); }).ok());
  ASSERT_TRUE(rb.WaitForMessages(1));

  redis_.Kill();
  ASSERT_TRUE(Eventually([&] { return !a->Healthy() && !b->Healthy(); }));
  ASSERT_TRUE(rb.WaitFor([&] { return rb.health_locked() == std::vector<bool>{false}; }));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.health_locked() == std::vector<bool>{false}; }));
  EXPECT_EQ(rb.resubscribed(), 0);

  absl::Status restarted = redis_.Start();
  ASSERT_TRUE(restarted.ok()) << restarted;
  ASSERT_TRUE(rb.WaitFor([&] { return rb.resubscribed_locked() == 1; }));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.resubscribed_locked() == 1; }));
  EXPECT_TRUE(a->Healthy());
  EXPECT_TRUE(b->Healthy());
  EXPECT_EQ(rb.health(), (std::vector<bool>{false, true}));
  EXPECT_EQ(b->reconnections(), 1u);

  // The events and command connections redial on demand: every destination works again.
  ASSERT_TRUE(Await([&](Completion c) { a->Publish(Channel::kBroadcast, "after", c); }).ok());
  ASSERT_TRUE(Await([&](Completion c) { a->PublishToNode("node-2", "inbox-after", c); }).ok());
  ASSERT_TRUE(rb.WaitFor([&] {
    bool broadcast = false, inbox = false;
    for (const Incoming& m : rb.messages_locked()) {
      broadcast |= m.payload == "after";
      inbox |= m.payload == "inbox-after";
    }
    return broadcast && inbox;
  }));
  EXPECT_EQ(CountNodes(*a), std::optional<size_t>(2));
}

TEST_F(RedisTransportTest, PublishesFailAfterTheirRetriesWhileRedisIsDown) {
  RecordingListener ra;
  auto a = Node(1, &ra);
  redis_.Kill();
  ASSERT_TRUE(Eventually([&] { return !a->Healthy(); }));

  auto start = Clock::now();
  Completions done;
  a->Publish(Channel::kBroadcast, "lost-broadcast", done.Add());
  a->PublishRequest("r-1", "lost-request", done.Add());
  ASSERT_TRUE(done.WaitAll(10s));
  auto elapsed = Clock::now() - start;
  for (const auto& r : done.results()) {
    EXPECT_TRUE(absl::IsUnavailable(*r)) << *r;
    EXPECT_NE(r->message().find("after 4 attempts"), std::string::npos) << *r;
  }
  // Three retries spaced 100, 200 and 400 ms.
  EXPECT_GE(elapsed, 700ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(a->failed_publishes(), 2u);
  EXPECT_EQ(CountNodes(*a), std::nullopt);  // the caller falls back to heartbeats

  ASSERT_TRUE(redis_.Start().ok());
  EXPECT_TRUE(Await([&](Completion c) { a->Publish(Channel::kBroadcast, "ok", c); }).ok());
  EXPECT_TRUE(Await([&](Completion c) { a->PublishRequest("r-2", "ok", c); }).ok());
}

TEST_F(RedisTransportTest, BroadcastsQueuedDuringAnOutageLeaveInOrderOnceRedisIsBack) {
  RecordingListener ra, rb;
  RedisTransport::Options slow_retries = FastOptions();
  slow_retries.publish_retry_delay = 1500ms;  // retries at +1.5 s, +4.5 s, +10.5 s
  slow_retries.publish_retry_max_delay = 6000ms;
  auto a = Node(1, &ra, false, slow_retries);
  auto b = Node(2, &rb);
  redis_.Kill();
  ASSERT_TRUE(Eventually([&] { return !a->Healthy(); }));
  Completions done;
  for (int i = 0; i < 20; ++i) a->Publish(Channel::kBroadcast, std::to_string(i), done.Add());
  ASSERT_TRUE(Eventually([&] { return a->queue_depth() == 20; }));
  ASSERT_TRUE(redis_.Start().ok());
  ASSERT_TRUE(rb.WaitFor([&] { return rb.resubscribed_locked() == 1; }));
  ASSERT_TRUE(done.WaitAll());
  for (const auto& r : done.results()) EXPECT_TRUE(r->ok()) << *r;
  ASSERT_TRUE(rb.WaitForMessages(20));
  auto got = rb.messages();
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i].payload, std::to_string(i));
  EXPECT_EQ(a->failed_publishes(), 0u);
}

TEST_F(RedisTransportTest, StopFailsWhatIsStillQueued) {
  RecordingListener ra;
  auto a = Node(1, &ra);
  redis_.Pause();
  Completions done;
  for (int i = 0; i < 5; ++i) a->Publish(Channel::kBroadcast, "x", done.Add());
  a->PublishRequest("r", "x", done.Add());
  a->Stop();
  ASSERT_TRUE(done.WaitAll(1s));
  for (const auto& r : done.results()) EXPECT_TRUE(absl::IsCancelled(*r)) << *r;
  redis_.Resume();
  EXPECT_FALSE(a->Healthy());
  // After Stop, publishes fail at once.
  std::optional<absl::Status> late;
  a->Publish(Channel::kBroadcast, "late", [&](absl::Status st) { late = st; });
  ASSERT_TRUE(late.has_value());
  EXPECT_TRUE(absl::IsFailedPrecondition(*late));
}

TEST_F(RedisTransportTest, PostRunsOnTheDriverThread) {
  RecordingListener ra;
  auto a = Node(1, &ra);
  std::promise<std::thread::id> where;
  a->Post([&] { where.set_value(std::this_thread::get_id()); });
  auto future = where.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  EXPECT_NE(future.get(), std::this_thread::get_id());
  EXPECT_EQ(a->name(), "redis");
}

TEST(RedisTransportStartTest, AuthAndSelect) {
  RedisServer redis(RedisServer::Options::WithPassword("pw"));
  ASSERT_TRUE(redis.Start().ok());
  config::RedisAdapterConfig config = Config(redis.port());
  config.pub.password = config.sub.password = "pw";
  config.pub.db = config.sub.db = 5;
  RecordingListener ra, rb;
  RedisTransport a(config), b(config);
  ASSERT_TRUE(a.Start(MakeIdentity(1), &ra).ok());
  ASSERT_TRUE(b.Start(MakeIdentity(2), &rb).ok());
  ASSERT_TRUE(Await([&](Completion c) { a.Publish(Channel::kBroadcast, "auth", c); }).ok());
  ASSERT_TRUE(rb.WaitForMessages(1));
  auto clients = redis.Command({"CLIENT", "LIST"});
  ASSERT_TRUE(clients.ok());
  EXPECT_NE(clients->str.find(" db=5 "), std::string::npos) << clients->str;
}

TEST(RedisTransportStartTest, AWrongPasswordFailsStartAtOnceAndClearly) {
  RedisServer redis(RedisServer::Options::WithPassword("pw"));
  ASSERT_TRUE(redis.Start().ok());
  config::RedisAdapterConfig config = Config(redis.port());
  config.pub.password = config.sub.password = "wrong";
  RecordingListener r;
  RedisTransport t(config);
  auto start = Clock::now();
  absl::Status st = t.Start(MakeIdentity(1), &r);
  EXPECT_LT(Clock::now() - start, 2s);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(st)) << st;
  EXPECT_NE(st.message().find("WRONGPASS"), std::string::npos) << st;
  EXPECT_NE(st.message().find(absl::StrCat("127.0.0.1:", redis.port())), std::string::npos) << st;
  EXPECT_FALSE(t.Healthy());
}

TEST(RedisTransportStartTest, NothingListeningFailsWithinTheStartupBound) {
  const int port = testutil::redis_internal::FreePort();
  RecordingListener r;
  RedisTransport t(Config(port));
  auto start = Clock::now();
  absl::Status st = t.Start(MakeIdentity(1), &r);
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_NE(st.message().find(absl::StrCat("127.0.0.1:", port)), std::string::npos) << st;
  EXPECT_GE(elapsed, 4500ms);  // it kept trying for the 5 s bound...
  EXPECT_LT(elapsed, 7s);      // ...and no longer
}

TEST(RedisTransportStartTest, StartsOverTls) {
  RedisServer redis(RedisServer::Options::WithTls());
  absl::Status started = redis.Start();
  ASSERT_TRUE(started.ok()) << started;
  config::RedisAdapterConfig config = Config(redis.tls_port());
  for (config::RedisTarget* t : {&config.pub, &config.sub}) {
    t->tls = true;
    t->tls_options.ca_path = redis.ca_path();
  }
  RecordingListener ra, rb;
  RedisTransport a(config), b(config);
  ASSERT_TRUE(a.Start(MakeIdentity(1), &ra).ok());
  ASSERT_TRUE(b.Start(MakeIdentity(2), &rb).ok());
  EXPECT_EQ(a.endpoint(), absl::StrCat("rediss://127.0.0.1:", redis.tls_port(), "/0"));
  ASSERT_TRUE(Await([&](Completion c) { a.Publish(Channel::kBroadcast, "secure", c); }).ok());
  ASSERT_TRUE(rb.WaitForMessages(1));
  EXPECT_EQ(rb.messages()[0].payload, "secure");
}

}  // namespace
}  // namespace sockudo::bus::redis
