#include "dataplane/connection/connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/apps/memory/memory_app_store.h"
#include "dataplane/cache/channel_cache.h"
#include "tests/testutil/node_fixture.h"

namespace sockudo::dataplane::connection {
namespace {

using ::testing::HasSubstr;

apps::App AppWithUserAuthentication() {
  apps::App app = apps::DefaultApp();
  app.enable_user_authentication = true;
  return app;
}

class ConnectionTest : public ::testing::Test {
 protected:
  testutil::NodeFixture node_{AppWithUserAuthentication()};
  testutil::NodeFixture::Client& client_ = node_.Connect("1.1");
  Connection* connection_ = client_.connection.get();
  testutil::FakeTransport& transport_ = client_.transport;
  const Connection::Clock::time_point t0_ = node_.now;
};

TEST_F(ConnectionTest, PingsAfterSilenceThenClosesWith4201WithoutAPong) {
  ASSERT_THAT(transport_.frames.front(), HasSubstr("pusher:connection_established"));
  connection_->MarkAuthorized();
  connection_->Tick(t0_ + std::chrono::seconds(119));
  EXPECT_EQ(transport_.frames.size(), 1u);
  connection_->Tick(t0_ + std::chrono::seconds(120));
  ASSERT_EQ(transport_.frames.size(), 2u);
  EXPECT_EQ(transport_.frames.back(), R"({"event":"pusher:ping","data":{}})");
  connection_->Tick(t0_ + std::chrono::seconds(149));
  EXPECT_EQ(transport_.close_code, 0);
  connection_->Tick(t0_ + std::chrono::seconds(150));
  EXPECT_EQ(transport_.close_code, 4201);
  EXPECT_THAT(transport_.frames.back(), HasSubstr(R"("code":4201)"));
  EXPECT_EQ(node_.node->connections.AppConnections("app-id"),
            0);  // cleaned up before the close frame
}

TEST_F(ConnectionTest, AnyActivityResetsTheClock) {
  connection_->MarkAuthorized();
  connection_->Tick(t0_ + std::chrono::seconds(120));        // ping sent
  connection_->OnActivity(t0_ + std::chrono::seconds(125));  // pong arrived
  connection_->Tick(t0_ + std::chrono::seconds(160));
  EXPECT_EQ(transport_.close_code, 0);
  connection_->Tick(t0_ + std::chrono::seconds(245));
  EXPECT_EQ(transport_.frames.back(), R"({"event":"pusher:ping","data":{}})");
}

TEST_F(ConnectionTest, UnauthorizedConnectionClosesWith4009AtTheDeadline) {
  connection_->Tick(t0_ + std::chrono::seconds(29));
  EXPECT_EQ(transport_.close_code, 0);
  connection_->Tick(t0_ + std::chrono::seconds(30));
  EXPECT_EQ(transport_.close_code, 4009);
}

TEST_F(ConnectionTest, SlowConsumerIsClosedWith4100OnTheNextTurn) {
  transport_.full = true;
  EXPECT_FALSE(connection_->Deliver(protocol::MakeShared("x")));
  EXPECT_EQ(transport_.close_code, 0);  // not while a fan-out may be walking the index
  node_.pool.Drain();
  EXPECT_EQ(transport_.close_code, 4100);
  // The queue was dropped first, so the error frame is what the client reads next.
  EXPECT_EQ(transport_.discards, 1);
  ASSERT_EQ(transport_.frames.size(), 1u);
  EXPECT_THAT(transport_.frames.front(), HasSubstr(R"("code":4100)"));
  EXPECT_EQ(node_.node->metrics.ForApp("app-id").slow_consumer_closes.load(), 1);
}

TEST_F(ConnectionTest, SubscriptionStateIsCommittedBeforeTheSuccessFrame) {
  connection_->OnMessage(R"({"event":"pusher:subscribe","data":{"channel":"news"}})", t0_);
  EXPECT_EQ(node_.node->channels.Count("app-id", "news"), 1u);
  ASSERT_NE(node_.pool.state.channels.Find("app-id", "news"), nullptr);
  EXPECT_THAT(transport_.frames.back(), HasSubstr("subscription_succeeded"));
  connection_->OnTransportClosed();
  EXPECT_EQ(node_.node->channels.Count("app-id", "news"), 0u);
  EXPECT_EQ(node_.pool.state.channels.Find("app-id", "news"), nullptr);
}

}  // namespace
}  // namespace sockudo::dataplane::connection

namespace sockudo::dataplane::connection {
namespace {

TEST(WindowCounterTest, AllowsLimitPerWindowAndRestartsAfterIt) {
  WindowCounter counter;
  const WindowCounter::Clock::time_point t{std::chrono::hours(1)};
  const auto window = std::chrono::seconds(1);
  EXPECT_TRUE(counter.Take(t, 2, window));
  EXPECT_TRUE(counter.Take(t + std::chrono::milliseconds(500), 2, window));
  EXPECT_FALSE(counter.Take(t + std::chrono::milliseconds(999), 2, window));
  EXPECT_TRUE(counter.Take(t + std::chrono::seconds(1), 2, window));
}

}  // namespace
}  // namespace sockudo::dataplane::connection

namespace sockudo::dataplane::connection {
namespace {

// A shared cache store's answer comes later (spec/backends.md §3): held here until the test
// releases it.
class DeferredCache : public cache::ChannelCache {
 public:
  void Put(const std::string&, const std::string&, std::string, std::string) override {}
  void Get(const std::string&, const std::string& channel, cache::CacheDone done) override {
    pending[channel] = std::move(done);
  }
  bool answers_inline() const override { return false; }
  std::map<std::string, cache::CacheDone> pending;
};

TEST_F(ConnectionTest, ALateCacheReplayIsSentUnlessANewerLiveEventOrAnUnsubscribeCameFirst) {
  auto owned = std::make_unique<DeferredCache>();
  DeferredCache& store = *owned;
  node_.node->cache = std::move(owned);
  auto subscribe = [&](const std::string& channel) {
    connection_->OnMessage(
        absl::StrCat(R"({"event":"pusher:subscribe","data":{"channel":")", channel, R"("}})"), t0_);
    ASSERT_TRUE(store.pending.count(channel)) << channel;
  };
  const auto count = [&](std::string_view needle) {
    return std::count_if(transport_.frames.begin(), transport_.frames.end(),
                         [&](const std::string& f) { return f.find(needle) != std::string::npos; });
  };

  // The answer arrives after subscription_succeeded: the replay follows it.
  subscribe("cache-a");
  EXPECT_THAT(transport_.frames.back(), HasSubstr("subscription_succeeded"));
  store.pending["cache-a"](cache::CachedEvent{"price", "{\"eur\":1}", 60});
  EXPECT_EQ(transport_.frames.back(), R"({"event":"price","channel":"cache-a","data":"{\"eur\":1}"})");

  // A live event of the channel reached the socket first: the older replay is dropped.
  subscribe("cache-b");
  connection_->NoteChannelEvent("cache-b");
  store.pending["cache-b"](cache::CachedEvent{"stale", "{}", 60});
  EXPECT_EQ(count("stale"), 0);

  // Unsubscribed meanwhile: nothing, not even a miss.
  subscribe("cache-c");
  connection_->OnMessage(R"({"event":"pusher:unsubscribe","data":{"channel":"cache-c"}})", t0_);
  store.pending["cache-c"](std::nullopt);
  EXPECT_EQ(count("cache_miss"), 0);

  // A miss that arrives while still subscribed.
  subscribe("cache-d");
  store.pending["cache-d"](std::nullopt);
  EXPECT_EQ(transport_.frames.back(), R"({"event":"pusher:cache_miss","channel":"cache-d"})");
}

}  // namespace
}  // namespace sockudo::dataplane::connection
