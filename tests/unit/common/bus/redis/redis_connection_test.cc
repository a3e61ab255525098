#include "common/bus/redis/redis_connection.h"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testutil/redis_server.h"

namespace sockudo::bus::redis {
namespace {

using namespace std::chrono_literals;
using testutil::RedisServer;

// Runs the io_context on the test thread until `done()` or `timeout`.
template <typename Pred>
bool RunUntil(boost::asio::io_context& io, Pred done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(10ms);
    if (io.stopped()) io.restart();
  }
  return done();
}

ConnectionOptions Options(int port) {
  ConnectionOptions o;
  o.host = "127.0.0.1";
  o.port = static_cast<uint16_t>(port);
  return o;
}

// Connects and returns the connection, or the Connect status.
absl::StatusOr<std::shared_ptr<RedisConnection>> ConnectNow(boost::asio::io_context& io,
                                                            ConnectionOptions options) {
  auto conn = RedisConnection::Create(io, std::move(options));
  std::optional<absl::Status> result;
  conn->Connect([&](absl::Status st) { result = st; });
  if (!RunUntil(
          io, [&] { return result.has_value(); }, 10s)) {
    return absl::DeadlineExceededError("Connect did not finish");
  }
  if (!result->ok()) return *result;
  return conn;
}

absl::StatusOr<RedisReply> CommandNow(boost::asio::io_context& io, RedisConnection& conn,
                                      const std::vector<std::string_view>& args) {
  std::optional<absl::StatusOr<RedisReply>> result;
  conn.Command(args, [&](absl::StatusOr<RedisReply> r) { result = std::move(r); });
  if (!RunUntil(io, [&] { return result.has_value(); })) {
    return absl::DeadlineExceededError("no reply");
  }
  return *result;
}

class RedisConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }
  boost::asio::io_context io_;
  RedisServer redis_;
};

TEST_F(RedisConnectionTest, CommandsAreAnsweredInOrderWhenPipelined) {
  auto conn = ConnectNow(io_, Options(redis_.port()));
  ASSERT_TRUE(conn.ok()) << conn.status();
  std::vector<int64_t> replies;
  for (int i = 0; i < 1000; ++i) {
    (*conn)->Command({"INCR", "counter"}, [&](absl::StatusOr<RedisReply> r) {
      ASSERT_TRUE(r.ok()) << r.status();
      replies.push_back(r->integer);
    });
  }
  EXPECT_GT((*conn)->pending(), 0u);
  ASSERT_TRUE(RunUntil(io_, [&] { return replies.size() == 1000; }));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(replies[i], i + 1);
  EXPECT_EQ((*conn)->pending(), 0u);
}

TEST_F(RedisConnectionTest, RepliesOfEveryTypeAreCopiedOut) {
  auto conn = ConnectNow(io_, Options(redis_.port()));
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string binary("a\0b\r\nc", 6);
  auto set = CommandNow(io_, **conn, {"SET", "bin", binary});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  EXPECT_EQ(set->str, "OK");

  auto get = CommandNow(io_, **conn, {"GET", "bin"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->type, RedisReply::Type::kString);
  EXPECT_EQ(get->str, binary);

  auto missing = CommandNow(io_, **conn, {"GET", "missing"});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->is_nil());

  ASSERT_TRUE(CommandNow(io_, **conn, {"RPUSH", "list", "x", "y"}).ok());
  auto list = CommandNow(io_, **conn, {"LRANGE", "list", "0", "-1"});
  ASSERT_TRUE(list.ok());
  ASSERT_TRUE(list->is_array());
  ASSERT_EQ(list->elements.size(), 2u);
  EXPECT_EQ(list->elements[1].str, "y");
  EXPECT_EQ(list->DebugString(), "[x, y]");
}

TEST_F(RedisConnectionTest, ServerErrorsCarryTheServerText) {
  auto conn = ConnectNow(io_, Options(redis_.port()));
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto r = CommandNow(io_, **conn, {"NOSUCHCOMMAND", "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("ERR unknown command"), 0u) << r.status();
  EXPECT_FALSE(IsConnectionError(r.status()));
  // The connection stays usable.
  auto ping = CommandNow(io_, **conn, {"PING"});
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping->str, "PONG");
}

TEST_F(RedisConnectionTest, CommandsIssuedWhileConnectingLeaveAfterTheHandshake) {
  auto conn = RedisConnection::Create(io_, Options(redis_.port()));
  std::optional<absl::StatusOr<RedisReply>> echo;
  conn->Command({"ECHO", "early"}, [&](absl::StatusOr<RedisReply> r) { echo = std::move(r); });
  std::optional<absl::Status> connected;
  conn->Connect([&](absl::Status st) { connected = st; });
  ASSERT_TRUE(RunUntil(io_, [&] { return echo.has_value() && connected.has_value(); }));
  EXPECT_TRUE(connected->ok()) << *connected;
  ASSERT_TRUE(echo->ok());
  EXPECT_EQ((*echo)->str, "early");
}

TEST_F(RedisConnectionTest, SubscriberReceivesPushes) {
  auto sub = ConnectNow(io_, Options(redis_.port()));
  auto pub = ConnectNow(io_, Options(redis_.port()));
  ASSERT_TRUE(sub.ok() && pub.ok());
  std::vector<Push> pushes;
  (*sub)->set_push_handler([&](Push p) { pushes.push_back(std::move(p)); });
  std::optional<absl::Status> subscribed;
  (*sub)->Subscribe({"ch1", "ch2"}, [&](absl::Status st) { subscribed = st; });
  ASSERT_TRUE(RunUntil(io_, [&] { return subscribed.has_value(); }));
  ASSERT_TRUE(subscribed->ok()) << *subscribed;

  auto n = CommandNow(io_, **pub, {"PUBLISH", "ch2", "hello"});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->integer, 1);
  ASSERT_TRUE(RunUntil(io_, [&] { return pushes.size() == 1; }));
  EXPECT_EQ(pushes[0].kind, "message");
  EXPECT_EQ(pushes[0].channel, "ch2");
  EXPECT_EQ(pushes[0].payload, "hello");

  // PING still works in subscriber mode (its reply is an array, not a push).
  auto pong = CommandNow(io_, **sub, {"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();

  std::optional<absl::Status> unsubscribed;
  (*sub)->Unsubscribe({"ch2"}, [&](absl::Status st) { unsubscribed = st; });
  ASSERT_TRUE(RunUntil(io_, [&] { return unsubscribed.has_value(); }));
  EXPECT_TRUE(unsubscribed->ok());
  auto zero = CommandNow(io_, **pub, {"PUBLISH", "ch2", "gone"});
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->integer, 0);
}

TEST_F(RedisConnectionTest, ABreakFailsPendingCommandsAndRunsTheCloseHandlerOnce) {
  auto conn = ConnectNow(io_, Options(redis_.port()));
  ASSERT_TRUE(conn.ok());
  int closes = 0;
  absl::Status why;
  (*conn)->set_close_handler([&](absl::Status st) {
    ++closes;
    why = st;
  });
  redis_.Pause();
  std::optional<absl::Status> pending;
  (*conn)->Command({"PING"}, [&](absl::StatusOr<RedisReply> r) { pending = r.status(); });
  redis_.Kill();
  ASSERT_TRUE(RunUntil(io_, [&] { return pending.has_value(); }));
  EXPECT_TRUE(absl::IsUnavailable(*pending)) << *pending;
  EXPECT_TRUE(IsConnectionError(*pending));
  EXPECT_EQ(closes, 1);
  EXPECT_NE(why.message().find(absl::StrCat("127.0.0.1:", redis_.port())), std::string::npos)
      << why;
  EXPECT_TRUE((*conn)->closed());
  // Later commands fail at once (posted, never inline).
  std::optional<absl::Status> late;
  (*conn)->Command({"PING"}, [&](absl::StatusOr<RedisReply> r) { late = r.status(); });
  EXPECT_FALSE(late.has_value());
  ASSERT_TRUE(RunUntil(io_, [&] { return late.has_value(); }));
  EXPECT_TRUE(absl::IsUnavailable(*late));
  EXPECT_EQ(closes, 1);
}

TEST_F(RedisConnectionTest, AnUnansweredCommandTimesOut) {
  ConnectionOptions o = Options(redis_.port());
  o.reply_timeout = 300ms;
  auto conn = ConnectNow(io_, o);
  ASSERT_TRUE(conn.ok());
  redis_.Pause();
  std::optional<absl::Status> result;
  auto start = std::chrono::steady_clock::now();
  (*conn)->Command({"PING"}, [&](absl::StatusOr<RedisReply> r) { result = r.status(); });
  ASSERT_TRUE(RunUntil(io_, [&] { return result.has_value(); }));
  redis_.Resume();
  EXPECT_TRUE(absl::IsDeadlineExceeded(*result)) << *result;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_TRUE((*conn)->closed());
}

TEST_F(RedisConnectionTest, CloseFailsPendingWithCancelledAndSkipsTheCloseHandler) {
  auto conn = ConnectNow(io_, Options(redis_.port()));
  ASSERT_TRUE(conn.ok());
  bool closed_handler = false;
  (*conn)->set_close_handler([&](absl::Status) { closed_handler = true; });
  std::optional<absl::Status> result;
  (*conn)->Command({"PING"}, [&](absl::StatusOr<RedisReply> r) { result = r.status(); });
  (*conn)->Close();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(absl::IsCancelled(*result));
  EXPECT_FALSE(closed_handler);
  RunUntil(
      io_, [] { return false; }, 50ms);
  EXPECT_FALSE(closed_handler);
}

TEST(RedisConnectionAuthTest, PasswordUsernameAndDatabase) {
  RedisServer redis(RedisServer::Options::WithPassword("s3cret"));
  ASSERT_TRUE(redis.Start().ok());
  boost::asio::io_context io;

  ConnectionOptions o = Options(redis.port());
  o.password = "s3cret";
  o.db = 3;
  auto conn = ConnectNow(io, o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto info = CommandNow(io, **conn, {"CLIENT", "INFO"});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_NE(info->str.find(" db=3 "), std::string::npos) << info->str;

  ASSERT_TRUE(
      redis.Command({"ACL", "SETUSER", "alice", "on", ">wonder", "~*", "&*", "+@all"}).ok());
  ConnectionOptions acl = Options(redis.port());
  acl.username = "alice";
  acl.password = "wonder";
  auto alice = ConnectNow(io, acl);
  ASSERT_TRUE(alice.ok()) << alice.status();
  auto who = CommandNow(io, **alice, {"ACL", "WHOAMI"});
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->str, "alice");
}

TEST(RedisConnectionAuthTest, WrongOrMissingPasswordFailsConnectClearly) {
  RedisServer redis(RedisServer::Options::WithPassword("s3cret"));
  ASSERT_TRUE(redis.Start().ok());
  boost::asio::io_context io;
  const std::string address = absl::StrCat("127.0.0.1:", redis.port());

  ConnectionOptions wrong = Options(redis.port());
  wrong.password = "nope";
  auto c1 = ConnectNow(io, wrong);
  ASSERT_FALSE(c1.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(c1.status())) << c1.status();
  EXPECT_NE(c1.status().message().find("AUTH failed"), std::string::npos) << c1.status();
  EXPECT_NE(c1.status().message().find("WRONGPASS"), std::string::npos) << c1.status();
  EXPECT_NE(c1.status().message().find(address), std::string::npos) << c1.status();

  auto c2 = ConnectNow(io, Options(redis.port()));
  ASSERT_FALSE(c2.ok());
  EXPECT_NE(c2.status().message().find("NOAUTH"), std::string::npos) << c2.status();

  ConnectionOptions bad_db = Options(redis.port());
  bad_db.password = "s3cret";
  bad_db.db = 99;
  auto c3 = ConnectNow(io, bad_db);
  ASSERT_FALSE(c3.ok());
  EXPECT_NE(c3.status().message().find("SELECT 99 failed"), std::string::npos) << c3.status();
}

TEST(RedisConnectionDialTest, NothingListeningFailsNamingTheAddress) {
  boost::asio::io_context io;
  const int port = testutil::redis_internal::FreePort();
  auto c = ConnectNow(io, Options(port));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::IsUnavailable(c.status())) << c.status();
  EXPECT_NE(c.status().message().find(absl::StrCat("127.0.0.1:", port)), std::string::npos)
      << c.status();
}

TEST(RedisConnectionReplicaTest, ReadonlyReplyBreaksTheConnection) {
  RedisServer master;
  ASSERT_TRUE(master.Start().ok());
  RedisServer replica(RedisServer::Options::ReplicaOf(master.port()));
  ASSERT_TRUE(replica.Start().ok());
  boost::asio::io_context io;
  auto conn = ConnectNow(io, Options(replica.port()));
  ASSERT_TRUE(conn.ok());
  bool close_handler = false;
  (*conn)->set_close_handler([&](absl::Status) { close_handler = true; });
  auto r = CommandNow(io, **conn, {"SET", "k", "v"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("READONLY"), std::string::npos) << r.status();
  EXPECT_TRUE((*conn)->closed());
  EXPECT_TRUE(close_handler);
}

TEST(RedisConnectionTlsTest, ConnectsOverTlsAndVerifiesTheCertificate) {
  RedisServer redis(RedisServer::Options::WithTls());
  absl::Status started = redis.Start();
  ASSERT_TRUE(started.ok()) << started;
  boost::asio::io_context io;

  ConnectionOptions o = Options(redis.tls_port());
  o.tls = true;
  o.tls_options.ca_path = redis.ca_path();
  auto verified = ConnectNow(io, o);
  ASSERT_TRUE(verified.ok()) << verified.status();
  auto echo = CommandNow(io, **verified, {"ECHO", "over tls"});
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->str, "over tls");

  // Self-signed certificate, system roots only: refused.
  ConnectionOptions untrusted = Options(redis.tls_port());
  untrusted.tls = true;
  auto refused = ConnectNow(io, untrusted);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("TLS handshake"), std::string::npos)
      << refused.status();

  // accept_invalid_certs skips verification.
  untrusted.tls_options.accept_invalid_certs = true;
  auto accepted = ConnectNow(io, untrusted);
  ASSERT_TRUE(accepted.ok()) << accepted.status();

  // Plain text to a TLS port never "works".
  auto plain = ConnectNow(io, Options(redis.tls_port()));
  EXPECT_FALSE(plain.ok());

  ConnectionOptions bad_ca = o;
  bad_ca.tls_options.ca_path = redis.dir() + "/missing.pem";
  auto missing = ConnectNow(io, bad_ca);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(missing.status())) << missing.status();
}

}  // namespace
}  // namespace sockudo::bus::redis
