#include "common/bus/nats/nats_transport.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <charconv>
#include <chrono>
#include <climits>
#include <exception>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/failure_streak.h"
#include "common/base/logging.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/bus/names.h"

namespace sockudo::bus::nats {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// How long Stop() lets nats.c drain, and how long to wait for its last callbacks beyond that.
constexpr int64_t kMaxDrainMs = 5000;
constexpr auto kCallbackGrace = std::chrono::seconds(5);
// How often Start() looks at the connection's last error while nats.c retries.
constexpr auto kConnectPoll = milliseconds(20);
// The roll call after a reconnection: how often it asks, and how long broadcasts wait at most.
constexpr auto kRollCallEvery = milliseconds(50);
constexpr auto kRollCallLimit = milliseconds(3000);
// How long a publish waits for the server to confirm it (PublishConfirmer) before it fails.
constexpr auto kConfirmTimeout = milliseconds(2000);
// The last token of a roll call's reply subject: _INBOX.{hex}.rollcall{round}.
constexpr std::string_view kRollCallToken = "rollcall";

const std::shared_ptr<spdlog::logger>& Log() {
  static const std::shared_ptr<spdlog::logger> log = base::Logger("bus.nats");
  return log;
}

struct OptionsDeleter {
  void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};
using OptionsPtr = std::unique_ptr<natsOptions, OptionsDeleter>;

struct MsgDeleter {
  void operator()(natsMsg* msg) const { natsMsg_Destroy(msg); }
};

// The status text, plus the detail nats.c recorded for this thread when it says more:
// "Authentication Violation (Authorization Violation)".
std::string NatsError(natsStatus status) {
  std::string text = natsStatus_GetText(status);
  const char* raw = nats_GetLastError(nullptr);
  std::string_view detail = raw != nullptr ? raw : "";
  // Drop the "(conn.c:1905): " source location nats.c puts in front.
  if (!detail.empty() && detail.front() == '(') {
    if (const size_t end = detail.find("): "); end != std::string_view::npos) {
      detail.remove_prefix(end + 3);
    }
  }
  if (!detail.empty() && detail != text) absl::StrAppend(&text, " (", base::Av(detail), ")");
  return text;
}

// Errors no retry can fix: fail Start at once instead of waiting for the deadline.
bool IsConfigurationError(natsStatus status) {
  switch (status) {
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED:
    case NATS_SECURE_CONNECTION_WANTED:
    case NATS_SECURE_CONNECTION_REQUIRED:
    case NATS_SSL_ERROR:
      return true;
    default:
      return false;
  }
}

bool Readable(const std::string& path) { return std::ifstream(path).good(); }

int ClampToInt(int64_t value) {
  return static_cast<int>(std::clamp<int64_t>(value, INT_MIN, INT_MAX));
}

}  // namespace

NatsTransport::NatsTransport(config::NatsAdapterConfig config, FatalHandler on_fatal)
    : config_(std::move(config)),
      on_fatal_(std::move(on_fatal)),
      pending_limit_(config_.subscription_capacity.value_or(65536)),
      broadcast_subject_(NatsSubject(config_.prefix, Channel::kBroadcast)),
      requests_subject_(NatsSubject(config_.prefix, Channel::kRequests)),
      responses_subject_(NatsSubject(config_.prefix, Channel::kResponses)) {}

NatsTransport::~NatsTransport() { Stop(); }

std::string NatsTransport::ServerList() const {
  return absl::StrCat("[", absl::StrJoin(config_.servers, ", "), "]");
}

absl::Status NatsTransport::BuildOptions(natsOptions** out) {
  const config::NatsAdapterConfig& c = config_;
  if (c.servers.empty()) return absl::InvalidArgumentError("adapter.nats.servers is empty");
  std::vector<std::string> methods;
  if (c.username || c.password) methods.emplace_back("username/password");
  if (c.token) methods.emplace_back("token");
  if (c.credentials_file) methods.emplace_back("credentials_file");
  if (methods.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter.nats: configure one authentication method, not ",
                     absl::StrJoin(methods, " and ")));
  }
  if (c.username.has_value() != c.password.has_value()) {
    return absl::InvalidArgumentError(
        "adapter.nats.username and adapter.nats.password must be set together");
  }
  if (c.tls.client_cert_path.has_value() != c.tls.client_key_path.has_value()) {
    return absl::InvalidArgumentError(
        "adapter.nats.tls.client_cert_path and client_key_path must be set together");
  }
  if (c.credentials_file && !Readable(*c.credentials_file)) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter.nats.credentials_file: cannot read ", *c.credentials_file));
  }

  natsOptions* raw = nullptr;
  if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
    return absl::InternalError(absl::StrCat("nats: cannot create options: ", NatsError(s)));
  }
  OptionsPtr options(raw);
  absl::Status status;
  auto check = [&status](natsStatus s, absl::string_view what) {
    if (s != NATS_OK && status.ok()) {
      status = absl::InvalidArgumentError(absl::StrCat(what, ": ", NatsError(s)));
    }
  };

  std::vector<const char*> urls;
  bool tls = c.tls.enabled || c.tls.ca_path.has_value();
  for (const std::string& url : c.servers) {
    urls.push_back(url.c_str());
    if (url.rfind("tls://", 0) == 0) tls = true;
  }
  check(natsOptions_SetServers(options.get(), urls.data(), static_cast<int>(urls.size())),
        absl::StrCat("adapter.nats.servers ", ServerList()));
  check(natsOptions_SetTimeout(options.get(), c.connection_timeout_ms),
        "adapter.nats.connection_timeout_ms");
  check(natsOptions_SetMaxReconnect(options.get(),
                                    c.max_reconnects ? ClampToInt(*c.max_reconnects) : -1),
        "adapter.nats.max_reconnects");
  check(natsOptions_SetNoEcho(options.get(), c.no_echo), "adapter.nats.no_echo");
  check(natsOptions_SetName(options.get(), identity_.node_id.c_str()), "nats client name");
  NatsTransport* self = this;  // the closure of the connection callbacks
  check(natsOptions_SetDisconnectedCB(options.get(), &OnDisconnected, self), "nats callbacks");
  check(natsOptions_SetReconnectedCB(options.get(), &OnReconnected, self), "nats callbacks");
  check(natsOptions_SetClosedCB(options.get(), &OnClosed, self), "nats callbacks");
  check(natsOptions_SetErrorHandler(options.get(), &OnError, self), "nats callbacks");

  if (c.username) {
    check(natsOptions_SetUserInfo(options.get(), c.username->c_str(), c.password->c_str()),
          "adapter.nats.username");
  } else if (c.token) {
    check(natsOptions_SetToken(options.get(), c.token->c_str()), "adapter.nats.token");
  } else if (c.credentials_file) {
    check(natsOptions_SetUserCredentialsFromFiles(options.get(), c.credentials_file->c_str(),
                                                  nullptr),
          "adapter.nats.credentials_file");
  }

  if (tls) {
    check(natsOptions_SetSecure(options.get(), true), "adapter.nats.tls");
    if (c.tls.ca_path) {
      check(natsOptions_LoadCATrustedCertificates(options.get(), c.tls.ca_path->c_str()),
            absl::StrCat("adapter.nats.tls.ca_path ", *c.tls.ca_path));
    }
    if (c.tls.client_cert_path) {
      check(natsOptions_LoadCertificatesChain(options.get(), c.tls.client_cert_path->c_str(),
                                              c.tls.client_key_path->c_str()),
            absl::StrCat("adapter.nats.tls.client_cert_path ", *c.tls.client_cert_path));
    }
    if (c.tls.accept_invalid_certs) {
      Log()->warn(
          "adapter.nats.tls.accept_invalid_certs is set: the server certificate is not "
          "verified");
      check(natsOptions_SkipServerVerification(options.get(), true),
            "adapter.nats.tls.accept_invalid_certs");
    }
  }
  SOCKUDO_RETURN_IF_ERROR(status);
  *out = options.release();
  return absl::OkStatus();
}

absl::Status NatsTransport::Start(const Identity& identity, Listener* listener) {
  if (phase_.load() != Phase::kIdle) {
    return absl::FailedPreconditionError("nats transport already started");
  }
  if (listener == nullptr || identity.reply_hex.empty() ||
      (!identity.observer && identity.node_id.empty())) {
    return absl::InvalidArgumentError("nats transport: identity and listener are required");
  }
  identity_ = identity;
  listener_ = listener;
  natsOptions* raw = nullptr;
  SOCKUDO_RETURN_IF_ERROR(BuildOptions(&raw));
  OptionsPtr options(raw);

  const Clock::time_point deadline = Clock::now() + milliseconds(config_.connection_timeout_ms);
  {
    std::lock_guard lock(events_mu_);
    connected_ = false;
    closed_ = false;
  }
  io_.restart();
  guard_.emplace(net::make_work_guard(io_));
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        Log()->error("a handler on the nats driver thread threw: {}", e.what());
      } catch (...) {
        Log()->error("a handler on the nats driver thread threw");
      }
    }
  });
  {
    std::unique_lock lock(conn_mu_);
    io_open_ = true;
  }
  phase_ = Phase::kConnecting;

  absl::Status status = Connect(options.get(), deadline);
  options.reset();
  if (status.ok()) {
    // An observer hears requests and its replies only.
    std::vector<std::pair<Channel, std::string>> wanted;
    if (!identity_.observer) wanted.emplace_back(Channel::kBroadcast, broadcast_subject_);
    wanted.emplace_back(Channel::kRequests, requests_subject_);
    if (!identity_.observer) {
      wanted.emplace_back(Channel::kResponses, responses_subject_);
      wanted.emplace_back(Channel::kNodeInbox,
                          NatsSubject(config_.prefix, Channel::kNodeInbox, identity_.node_id));
    }
    wanted.emplace_back(Channel::kReplyInbox,
                        NatsSubject(config_.prefix, Channel::kReplyInbox, identity_.reply_hex));
    for (auto& [channel, subject] : wanted) {
      status = Subscribe(channel, std::move(subject));
      if (!status.ok()) break;
    }
  }
  if (status.ok()) {
    // The server has our subscriptions once it answers a PING sent after them.
    const int64_t left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    const int64_t flush_ms = std::max(left, std::min<int64_t>(config_.connection_timeout_ms, 1000));
    if (natsStatus s = natsConnection_FlushTimeout(nc_, flush_ms); s != NATS_OK) {
      status = absl::UnavailableError(absl::StrCat(
          "nats: ", ServerList(), " did not confirm the subscriptions: ", NatsError(s)));
    }
  }
  if (!status.ok()) {
    Teardown();
    return status;
  }
  phase_ = Phase::kRunning;
  confirmer_.Start();
  char url[256] = "";
  natsConnection_GetConnectedUrl(nc_, url, sizeof(url));
  Log()->info("connected to {} (servers {}) as {} {}", url, ServerList(),
              identity_.observer ? "observer" : "node", identity_.node_id);
  return absl::OkStatus();
}

absl::Status NatsTransport::Connect(natsOptions* options, Clock::time_point deadline) {
  // One synchronous attempt first: its status tells a configuration error (credentials, TLS),
  // which no retry fixes, from servers that are not there (yet).
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, options);
  if (s == NATS_OK) {
    std::unique_lock lock(conn_mu_);
    nc_ = nc;
    connected_events_.fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  std::string reason = NatsError(s);
  if (IsConfigurationError(s)) return Refused(s, reason);
  if (Clock::now() >= deadline) return TimedOut(reason);
  // Then nats.c retries in the background like a reconnect (reconnect wait, max_reconnects);
  // wait for its connected callback until the startup bound.
  s = natsOptions_SetRetryOnFailedConnect(options, true, &OnConnected, this);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, options);
  if (nc != nullptr) {
    std::unique_lock lock(conn_mu_);
    nc_ = nc;
  }
  if (s == NATS_OK) {
    connected_events_.fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  if (s != NATS_NOT_YET_CONNECTED || nc == nullptr) {
    reason = NatsError(s);
    return IsConfigurationError(s) ? Refused(s, reason) : TimedOut(reason);
  }
  std::unique_lock lock(events_mu_);
  for (;;) {
    lock.unlock();
    const char* text = nullptr;
    const natsStatus last = natsConnection_GetLastError(nc, &text);
    if (last != NATS_OK && text != nullptr && *text != '\0') reason = text;
    if (IsConfigurationError(last)) return Refused(last, reason);
    lock.lock();
    if (connected_) {
      connected_events_.fetch_add(1, std::memory_order_relaxed);
      return absl::OkStatus();
    }
    if (closed_) {
      return absl::UnavailableError(absl::StrCat("nats: gave up connecting to ", ServerList(),
                                                 " (adapter.nats.max_reconnects): ", reason));
    }
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return TimedOut(reason);
    events_cv_.wait_until(lock, std::min(deadline, now + kConnectPoll));
  }
}

absl::Status NatsTransport::Refused(natsStatus status, const std::string& reason) const {
  if (status == NATS_CONNECTION_AUTH_FAILED || status == NATS_NOT_PERMITTED) {
    return absl::UnauthenticatedError(
        absl::StrCat("nats: ", ServerList(), " refused the credentials: ", reason,
                     " (check adapter.nats.username/password, token or credentials_file)"));
  }
  return absl::FailedPreconditionError(absl::StrCat("nats: TLS with ", ServerList(),
                                                    " failed: ", reason,
                                                    " (check adapter.nats.tls and the URLs)"));
}

absl::Status NatsTransport::TimedOut(const std::string& reason) const {
  return absl::UnavailableError(absl::StrCat("nats: could not connect to ", ServerList(),
                                             " within ", config_.connection_timeout_ms,
                                             " ms (adapter.nats.connection_timeout_ms): ", reason));
}

absl::Status NatsTransport::Subscribe(Channel channel, std::string subject) {
  auto owned = std::make_unique<Subscription>();
  Subscription* sub = owned.get();
  sub->owner = this;
  sub->channel = channel;
  sub->subject = std::move(subject);
  natsSubscription* handle = nullptr;
  natsStatus s = natsConnection_Subscribe(&handle, nc_, sub->subject.c_str(), &OnNatsMessage, sub);
  if (s != NATS_OK) {
    return absl::UnavailableError(
        absl::StrCat("nats: cannot subscribe to ", sub->subject, ": ", NatsError(s)));
  }
  sub->sub = handle;
  s = natsSubscription_SetOnCompleteCB(handle, &OnSubscriptionComplete, sub);
  if (s != NATS_OK) sub->completed = true;  // already closed: no callback will come
  if (s == NATS_OK && config_.subscription_capacity) {
    s = natsSubscription_SetPendingLimits(handle, ClampToInt(*config_.subscription_capacity), -1);
  }
  {
    std::unique_lock lock(conn_mu_);
    subs_.push_back(std::move(owned));
  }
  if (s != NATS_OK) {
    return absl::UnavailableError(
        absl::StrCat("nats: cannot set up the subscription to ", sub->subject, ": ", NatsError(s)));
  }
  return absl::OkStatus();
}

void NatsTransport::Stop() {
  if (thread_.joinable() && std::this_thread::get_id() == thread_.get_id()) {
    Log()->error("NatsTransport::Stop called on its own driver thread; ignored");
    return;
  }
  if (phase_.load() == Phase::kIdle) return;
  Teardown();
}

void NatsTransport::Teardown() {
  const bool was_running = phase_.exchange(Phase::kStopping) == Phase::kRunning;
  hold_.FailAll(absl::CancelledError("nats transport stopped"),
                [this](Completion d, absl::Status why) { Complete(std::move(d), std::move(why)); });
  confirmer_.Stop();         // one last flush confirms what waits
  natsConnection* nc = nc_;  // only Start and Stop (this thread) change it
  bool leak = false;
  if (nc != nullptr) {
    stats();  // remember what the subscriptions dropped while they can still tell
    const int64_t drain_ms = std::clamp<int64_t>(config_.connection_timeout_ms, 100, kMaxDrainMs);
    // Drain: unsubscribe, deliver what already arrived, flush what was published, then close.
    const bool draining = was_running && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED &&
                          natsConnection_DrainTimeout(nc, drain_ms) == NATS_OK;
    if (!draining) natsConnection_Close(nc);
    // nats.c may still run our callbacks until it reported the close and every subscription's
    // handler returned; only then may their closures go away.
    auto done = [this] {
      if (!closed_) return false;
      for (const auto& sub : subs_) {
        if (!sub->completed) return false;
      }
      return true;
    };
    std::unique_lock lock(events_mu_);
    if (!events_cv_.wait_for(lock, milliseconds(drain_ms) + kCallbackGrace, done)) {
      lock.unlock();
      natsConnection_Close(nc);
      lock.lock();
      if (!events_cv_.wait_for(lock, kCallbackGrace, done)) {
        Log()->error("nats.c did not finish its callbacks; leaking the connection");
        leak = true;
      }
    }
  }
  {
    std::unique_lock lock(conn_mu_);
    io_open_ = false;
  }
  // Runs what is already posted (messages, completions), then ends.
  guard_.reset();
  if (thread_.joinable()) thread_.join();
  {
    std::unique_lock lock(conn_mu_);
    for (auto& sub : subs_) {
      slow_consumer_drops_.fetch_add(sub->nats_dropped.load(), std::memory_order_relaxed);
      if (leak) {
        sub.release();  // nats.c may still hold it
      } else {
        natsSubscription_Destroy(sub->sub);
      }
    }
    subs_.clear();
    if (nc_ != nullptr && !leak) natsConnection_Destroy(nc_);
    nc_ = nullptr;
  }
  phase_ = Phase::kIdle;
}

void NatsTransport::Publish(Channel channel, std::string payload, Completion done) {
  switch (channel) {
    case Channel::kBroadcast:
      // Kept while the roll call after a reconnection runs; while disconnected PublishTo fails
      // at once (the HTTP publish answers 503, it does not wait for the server).
      if (hold_.closed() && Connected() &&
          hold_.Keep(payload, done, [this](Completion d, absl::Status why) {
            Complete(std::move(d), std::move(why));
          })) {
        return;
      }
      return PublishTo(broadcast_subject_, nullptr, payload, std::move(done));
    case Channel::kRequests:
      return PublishTo(requests_subject_, nullptr, payload, std::move(done));
    case Channel::kResponses:
      return PublishTo(responses_subject_, nullptr, payload, std::move(done));
    default:
      return Complete(std::move(done), absl::InvalidArgumentError(absl::StrCat(
                                           "nats: Publish cannot address the ",
                                           base::Av(ChannelName(channel)), " channel")));
  }
}

void NatsTransport::PublishToNode(std::string_view node_id, std::string payload, Completion done) {
  PublishTo(NatsSubject(config_.prefix, Channel::kNodeInbox, node_id), nullptr, payload,
            std::move(done));
}

void NatsTransport::PublishRequest(std::string_view request_id, std::string payload,
                                   Completion done) {
  // identity_ is set before Start returns; callers publish only after that.
  const std::string inbox = NatsRequestInbox(identity_.reply_hex, request_id);
  PublishTo(requests_subject_, inbox.c_str(), payload, std::move(done));
}

void NatsTransport::Reply(std::string_view address, std::string payload, Completion done) {
  if (address.empty()) {
    return Complete(std::move(done), absl::InvalidArgumentError("nats: empty reply subject"));
  }
  PublishTo(std::string(address), nullptr, payload, std::move(done));
}

void NatsTransport::PublishTo(const std::string& subject, const char* reply,
                              std::string_view payload, Completion done) {
  absl::Status status;
  {
    std::shared_lock lock(conn_mu_);
    if (nc_ == nullptr || phase_.load() != Phase::kRunning) {
      status = absl::FailedPreconditionError("nats transport is not running");
    } else if (natsConnection_Status(nc_) != NATS_CONN_STATUS_CONNECTED) {
      // No reconnect buffering: the restarted server knows none of the peers' subscriptions
      // until they reconnect too, so a buffered message would be flushed into the void while its
      // publisher was told it went out. Fail now; the HTTP publish answers 503.
      status = absl::UnavailableError(absl::StrCat("nats: not connected, ", subject, " not sent"));
    } else if (payload.size() > static_cast<size_t>(INT_MAX)) {
      status = absl::InvalidArgumentError("nats: payload too large");
    } else {
      const int size = static_cast<int>(payload.size());
      const natsStatus s =
          reply != nullptr
              ? natsConnection_PublishRequest(nc_, subject.c_str(), reply, payload.data(), size)
              : natsConnection_Publish(nc_, subject.c_str(), payload.data(), size);
      if (s == NATS_OK && done) {
        confirmer_.Add(std::move(done));  // done once the server has it
        return;
      }
      if (s != NATS_OK) {
        const std::string message =
            absl::StrCat("nats: publish to ", subject, " failed: ", NatsError(s));
        status = s == NATS_INSUFFICIENT_BUFFER || s == NATS_MAX_PAYLOAD
                     ? absl::ResourceExhaustedError(message)
                     : absl::UnavailableError(message);
      }
    }
    if (!status.ok()) {
      const uint64_t failures = publish_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
      if (base::FailureStreak::ShouldLog(static_cast<int64_t>(failures))) {  // no flood
        Log()->warn("{} (publish failures so far: {})", base::Sv(status.message()), failures);
      }
    }
    if (done && io_open_) {
      net::post(io_, [done = std::move(done), status = std::move(status)] { done(status); });
      return;
    }
  }
  if (done) done(std::move(status));  // no driver thread: report here
}

void NatsTransport::Complete(Completion done, absl::Status status) {
  if (!done) return;
  {
    std::shared_lock lock(conn_mu_);
    if (io_open_) {
      net::post(io_, [done = std::move(done), status = std::move(status)] { done(status); });
      return;
    }
  }
  done(std::move(status));
}

void NatsTransport::CountNodes(std::function<void(std::optional<size_t>)> done) {
  // NATS has no subscriber count: the caller counts heartbeats.
  if (!done) return;
  {
    std::shared_lock lock(conn_mu_);
    if (io_open_) {
      net::post(io_, [done = std::move(done)] { done(std::nullopt); });
      return;
    }
  }
  done(std::nullopt);
}

void NatsTransport::StartRollCall() {
  if (phase_.load() != Phase::kRunning || !hold_.closed()) return;
  ++roll_call_round_;
  answered_.clear();
  roll_call_deadline_ = Clock::now() + kRollCallLimit;
  RollCall(roll_call_round_);
}

void NatsTransport::RollCall(uint64_t round) {
  if (round != roll_call_round_ || phase_.load() != Phase::kRunning) return;
  answered_.erase(identity_.node_id);  // our own answer when the server echoes (no_echo false)
  const size_t expected = std::max(expected_peers_.load(), expected_at_break_.load());
  if (answered_.size() >= expected || Clock::now() >= roll_call_deadline_) {
    if (answered_.size() < expected) {
      Log()->info("broadcasts resume after {} ms with {} of {} peers subscribed again",
                  kRollCallLimit.count(), answered_.size(), expected);
    }
    OpenHold();
    return;
  }
  {
    std::shared_lock lock(conn_mu_);
    if (nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED) {
      const std::string reply =
          NatsRequestInbox(identity_.reply_hex, absl::StrCat(base::Av(kRollCallToken), round));
      natsConnection_PublishRequest(nc_, broadcast_subject_.c_str(), reply.c_str(), "", 0);
    }
  }
  roll_call_timer_.expires_after(kRollCallEvery);
  roll_call_timer_.async_wait([this, round](boost::system::error_code ec) {
    if (!ec) RollCall(round);
  });
}

void NatsTransport::OpenHold() {
  ++roll_call_round_;
  roll_call_timer_.cancel();
  hold_.Open([this](const std::string& payload, Completion done) {
    PublishTo(broadcast_subject_, nullptr, payload, std::move(done));
  });
}

absl::Status NatsTransport::FlushNow() {
  std::shared_lock lock(conn_mu_);
  if (nc_ == nullptr) return absl::FailedPreconditionError("not connected");
  const natsStatus s = natsConnection_FlushTimeout(nc_, kConfirmTimeout.count());
  if (s != NATS_OK) return absl::UnavailableError(NatsError(s));
  return absl::OkStatus();
}

bool NatsTransport::Connected() const {
  std::shared_lock lock(conn_mu_);
  return nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

bool NatsTransport::Healthy() const {
  std::shared_lock lock(conn_mu_, std::try_to_lock);
  if (!lock.owns_lock() || nc_ == nullptr || phase_.load() != Phase::kRunning) return false;
  return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

void NatsTransport::Post(std::function<void()> fn) { net::post(io_, std::move(fn)); }

NatsTransport::Stats NatsTransport::stats() const {
  Stats s;
  s.slow_consumer_drops = slow_consumer_drops_.load(std::memory_order_relaxed);
  {
    std::shared_lock lock(conn_mu_);
    for (const auto& sub : subs_) {
      int64_t dropped = 0;
      if (sub->sub != nullptr && natsSubscription_GetDropped(sub->sub, &dropped) == NATS_OK) {
        int64_t seen = sub->nats_dropped.load();
        while (dropped > seen && !sub->nats_dropped.compare_exchange_weak(seen, dropped)) {
        }
      }
      s.slow_consumer_drops += static_cast<uint64_t>(sub->nats_dropped.load());
    }
  }
  s.publish_failures = publish_failures_.load(std::memory_order_relaxed);
  s.connected = connected_events_.load(std::memory_order_relaxed);
  s.disconnected = disconnected_.load(std::memory_order_relaxed);
  s.reconnected = reconnected_.load(std::memory_order_relaxed);
  s.slow_consumer = slow_consumer_events_.load(std::memory_order_relaxed);
  s.closed = closed_events_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  return s;
}

std::vector<Transport::EventCount> NatsTransport::events() const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  return {{"connected", connected_events_.load(kRelaxed)},
          {"disconnected", disconnected_.load(kRelaxed)},
          {"reconnected", reconnected_.load(kRelaxed)},
          {"slow_consumer", slow_consumer_events_.load(kRelaxed)},
          {"closed", closed_events_.load(kRelaxed)},
          {"error", errors_.load(kRelaxed)}};
}

// --- nats.c callbacks: library threads. Copy, post to the driver thread, never throw. ---

void NatsTransport::OnNatsMessage(natsConnection* nc, natsSubscription*, natsMsg* msg,
                                  void* closure) {
  std::unique_ptr<natsMsg, MsgDeleter> owned(msg);
  auto* sub = static_cast<Subscription*>(closure);
  NatsTransport* self = sub->owner;
  try {
    // The driver thread is the real consumer: bound what waits for it like nats.c's own pending
    // limit (subscription_capacity), dropping and counting past it.
    if (sub->queued.load(std::memory_order_relaxed) >= self->pending_limit_) {
      self->slow_consumer_drops_.fetch_add(1, std::memory_order_relaxed);
      if (!sub->dropping.exchange(true)) {
        Log()->warn("slow consumer: {} messages wait on {}; dropping until it catches up",
                    self->pending_limit_, sub->subject);
      }
      return;
    }
    sub->dropping.store(false, std::memory_order_relaxed);
    const char* data = natsMsg_GetData(msg);
    const char* reply = natsMsg_GetReply(msg);
    // A roll call (a broadcast with a reply subject; ours carry none): this node is subscribed
    // again, say so with its id. Not delivered.
    if (sub->channel == Channel::kBroadcast && reply != nullptr) {
      const std::string& id = self->identity_.node_id;
      natsConnection_Publish(nc, reply, id.data(), static_cast<int>(id.size()));
      return;
    }
    if (sub->channel == Channel::kReplyInbox) {
      std::string_view subject = natsMsg_GetSubject(msg);
      std::string_view last = subject.substr(subject.rfind('.') + 1);
      if (last.substr(0, kRollCallToken.size()) == kRollCallToken) {
        uint64_t round = 0;
        std::from_chars(last.data() + kRollCallToken.size(), last.data() + last.size(), round);
        std::string who(data != nullptr ? data : "",
                        data != nullptr ? natsMsg_GetDataLength(msg) : 0);
        // An empty answer is the server's "no responders" status (nobody subscribed), not a node.
        if (who.empty()) return;
        net::post(self->io_, [self, round, who = std::move(who)]() mutable {
          if (round == self->roll_call_round_ && self->hold_.closed()) {
            self->answered_.insert(std::move(who));
          }
        });
        return;
      }
    }
    Incoming incoming{sub->channel,
                      data != nullptr ? std::string(data, natsMsg_GetDataLength(msg)) : "",
                      reply != nullptr ? reply : ""};
    owned.reset();
    sub->queued.fetch_add(1, std::memory_order_relaxed);
    net::post(self->io_, [sub, incoming = std::move(incoming)]() mutable {
      sub->queued.fetch_sub(1, std::memory_order_relaxed);
      sub->owner->listener_->OnMessage(std::move(incoming));
    });
  } catch (const std::exception& e) {
    Log()->error("dropped a message on {}: {}", sub->subject, e.what());
  } catch (...) {
  }
}

void NatsTransport::OnSubscriptionComplete(void* closure) {
  auto* sub = static_cast<Subscription*>(closure);
  NatsTransport* self = sub->owner;
  std::lock_guard lock(self->events_mu_);
  sub->completed = true;
  self->events_cv_.notify_all();  // under the lock: Stop may free us right after
}

void NatsTransport::OnConnected(natsConnection*, void* closure) {
  auto* self = static_cast<NatsTransport*>(closure);
  std::lock_guard lock(self->events_mu_);
  self->connected_ = true;
  self->events_cv_.notify_all();
}

void NatsTransport::OnDisconnected(natsConnection*, void* closure) {
  auto* self = static_cast<NatsTransport*>(closure);
  if (self->phase_.load() != Phase::kRunning) return;
  self->expected_at_break_.store(self->expected_peers_.load());
  self->hold_.Close();
  self->confirmer_.Broke();
  self->disconnected_.fetch_add(1, std::memory_order_relaxed);
  try {
    Log()->warn("disconnected from {}; reconnecting", self->ServerList());
    net::post(self->io_, [self] { self->listener_->OnHealthChanged(false); });
  } catch (...) {
  }
}

void NatsTransport::OnReconnected(natsConnection* nc, void* closure) {
  auto* self = static_cast<NatsTransport*>(closure);
  self->reconnected_.fetch_add(1, std::memory_order_relaxed);
  if (self->phase_.load() != Phase::kRunning) return;
  try {
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    Log()->info("reconnected to {}; subscriptions restored", url);
    // nats.c resent the subscriptions before this callback; what was published while we were
    // away is lost (the adapter resyncs presence on OnResubscribed).
    net::post(self->io_, [self] {
      self->StartRollCall();
      self->listener_->OnHealthChanged(true);
      self->listener_->OnResubscribed();
    });
  } catch (...) {
  }
}

void NatsTransport::OnClosed(natsConnection* nc, void* closure) {
  auto* self = static_cast<NatsTransport*>(closure);
  if (self->phase_.load() == Phase::kRunning) {
    // Not asked for: nats.c exhausted adapter.nats.max_reconnects.
    self->closed_events_.fetch_add(1, std::memory_order_relaxed);
    try {
      const char* text = nullptr;
      natsConnection_GetLastError(nc, &text);
      absl::Status status = absl::UnavailableError(
          absl::StrCat("nats: connection to ", self->ServerList(), " closed after ",
                       self->config_.max_reconnects.value_or(-1),
                       " reconnect attempts (adapter.nats.max_reconnects)",
                       text != nullptr && *text != '\0' ? absl::StrCat(": ", text) : ""));
      Log()->error("{}", base::Sv(status.message()));
      net::post(self->io_, [self, status = std::move(status)] {
        self->listener_->OnHealthChanged(false);
        if (self->on_fatal_) self->on_fatal_(status);
      });
    } catch (...) {
    }
  }
  std::lock_guard lock(self->events_mu_);
  self->closed_ = true;
  self->events_cv_.notify_all();
}

void NatsTransport::OnError(natsConnection* nc, natsSubscription* sub, natsStatus err,
                            void* closure) {
  auto* self = static_cast<NatsTransport*>(closure);
  try {
    if (err == NATS_SLOW_CONSUMER) {
      self->slow_consumer_events_.fetch_add(1, std::memory_order_relaxed);
      Log()->warn("slow consumer on {}: nats.c drops messages over its pending limit",
                  sub != nullptr ? natsSubscription_GetSubject(sub) : "?");
      return;
    }
    self->errors_.fetch_add(1, std::memory_order_relaxed);
    const char* text = nullptr;
    natsConnection_GetLastError(nc, &text);
    Log()->warn("nats error: {} {}", natsStatus_GetText(err), text != nullptr ? text : "");
  } catch (...) {
  }
}

}  // namespace sockudo::bus::nats
