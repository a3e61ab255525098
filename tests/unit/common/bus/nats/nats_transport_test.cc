// NatsTransport against a real nats-server on 127.0.0.1 (testutil::NatsServer): delivery on
// every destination, request/reply through per-request inboxes, ordering, authentication, TLS,
// startup failures, and a server restart in the middle of a run. Every wait is on a condition
// with a deadline.
#include "common/bus/nats/nats_transport.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/bus/names.h"
#include "tests/testutil/bus_listener.h"
#include "tests/testutil/nats_server.h"

namespace sockudo::bus::nats {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testutil::Completions;
using testutil::Eventually;
using testutil::NatsServer;
using testutil::RecordingListener;

constexpr auto kWait = seconds(10);           // anything that should happen at once
constexpr auto kReconnectWait = seconds(20);  // nats.c retries every 2 s

Identity Node(int n) {
  Identity id;
  id.node_id = "00000000-0000-4000-8000-00000000000" + std::to_string(n);
  id.reply_hex = std::string(31, 'a') + std::to_string(n);
  return id;
}

Identity Observer() {
  Identity id;
  id.node_id = "controlplane-00000000-0000-4000-8000-000000000009";
  id.reply_hex = std::string(31, 'b') + "9";
  id.observer = true;
  return id;
}

config::NatsAdapterConfig ConfigFor(const NatsServer& server) {
  config::NatsAdapterConfig config;
  config.servers = {server.url()};
  config.connection_timeout_ms = 2000;
  return config;
}

// The status of one publish, waited for.
absl::Status Await(const std::function<void(Completion)>& publish) {
  return testutil::Await(publish, kWait);
}

// One participant: a transport and its listener.
struct Peer {
  explicit Peer(config::NatsAdapterConfig config, NatsTransport::FatalHandler fatal = nullptr)
      : transport(std::move(config), std::move(fatal)) {}
  RecordingListener listener;
  NatsTransport transport;
};

class NatsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()) << server_.Log(); }

  std::unique_ptr<Peer> StartPeer(const Identity& identity, config::NatsAdapterConfig config = {}) {
    if (config.servers == config::NatsAdapterConfig{}.servers) config = ConfigFor(server_);
    auto peer = std::make_unique<Peer>(std::move(config));
    const absl::Status status = peer->transport.Start(identity, &peer->listener);
    EXPECT_TRUE(status.ok()) << status;
    return peer;
  }

  NatsServer server_;
};

TEST_F(NatsTransportTest, DeliversEveryDestinationAndObserversHearOnlyRequestsAndReplies) {
  auto a = StartPeer(Node(1));
  auto b = StartPeer(Node(2));
  auto observer = StartPeer(Observer());
  EXPECT_TRUE(a->transport.Healthy());
  EXPECT_TRUE(observer->transport.Healthy());
  EXPECT_EQ(a->transport.name(), "nats");
  EXPECT_EQ(a->transport.ReplyTo(), "");

  Completions done;
  a->transport.Publish(Channel::kBroadcast, "broadcast-1", done.Add());
  a->transport.Publish(Channel::kResponses, "response-1", done.Add());
  a->transport.PublishToNode(Node(2).node_id, "to-b", done.Add());
  a->transport.PublishToNode(Node(3).node_id, "to-nobody", done.Add());
  a->transport.Publish(Channel::kRequests, "request-1", done.Add());
  ASSERT_TRUE(done.WaitForCount(5));
  EXPECT_EQ(done.ok(), 5u);
  EXPECT_EQ(done.threads().size(), 1u);
  EXPECT_EQ(done.threads().count(std::this_thread::get_id()), 0u);

  ASSERT_TRUE(b->listener.WaitFor([&] {
    return b->listener.HasLocked(Channel::kBroadcast, "broadcast-1") &&
           b->listener.HasLocked(Channel::kResponses, "response-1") &&
           b->listener.HasLocked(Channel::kNodeInbox, "to-b") &&
           b->listener.HasLocked(Channel::kRequests, "request-1");
  }));
  ASSERT_TRUE(observer->listener.WaitFor(
      [&] { return observer->listener.HasLocked(Channel::kRequests, "request-1"); }));

  // b answers the observer's reply inbox directly: only the observer hears it.
  const std::string observer_inbox = NatsRequestInbox(Observer().reply_hex, "req-x");
  ASSERT_TRUE(Await([&](Completion c) {
                b->transport.Reply(observer_inbox, "reply-1", std::move(c));
              }).ok());
  ASSERT_TRUE(observer->listener.WaitFor(
      [&] { return observer->listener.HasLocked(Channel::kReplyInbox, "reply-1"); }));
  EXPECT_EQ(observer->listener.On(Channel::kReplyInbox)[0].reply_to, "");

  // A sentinel after everything: once it is in, nothing else is on its way to the observer.
  ASSERT_TRUE(Await([&](Completion c) {
                a->transport.Publish(Channel::kRequests, "sentinel", std::move(c));
              }).ok());
  ASSERT_TRUE(observer->listener.WaitFor(
      [&] { return observer->listener.HasLocked(Channel::kRequests, "sentinel"); }));
  EXPECT_TRUE(observer->listener.Payloads(Channel::kBroadcast).empty());
  EXPECT_TRUE(observer->listener.Payloads(Channel::kResponses).empty());
  EXPECT_TRUE(observer->listener.Payloads(Channel::kNodeInbox).empty());

  // no_echo (default): a does not hear its own publishes; nobody else heard b's inbox.
  ASSERT_TRUE(
      b->listener.WaitFor([&] { return b->listener.HasLocked(Channel::kRequests, "sentinel"); }));
  EXPECT_TRUE(a->listener.Payloads(Channel::kBroadcast).empty());
  EXPECT_TRUE(a->listener.Payloads(Channel::kRequests).empty());
  EXPECT_FALSE(a->transport.HearsOwnBroadcasts());  // so a node does not fence on it
  EXPECT_EQ(b->listener.Payloads(Channel::kNodeInbox), std::vector<std::string>{"to-b"});
  EXPECT_TRUE(b->listener.Payloads(Channel::kReplyInbox).empty());

  // Every Listener call of a participant ran on its one driver thread.
  for (Peer* p : {a.get(), b.get(), observer.get()}) {
    const auto threads = p->listener.threads();
    EXPECT_LE(threads.size(), 1u);
    EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  }
  EXPECT_EQ(a->transport.stats().dropped(), 0u);
  EXPECT_EQ(a->transport.stats().connected, 1u);
}

TEST_F(NatsTransportTest, RequestsCarryTheirInboxAndRepliesComeBackToTheRequester) {
  auto a = StartPeer(Node(1));
  auto b = StartPeer(Node(2));
  auto observer = StartPeer(Observer());
  const std::string request_id = "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f";

  ASSERT_TRUE(Await([&](Completion c) {
                observer->transport.PublishRequest(request_id, "{\"q\":1}", std::move(c));
              }).ok());
  const std::string inbox = NatsRequestInbox(Observer().reply_hex, request_id);
  EXPECT_EQ(inbox, "_INBOX." + Observer().reply_hex + ".6f1c2d3e4b5a4c6d8e7f0a1b2c3d4e5f");
  for (Peer* node : {a.get(), b.get()}) {
    ASSERT_TRUE(node->listener.WaitFor(
        [&] { return node->listener.CountLocked(Channel::kRequests) == 1; }));
    const Incoming request = node->listener.On(Channel::kRequests)[0];
    EXPECT_EQ(request.payload, "{\"q\":1}");
    EXPECT_EQ(request.reply_to, inbox);
    node->transport.Reply(request.reply_to, node == a.get() ? "answer-from-a" : "answer-from-b",
                          nullptr);
  }
  ASSERT_TRUE(observer->listener.WaitFor(
      [&] { return observer->listener.CountLocked(Channel::kReplyInbox) == 2; }));
  std::vector<std::string> answers = observer->listener.Payloads(Channel::kReplyInbox);
  std::sort(answers.begin(), answers.end());
  EXPECT_EQ(answers, (std::vector<std::string>{"answer-from-a", "answer-from-b"}));

  // A data node's request: the other node and the observer hear it, the answer comes back to a.
  ASSERT_TRUE(Await([&](Completion c) {
                a->transport.PublishRequest("req-2", "{\"q\":2}", std::move(c));
              }).ok());
  ASSERT_TRUE(observer->listener.WaitFor(
      [&] { return observer->listener.CountLocked(Channel::kRequests) == 1; }));
  ASSERT_TRUE(
      b->listener.WaitFor([&] { return b->listener.CountLocked(Channel::kRequests) == 2; }));
  const Incoming request = b->listener.On(Channel::kRequests)[1];
  EXPECT_EQ(request.reply_to, NatsRequestInbox(Node(1).reply_hex, "req-2"));
  b->transport.Reply(request.reply_to, "answer-2", nullptr);
  ASSERT_TRUE(
      a->listener.WaitFor([&] { return a->listener.HasLocked(Channel::kReplyInbox, "answer-2"); }));
  EXPECT_TRUE(b->listener.Payloads(Channel::kReplyInbox).empty());

  Completions rejected;
  a->transport.Reply("", "nowhere", rejected.Add());
  a->transport.Publish(Channel::kNodeInbox, "wrong channel", rejected.Add());
  ASSERT_TRUE(rejected.WaitForCount(2));
  for (const absl::Status& s : rejected.statuses()) EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
}

TEST_F(NatsTransportTest, BroadcastsArriveInPublishOrder) {
  auto a = StartPeer(Node(1));
  auto b = StartPeer(Node(2));
  constexpr int kCount = 1000;
  Completions done;
  std::vector<std::string> sent;
  for (int i = 0; i < kCount; ++i) {
    sent.push_back("{\"seq\":" + std::to_string(i) + "}");
    a->transport.Publish(Channel::kBroadcast, sent.back(), done.Add());
  }
  ASSERT_TRUE(done.WaitForCount(kCount));
  EXPECT_EQ(done.ok(), static_cast<size_t>(kCount));
  ASSERT_TRUE(
      b->listener.WaitFor([&] { return b->listener.CountLocked(Channel::kBroadcast) == kCount; }));
  EXPECT_EQ(b->listener.Payloads(Channel::kBroadcast), sent);
}

TEST_F(NatsTransportTest, PayloadAboveTheServerMaxPayloadFailsAndIsCounted) {
  auto a = StartPeer(Node(1));
  const absl::Status status = Await([&](Completion c) {
    a->transport.Publish(Channel::kBroadcast, std::string(2 * 1024 * 1024, 'x'), std::move(c));
  });
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_EQ(a->transport.dropped_messages(), 1u);
  EXPECT_TRUE(a->transport.Healthy());
}

TEST_F(NatsTransportTest, CountNodesIsUnknownAndRunsOnTheDriverThread) {
  auto a = StartPeer(Node(1));
  std::promise<std::pair<std::optional<size_t>, std::thread::id>> promise;
  a->transport.CountNodes([&](std::optional<size_t> n) {
    promise.set_value({n, std::this_thread::get_id()});
  });
  auto future = promise.get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  const auto [count, thread] = future.get();
  EXPECT_FALSE(count.has_value());
  EXPECT_NE(thread, std::this_thread::get_id());

  std::promise<std::thread::id> posted;
  a->transport.Post([&] { posted.set_value(std::this_thread::get_id()); });
  auto posted_future = posted.get_future();
  ASSERT_EQ(posted_future.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(posted_future.get(), thread);
}

TEST_F(NatsTransportTest, StopFailsLaterPublishesAndStartWorksAgain) {
  auto a = StartPeer(Node(1));
  auto b = StartPeer(Node(2));
  a->transport.Stop();
  EXPECT_FALSE(a->transport.Healthy());
  const absl::Status after_stop =
      Await([&](Completion c) { a->transport.Publish(Channel::kBroadcast, "late", std::move(c)); });
  EXPECT_TRUE(absl::IsFailedPrecondition(after_stop)) << after_stop;
  EXPECT_EQ(a->transport.stats().publish_failures, 1u);
  a->transport.Stop();  // idempotent

  ASSERT_TRUE(a->transport.Start(Node(1), &a->listener).ok());
  ASSERT_TRUE(Await([&](Completion c) {
                a->transport.Publish(Channel::kBroadcast, "again", std::move(c));
              }).ok());
  ASSERT_TRUE(
      b->listener.WaitFor([&] { return b->listener.HasLocked(Channel::kBroadcast, "again"); }));
  EXPECT_TRUE(absl::IsFailedPrecondition(a->transport.Start(Node(1), &a->listener)));
}

TEST_F(NatsTransportTest, MessagesOverTheSubscriptionCapacityAreDroppedAndCounted) {
  auto a = StartPeer(Node(1));
  config::NatsAdapterConfig config = ConfigFor(server_);
  config.subscription_capacity = 10;
  auto b = StartPeer(Node(2), config);

  // Hold b's driver thread so that what arrives waits for it.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> blocked;
  b->transport.Post([&blocked, released] {
    blocked.set_value();
    released.wait_for(kWait);
  });
  ASSERT_EQ(blocked.get_future().wait_for(kWait), std::future_status::ready);
  for (int i = 0; i < 50; ++i)
    a->transport.Publish(Channel::kBroadcast, std::to_string(i), nullptr);
  EXPECT_TRUE(Eventually([&] { return b->transport.stats().slow_consumer_drops == 40; }))
      << b->transport.stats().slow_consumer_drops;
  release.set_value();
  // Once the 10 that waited are delivered there is room again ("after" sent before could still
  // meet a full queue and be dropped too).
  ASSERT_TRUE(b->listener.WaitFor(
      [&] { return b->listener.PayloadsLocked(Channel::kBroadcast).size() == 10; }));

  ASSERT_TRUE(Await([&](Completion c) {
                a->transport.Publish(Channel::kBroadcast, "after", std::move(c));
              }).ok());
  ASSERT_TRUE(
      b->listener.WaitFor([&] { return b->listener.HasLocked(Channel::kBroadcast, "after"); }));
  const std::vector<std::string> got = b->listener.Payloads(Channel::kBroadcast);
  ASSERT_EQ(got.size(), 11u);  // 10 waited, 40 were dropped, then the one sent after
  for (int i = 1; i < 10; ++i) EXPECT_LT(std::stoi(got[i - 1]), std::stoi(got[i]));
  EXPECT_EQ(b->transport.dropped_messages(), 40u);
}

// --- startup: unreachable servers, authentication, TLS, configuration errors ---

TEST(NatsStartupTest, NothingListeningFailsWithinTheConnectionTimeoutNamingTheServers) {
  const int port = NatsServer::FreePort();
  ASSERT_NE(port, 0);
  config::NatsAdapterConfig config;
  const std::string url = "nats://127.0.0.1:" + std::to_string(port);
  config.servers = {url};
  config.connection_timeout_ms = 300;
  NatsTransport transport(config, nullptr);
  RecordingListener listener;
  const auto start = std::chrono::steady_clock::now();
  const absl::Status status = transport.Start(Node(1), &listener);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find(url), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find("connection_timeout_ms"), absl::string_view::npos) << status;
  EXPECT_GE(elapsed, milliseconds(250));
  EXPECT_LT(elapsed, milliseconds(300 + 1500));
  EXPECT_FALSE(transport.Healthy());
  const absl::Status late =
      Await([&](Completion c) { transport.Publish(Channel::kBroadcast, "x", std::move(c)); });
  EXPECT_TRUE(absl::IsFailedPrecondition(late)) << late;
}

TEST(NatsStartupTest, ConfigurationErrorsAreReportedBeforeConnecting) {
  RecordingListener listener;
  auto start = [&](config::NatsAdapterConfig config) {
    NatsTransport transport(std::move(config), nullptr);
    return transport.Start(Node(1), &listener);
  };
  config::NatsAdapterConfig config;
  config.servers = {};
  EXPECT_TRUE(absl::IsInvalidArgument(start(config)));

  config = {};
  config.username = "u";
  config.password = "p";
  config.token = "t";
  absl::Status status = start(config);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("username/password and token"), absl::string_view::npos)
      << status;

  config = {};
  config.username = "u";
  EXPECT_TRUE(absl::IsInvalidArgument(start(config)));

  config = {};
  config.credentials_file = "/nonexistent/user.creds";
  status = start(config);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("/nonexistent/user.creds"), absl::string_view::npos) << status;

  config = {};
  config.tls.ca_path = "/nonexistent/ca.pem";
  status = start(config);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("tls.ca_path"), absl::string_view::npos) << status;

  NatsTransport transport(config::NatsAdapterConfig{}, nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(transport.Start(Identity{}, &listener)));
}

struct AuthCase {
  std::string name;
  NatsServer::Options server;
  std::function<void(config::NatsAdapterConfig&)> good;
  std::function<void(config::NatsAdapterConfig&)> bad;
};

// Test names and failure messages show the case's name, not its bytes.
void PrintTo(const AuthCase& c, std::ostream* os) { *os << c.name; }

NatsServer::Options ServerWith(std::optional<std::string> user, std::optional<std::string> password,
                               std::optional<std::string> token) {
  NatsServer::Options options;
  options.user = std::move(user);
  options.password = std::move(password);
  options.token = std::move(token);
  return options;
}

class NatsAuthTest : public ::testing::TestWithParam<AuthCase> {};

TEST_P(NatsAuthTest, RightCredentialsConnectAndWrongOnesFailStartAtOnce) {
  NatsServer server(GetParam().server);
  ASSERT_TRUE(server.Start().ok()) << server.Log();

  config::NatsAdapterConfig good = ConfigFor(server);
  GetParam().good(good);
  Peer a(good);
  Peer b(good);
  ASSERT_TRUE(a.transport.Start(Node(1), &a.listener).ok());
  ASSERT_TRUE(b.transport.Start(Node(2), &b.listener).ok());
  a.transport.Publish(Channel::kBroadcast, "authenticated", nullptr);
  EXPECT_TRUE(b.listener.WaitFor(
      [&] { return b.listener.HasLocked(Channel::kBroadcast, "authenticated"); }));

  for (bool with_credentials : {true, false}) {
    config::NatsAdapterConfig bad = ConfigFor(server);
    bad.connection_timeout_ms = 3000;
    if (with_credentials) GetParam().bad(bad);
    Peer c(bad);
    const auto start = std::chrono::steady_clock::now();
    const absl::Status status = c.transport.Start(Node(3), &c.listener);
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
    EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
    EXPECT_NE(status.message().find("Authorization Violation"), absl::string_view::npos) << status;
    EXPECT_NE(status.message().find(server.url()), absl::string_view::npos) << status;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Methods, NatsAuthTest,
    ::testing::Values(AuthCase{"UserPassword", ServerWith("sockudo", "s3cret", std::nullopt),
                               [](config::NatsAdapterConfig& c) {
                                 c.username = "sockudo";
                                 c.password = "s3cret";
                               },
                               [](config::NatsAdapterConfig& c) {
                                 c.username = "sockudo";
                                 c.password = "wrong";
                               }},
                      AuthCase{"Token", ServerWith(std::nullopt, std::nullopt, "t0ken"),
                               [](config::NatsAdapterConfig& c) { c.token = "t0ken"; },
                               [](config::NatsAdapterConfig& c) { c.token = "wrong"; }}),
    [](const ::testing::TestParamInfo<AuthCase>& info) { return info.param.name; });

// A CA and server certificates made with the openssl command line; a TLS-only nats-server.
class NatsTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sockudo-nats-tls-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    if (!Openssl("req -x509" + kKey + " -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca")) {
      GTEST_SKIP() << "openssl could not make test certificates";
    }
  }
  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  // Starts the server with a certificate signed by the test CA for `san` ("IP:127.0.0.1").
  // With `verify_clients` the server also demands a client certificate signed by the CA.
  void StartServer(const std::string& san, bool verify_clients = false) {
    std::ofstream(dir_ + "/san.ext") << "subjectAltName=" << san << "\n";
    ASSERT_TRUE(Openssl("req" + kKey + " -keyout server.key -out server.csr -subj /CN=server"));
    ASSERT_TRUE(
        Openssl("x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
                " -out server.pem -days 2 -extfile san.ext"));
    NatsServer::Options options;
    options.extra_args = {"--tls", "--tlscert", dir_ + "/server.pem", "--tlskey",
                          dir_ + "/server.key"};
    if (verify_clients) {
      options.extra_args.insert(options.extra_args.end(),
                                {"--tlsverify", "--tlscacert", dir_ + "/ca.pem"});
    }
    server_ = std::make_unique<NatsServer>(options);
    ASSERT_TRUE(server_->Start().ok()) << server_->Log();
  }
  bool Openssl(const std::string& args) const {
    return std::system(("cd " + dir_ + " && openssl " + args + " >/dev/null 2>&1").c_str()) == 0;
  }
  config::NatsAdapterConfig Config() const {
    config::NatsAdapterConfig config;
    config.servers = {"tls://127.0.0.1:" + std::to_string(server_->port())};
    config.connection_timeout_ms = 2000;
    return config;
  }

  const std::string kKey = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::string dir_;
  std::unique_ptr<NatsServer> server_;
};

TEST_F(NatsTlsTest, VerifiesTheServerAgainstTheConfiguredCa) {
  StartServer("IP:127.0.0.1");
  config::NatsAdapterConfig config = Config();
  config.tls.ca_path = dir_ + "/ca.pem";
  Peer a(config);
  Peer b(config);
  ASSERT_TRUE(a.transport.Start(Node(1), &a.listener).ok());
  ASSERT_TRUE(b.transport.Start(Node(2), &b.listener).ok());
  a.transport.Publish(Channel::kBroadcast, "over tls", nullptr);
  EXPECT_TRUE(
      b.listener.WaitFor([&] { return b.listener.HasLocked(Channel::kBroadcast, "over tls"); }));
}

TEST_F(NatsTlsTest, UnknownCaFailsStartUnlessInvalidCertsAreAccepted) {
  StartServer("IP:127.0.0.1");
  config::NatsAdapterConfig config = Config();
  Peer a(config);
  const auto start = std::chrono::steady_clock::now();
  const absl::Status status = a.transport.Start(Node(1), &a.listener);
  EXPECT_FALSE(status.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000 + 1500));
  EXPECT_NE(status.message().find(config.servers[0]), absl::string_view::npos) << status;

  config.tls.accept_invalid_certs = true;
  Peer b(config);
  EXPECT_TRUE(b.transport.Start(Node(2), &b.listener).ok());
}

TEST_F(NatsTlsTest, CertificateForAnotherHostFailsStart) {
  StartServer("IP:127.0.0.2,DNS:elsewhere.example");
  config::NatsAdapterConfig config = Config();
  config.tls.ca_path = dir_ + "/ca.pem";
  Peer a(config);
  const absl::Status status = a.transport.Start(Node(1), &a.listener);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
}

TEST_F(NatsTlsTest, ClientCertificateIsPresentedWhenTheServerVerifiesClients) {
  StartServer("IP:127.0.0.1", /*verify_clients=*/true);
  ASSERT_TRUE(Openssl("req" + kKey + " -keyout client.key -out client.csr -subj /CN=client"));
  ASSERT_TRUE(
      Openssl("x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
              " -out client.pem -days 2"));
  config::NatsAdapterConfig config = Config();
  config.tls.ca_path = dir_ + "/ca.pem";
  Peer anonymous(config);
  EXPECT_FALSE(anonymous.transport.Start(Node(1), &anonymous.listener).ok());

  config.tls.client_cert_path = dir_ + "/client.pem";
  config.tls.client_key_path = dir_ + "/client.key";
  Peer a(config);
  Peer b(config);
  ASSERT_TRUE(a.transport.Start(Node(1), &a.listener).ok());
  ASSERT_TRUE(b.transport.Start(Node(2), &b.listener).ok());
  a.transport.PublishToNode(Node(2).node_id, "mutual tls", nullptr);
  EXPECT_TRUE(
      b.listener.WaitFor([&] { return b.listener.HasLocked(Channel::kNodeInbox, "mutual tls"); }));
}

// --- the server goes away while the transports run ---

TEST_F(NatsTransportTest, ServerRestartOnTheSamePortResubscribesAndDeliversAgain) {
  auto a = StartPeer(Node(1));
  auto b = StartPeer(Node(2));

  server_.Stop();
  for (Peer* p : {a.get(), b.get()}) {
    EXPECT_TRUE(Eventually([&] { return !p->transport.Healthy(); }));
    EXPECT_TRUE(p->listener.WaitFor([&] { return !p->listener.health_locked().empty(); }));
    EXPECT_EQ(p->listener.health(), std::vector<bool>{false});
  }
  // While disconnected a publish fails at once: nothing waits in nats.c's reconnect buffer to be
  // flushed before the peers have resubscribed on the restarted server.
  for (int i = 0; i < 3; ++i) {
    const absl::Status s = Await([&](Completion c) {
      a->transport.Publish(Channel::kBroadcast, "during-outage-" + std::to_string(i), std::move(c));
    });
    EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  }
  EXPECT_EQ(a->transport.stats().publish_failures, 3u);
  EXPECT_EQ(a->transport.dropped_messages(), 3u);

  ASSERT_TRUE(server_.Start().ok()) << server_.Log();
  for (Peer* p : {a.get(), b.get()}) {
    ASSERT_TRUE(p->listener.WaitFor([&] { return p->listener.resubscribed_locked() == 1; },
                                    kReconnectWait));
    EXPECT_TRUE(Eventually([&] { return p->transport.Healthy(); }));
    EXPECT_EQ(p->listener.health(), (std::vector<bool>{false, true}));
    EXPECT_EQ(p->transport.reconnections(), 1u);
    EXPECT_EQ(p->transport.stats().disconnected, 1u);
  }

  // Delivery between the two resumes without restarting either transport.
  a->transport.Publish(Channel::kBroadcast, "after-restart", nullptr);
  EXPECT_TRUE(b->listener.WaitFor(
      [&] { return b->listener.HasLocked(Channel::kBroadcast, "after-restart"); }));
  EXPECT_EQ(b->listener.Payloads(Channel::kBroadcast), std::vector<std::string>{"after-restart"});
  b->transport.PublishToNode(Node(1).node_id, "b-to-a", nullptr);
  EXPECT_TRUE(
      a->listener.WaitFor([&] { return a->listener.HasLocked(Channel::kNodeInbox, "b-to-a"); }));
}

// After a reconnection a broadcast waits until every peer the adapter knows answered the roll
// call: a peer that subscribes only after the publish call still gets it, and the publish is
// answered OK once it went out.
TEST_F(NatsTransportTest, AfterAReconnectionBroadcastsWaitForThePeersToResubscribe) {
  auto a = StartPeer(Node(1));
  a->transport.ExpectPeers(1);
  server_.Stop();
  ASSERT_TRUE(Eventually([&] { return !a->transport.Healthy(); }));
  ASSERT_TRUE(server_.Start().ok()) << server_.Log();
  ASSERT_TRUE(
      a->listener.WaitFor([&] { return a->listener.resubscribed_locked() == 1; }, kReconnectWait));

  std::promise<absl::Status> sent;
  a->transport.Publish(Channel::kBroadcast, "held", [&](absl::Status s) { sent.set_value(s); });
  // The peer comes back only now (its own reconnection schedule), and still gets it.
  auto b = StartPeer(Node(2));
  EXPECT_TRUE(
      b->listener.WaitFor([&] { return b->listener.HasLocked(Channel::kBroadcast, "held"); }));
  auto outcome = sent.get_future();
  ASSERT_EQ(outcome.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(outcome.get().ok());
  // Roll calls are never delivered as broadcasts.
  EXPECT_EQ(b->listener.Payloads(Channel::kBroadcast), std::vector<std::string>{"held"});
  EXPECT_TRUE(a->listener.Payloads(Channel::kBroadcast).empty());
  EXPECT_TRUE(a->listener.Payloads(Channel::kReplyInbox).empty());
}

TEST_F(NatsTransportTest, ExhaustedReconnectsCallTheFatalHook) {
  config::NatsAdapterConfig config = ConfigFor(server_);
  config.max_reconnects = 1;
  auto fatal = std::make_shared<std::promise<absl::Status>>();
  Peer a(config, [fatal](absl::Status status) { fatal->set_value(std::move(status)); });
  ASSERT_TRUE(a.transport.Start(Node(1), &a.listener).ok());
  server_.Stop();
  auto future = fatal->get_future();
  ASSERT_EQ(future.wait_for(kReconnectWait), std::future_status::ready);
  const absl::Status status = future.get();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find("max_reconnects"), absl::string_view::npos) << status;
  EXPECT_FALSE(a.transport.Healthy());
  EXPECT_EQ(a.transport.stats().closed, 1u);
  const absl::Status late =
      Await([&](Completion c) { a.transport.Publish(Channel::kBroadcast, "x", std::move(c)); });
  EXPECT_FALSE(late.ok());
}

}  // namespace
}  // namespace sockudo::bus::nats
