#include "dataplane/connection/connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "common/apps/memory/memory_app_store.h"
#include "dataplane/adapter/local_adapter.h"
#include "tests/testutil/node_fixture.h"

namespace sockudo::dataplane::connection {
namespace {

using ::testing::HasSubstr;
using testutil::FakeTransport;
using testutil::InlinePool;

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.activity_timeout = 120;
    config_.user_authentication_timeout = 30;
    apps::App app = apps::DefaultApp();
    app.enable_user_authentication = true;
    store_ = *apps::MemoryAppStore::Create({app});
    node_ = std::make_unique<node::NodeContext>(config_, *store_);
    adapter_ = std::make_unique<adapter::LocalAdapter>(pool_, node_->channels, node_->presence,
                                                       node_->connections);
    node_->adapter = adapter_.get();
    ASSERT_EQ(node_->connections.Admit("app-id", "1.1", 0, 0), node::Admission::kAdmitted);
    connection_ = std::make_unique<Connection>(*node_, pool_.state, store_->FindById("app-id"),
                                               "1.1", transport_);
  }

  config::Config config_;
  std::unique_ptr<apps::MemoryAppStore> store_;
  InlinePool pool_;
  std::unique_ptr<node::NodeContext> node_;
  std::unique_ptr<adapter::LocalAdapter> adapter_;
  FakeTransport transport_;
  std::unique_ptr<Connection> connection_;
  const Connection::Clock::time_point t0_{};
};

TEST_F(ConnectionTest, PingsAfterSilenceThenClosesWith4201WithoutAPong) {
  connection_->Open(t0_);
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
  EXPECT_EQ(node_->connections.AppConnections("app-id"), 0);  // cleaned up before the close frame
}

TEST_F(ConnectionTest, AnyActivityResetsTheClock) {
  connection_->Open(t0_);
  connection_->MarkAuthorized();
  connection_->Tick(t0_ + std::chrono::seconds(120));        // ping sent
  connection_->OnActivity(t0_ + std::chrono::seconds(125));  // pong arrived
  connection_->Tick(t0_ + std::chrono::seconds(160));
  EXPECT_EQ(transport_.close_code, 0);
  connection_->Tick(t0_ + std::chrono::seconds(245));
  EXPECT_EQ(transport_.frames.back(), R"({"event":"pusher:ping","data":{}})");
}

TEST_F(ConnectionTest, UnauthorizedConnectionClosesWith4009AtTheDeadline) {
  connection_->Open(t0_);
  connection_->Tick(t0_ + std::chrono::seconds(29));
  EXPECT_EQ(transport_.close_code, 0);
  connection_->Tick(t0_ + std::chrono::seconds(30));
  EXPECT_EQ(transport_.close_code, 4009);
}

TEST_F(ConnectionTest, SlowConsumerIsClosedWith4100OnTheNextTurn) {
  connection_->Open(t0_);
  transport_.full = true;
  EXPECT_FALSE(connection_->Deliver(protocol::MakeShared("x")));
  EXPECT_EQ(transport_.close_code, 0);  // not while a fan-out may be walking the index
  ASSERT_EQ(transport_.deferred.size(), 1u);
  transport_.deferred.front()();
  EXPECT_EQ(transport_.close_code, 4100);
  // The queue was dropped first, so the error frame is what the client reads next.
  EXPECT_EQ(transport_.discards, 1);
  ASSERT_EQ(transport_.frames.size(), 1u);
  EXPECT_THAT(transport_.frames.front(), HasSubstr(R"("code":4100)"));
  EXPECT_EQ(node_->metrics.ForApp("app-id").slow_consumer_closes.load(), 1);
}

TEST_F(ConnectionTest, SubscriptionStateIsCommittedBeforeTheSuccessFrame) {
  connection_->Open(t0_);
  connection_->OnMessage(R"({"event":"pusher:subscribe","data":{"channel":"news"}})", t0_);
  EXPECT_EQ(node_->channels.Count("app-id", "news"), 1u);
  ASSERT_NE(pool_.state.channels.Find("app-id", "news"), nullptr);
  EXPECT_THAT(transport_.frames.back(), HasSubstr("subscription_succeeded"));
  connection_->OnTransportClosed();
  EXPECT_EQ(node_->channels.Count("app-id", "news"), 0u);
  EXPECT_EQ(pool_.state.channels.Find("app-id", "news"), nullptr);
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
