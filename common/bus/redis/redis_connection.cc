#include "common/bus/redis/redis_connection.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sockudo::bus::redis {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct RedisConnection::Impl {
  explicit Impl(asio::io_context& io) : resolver(io), socket(io), timer(io) {}
  ~Impl() {
    if (reader != nullptr) redisReaderFree(reader);
  }
  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }

  tcp::resolver resolver;
  tcp::resolver::results_type endpoints;
  std::unique_ptr<asio::ssl::context> ssl_context;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls;  // owns the socket when TLS is on
  tcp::socket socket;                                   // used when TLS is off
  asio::steady_timer timer;                             // connect deadline, then reply timeouts
  redisReader* reader = nullptr;
  std::array<char, 16 * 1024> read_buffer;
};

namespace {

RedisReply Convert(const redisReply* r) { return RedisReply::FromHiredis(r); }

bool IsText(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS;
}

std::string Text(const redisReply* r) { return IsText(r) ? std::string(r->str, r->len) : ""; }

// A server error reply as a status: the message is the server's text.
absl::Status ServerError(std::string text) {
  if (absl::StartsWith(text, "NOAUTH") || absl::StartsWith(text, "WRONGPASS")) {
    return absl::UnauthenticatedError(text);
  }
  if (absl::StartsWith(text, "NOPERM")) return absl::PermissionDeniedError(text);
  return absl::UnknownError(text);
}

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string Lower(std::string_view s) {
  return absl::AsciiStrToLower(absl::string_view(s.data(), s.size()));
}

bool IsSubscribeVerb(std::string_view verb) {
  return verb == "subscribe" || verb == "ssubscribe" || verb == "psubscribe" ||
         verb == "unsubscribe" || verb == "sunsubscribe" || verb == "punsubscribe";
}

// Appends the RESP encoding of `args` to `out` (redisFormatCommandArgv; binary safe).
bool Format(const std::vector<std::string_view>& args, std::string* out) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  int len = redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), argv.data(), lens.data());
  if (len < 0 || cmd == nullptr) return false;
  out->append(cmd, static_cast<size_t>(len));
  redisFreeCommand(cmd);
  return true;
}

}  // namespace

RedisReply RedisReply::FromHiredis(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(FromHiredis(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

std::string RedisReply::DebugString() const {
  switch (type) {
    case Type::kNil:
      return "(nil)";
    case Type::kInteger:
      return absl::StrCat(integer);
    case Type::kError:
      return absl::StrCat("(error) ", str);
    case Type::kArray:
      return absl::StrCat("[",
                          absl::StrJoin(elements, ", ",
                                        [](std::string* out, const RedisReply& r) {
                                          out->append(r.DebugString());
                                        }),
                          "]");
    default:
      return str;
  }
}

bool IsConnectionError(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsCancelled(status);
}

std::shared_ptr<RedisConnection> RedisConnection::Create(asio::io_context& io,
                                                         ConnectionOptions options) {
  return std::shared_ptr<RedisConnection>(new RedisConnection(io, std::move(options)));
}

RedisConnection::RedisConnection(asio::io_context& io, ConnectionOptions options)
    : io_(io),
      options_(std::move(options)),
      address_(absl::StrCat(options_.host, ":", options_.port)),
      impl_(std::make_unique<Impl>(io)) {}

RedisConnection::~RedisConnection() = default;

absl::Status RedisConnection::Err(absl::string_view what) const {
  return absl::UnavailableError(absl::StrCat(options_.label, " ", address_, ": ", what));
}

void RedisConnection::Connect(StatusCallback done) {
  if (state_ != State::kIdle) {
    asio::post(io_, [done = std::move(done)] {
      done(absl::FailedPreconditionError("RedisConnection::Connect called twice"));
    });
    return;
  }
  connect_done_ = std::move(done);
  state_ = State::kConnecting;
  impl_->reader = redisReaderCreate();
  if (options_.tls) {
    namespace ssl = asio::ssl;
    const config::TlsConfig& t = options_.tls_options;
    impl_->ssl_context = std::make_unique<ssl::context>(ssl::context::tls_client);
    ssl::context& ctx = *impl_->ssl_context;
    boost::system::error_code ec;
    std::string problem;
    if (t.accept_invalid_certs) {
      ctx.set_verify_mode(ssl::verify_none);
    } else {
      ctx.set_verify_mode(ssl::verify_peer);
      if (t.ca_path) {
        ctx.load_verify_file(*t.ca_path, ec);
        if (ec) problem = absl::StrCat("TLS CA file ", *t.ca_path, ": ", ec.message());
      } else {
        ctx.set_default_verify_paths(ec);
        if (ec) problem = absl::StrCat("TLS system trust store: ", ec.message());
      }
    }
    if (problem.empty() && (t.client_cert_path || t.client_key_path)) {
      if (!t.client_cert_path || !t.client_key_path) {
        problem = "TLS client certificate and key must be given together";
      } else {
        ctx.use_certificate_chain_file(*t.client_cert_path, ec);
        if (ec) {
          problem =
              absl::StrCat("TLS client certificate ", *t.client_cert_path, ": ", ec.message());
        } else {
          ctx.use_private_key_file(*t.client_key_path, ssl::context::pem, ec);
          if (ec) {
            problem = absl::StrCat("TLS client key ", *t.client_key_path, ": ", ec.message());
          }
        }
      }
    }
    if (!problem.empty()) {
      auto self = shared_from_this();
      asio::post(io_, [this, self, problem] {
        Fail(
            absl::InvalidArgumentError(absl::StrCat(options_.label, " ", address_, ": ", problem)));
      });
      return;
    }
    impl_->tls = std::make_unique<ssl::stream<tcp::socket>>(io_, ctx);
    if (!IsIpLiteral(options_.host)) {
      SSL_set_tlsext_host_name(impl_->tls->native_handle(), options_.host.c_str());
    }
    if (!t.accept_invalid_certs) {
      impl_->tls->set_verify_callback(ssl::host_name_verification(options_.host));
    }
  }
  auto self = shared_from_this();
  impl_->timer.expires_after(options_.connect_timeout);
  impl_->timer.async_wait([this, self](boost::system::error_code ec) {
    if (ec || (state_ != State::kConnecting && state_ != State::kHandshake)) return;
    Fail(absl::DeadlineExceededError(absl::StrCat(options_.label, " ", address_,
                                                  ": connect timed out after ",
                                                  options_.connect_timeout.count(), " ms")));
  });
  Resolve();
}

void RedisConnection::Resolve() {
  auto self = shared_from_this();
  impl_->resolver.async_resolve(
      options_.host, std::to_string(options_.port),
      [this, self](boost::system::error_code ec, tcp::resolver::results_type results) {
        if (state_ == State::kClosed) return;
        if (ec) {
          Fail(Err(absl::StrCat("resolve: ", ec.message())));
          return;
        }
        impl_->endpoints = std::move(results);
        ConnectTcp();
      });
}

void RedisConnection::ConnectTcp() {
  auto self = shared_from_this();
  asio::async_connect(impl_->lowest(), impl_->endpoints,
                      [this, self](boost::system::error_code ec, const tcp::endpoint&) {
                        if (state_ == State::kClosed) return;
                        if (ec) {
                          Fail(Err(absl::StrCat("connect: ", ec.message())));
                          return;
                        }
                        boost::system::error_code ignored;
                        impl_->lowest().set_option(tcp::no_delay(true), ignored);
                        impl_->lowest().set_option(asio::socket_base::keep_alive(true), ignored);
                        if (!impl_->tls) {
                          Handshake();
                          return;
                        }
                        impl_->tls->async_handshake(
                            asio::ssl::stream_base::client,
                            [this, self](boost::system::error_code ec) {
                              if (state_ == State::kClosed) return;
                              if (ec) {
                                Fail(Err(absl::StrCat("TLS handshake: ", ec.message())));
                                return;
                              }
                              Handshake();
                            });
                      });
}

void RedisConnection::Handshake() {
  state_ = State::kHandshake;
  StartRead();
  auto self = shared_from_this();
  if (options_.password) {
    std::vector<std::string_view> auth = {"AUTH"};
    if (options_.username) auth.push_back(*options_.username);
    auth.push_back(*options_.password);
    Enqueue(auth, 1, [this, self](absl::StatusOr<RedisReply> r) {
      if (!r.ok() && state_ != State::kClosed) {
        Fail(absl::Status(
            r.status().code(),
            absl::StrCat(options_.label, " ", address_, ": AUTH failed: ", r.status().message())));
      }
    });
  }
  if (options_.db != 0) {
    std::string db = std::to_string(options_.db);
    Enqueue({"SELECT", db}, 1, [this, self](absl::StatusOr<RedisReply> r) {
      if (!r.ok() && state_ != State::kClosed) {
        Fail(absl::Status(r.status().code(),
                          absl::StrCat(options_.label, " ", address_, ": SELECT ", options_.db,
                                       " failed: ", r.status().message())));
      }
    });
  }
  Enqueue({"PING"}, 1, [this, self](absl::StatusOr<RedisReply> r) {
    if (state_ == State::kClosed) return;
    if (!r.ok()) {
      Fail(absl::Status(r.status().code(),
                        absl::StrCat(options_.label, " ", address_, ": ", r.status().message())));
      return;
    }
    OnReady();
  });
  StartWrite();
}

void RedisConnection::OnReady() {
  state_ = State::kReady;
  impl_->timer.cancel();
  for (auto& [bytes, pending] : held_) {
    out_.append(bytes);
    pending.sent_at = Clock::now();
    pending_.push_back(std::move(pending));
  }
  held_.clear();
  StartWrite();
  ArmTimer();
  if (auto done = std::exchange(connect_done_, nullptr)) done(absl::OkStatus());
}

void RedisConnection::ArmTimer() {
  if (options_.reply_timeout.count() <= 0 || state_ != State::kReady) return;
  auto period = std::max(options_.reply_timeout / 4, std::chrono::milliseconds(50));
  auto self = shared_from_this();
  impl_->timer.expires_after(period);
  impl_->timer.async_wait([this, self](boost::system::error_code ec) {
    if (ec || state_ != State::kReady) return;
    if (!pending_.empty() && Clock::now() - pending_.front().sent_at > options_.reply_timeout) {
      Fail(absl::DeadlineExceededError(absl::StrCat(options_.label, " ", address_,
                                                    ": no reply within ",
                                                    options_.reply_timeout.count(), " ms")));
      return;
    }
    ArmTimer();
  });
}

void RedisConnection::Command(const std::vector<std::string_view>& args, ReplyCallback done) {
  Send(args, 1, std::move(done));
}

void RedisConnection::Subscribe(const std::vector<std::string>& channels, StatusCallback done,
                                bool sharded) {
  std::vector<std::string_view> args = {sharded ? "SSUBSCRIBE" : "SUBSCRIBE"};
  args.insert(args.end(), channels.begin(), channels.end());
  Send(args, static_cast<int>(channels.size()),
       [done = std::move(done)](absl::StatusOr<RedisReply> r) {
         if (done) done(r.status());
       });
}

void RedisConnection::Unsubscribe(const std::vector<std::string>& channels, StatusCallback done,
                                  bool sharded) {
  std::vector<std::string_view> args = {sharded ? "SUNSUBSCRIBE" : "UNSUBSCRIBE"};
  args.insert(args.end(), channels.begin(), channels.end());
  Send(args, static_cast<int>(channels.size()),
       [done = std::move(done)](absl::StatusOr<RedisReply> r) {
         if (done) done(r.status());
       });
}

void RedisConnection::Send(const std::vector<std::string_view>& args, int replies,
                           ReplyCallback done) {
  if (state_ == State::kClosed || args.empty() || replies < 1) {
    absl::Status st = state_ == State::kClosed ? Err("connection is closed")
                                               : absl::InvalidArgumentError("empty Redis command");
    asio::post(io_, [done = std::move(done), st] {
      if (done) done(st);
    });
    return;
  }
  if (state_ == State::kReady) {
    Enqueue(args, replies, std::move(done));
    StartWrite();
    return;
  }
  // Not connected yet: format now, send after the handshake.
  std::string bytes;
  if (!Format(args, &bytes)) {
    asio::post(io_, [done = std::move(done)] {
      if (done) done(absl::ResourceExhaustedError("cannot format Redis command"));
    });
    return;
  }
  Pending p{std::move(done), replies, Lower(args[0]), Clock::now()};
  if (IsSubscribeVerb(p.verb)) subscribed_ = true;
  held_.emplace_back(std::move(bytes), std::move(p));
}

void RedisConnection::Enqueue(const std::vector<std::string_view>& args, int replies,
                              ReplyCallback done) {
  if (!Format(args, &out_)) {
    asio::post(io_, [done = std::move(done)] {
      if (done) done(absl::ResourceExhaustedError("cannot format Redis command"));
    });
    return;
  }
  Pending p{std::move(done), replies, Lower(args[0]), Clock::now()};
  if (IsSubscribeVerb(p.verb)) subscribed_ = true;
  pending_.push_back(std::move(p));
}

void RedisConnection::StartWrite() {
  if (writing_ || out_.empty() || (state_ != State::kHandshake && state_ != State::kReady)) {
    return;
  }
  writing_ = true;
  writing_buf_.clear();
  writing_buf_.swap(out_);
  auto self = shared_from_this();
  auto handler = [this, self](boost::system::error_code ec, size_t) {
    writing_ = false;
    if (state_ == State::kClosed) return;
    if (ec) {
      Fail(Err(absl::StrCat("write: ", ec.message())));
      return;
    }
    // Keep a burst's buffer from pinning memory for the connection's lifetime.
    if (writing_buf_.capacity() > (1u << 20)) std::string().swap(writing_buf_);
    StartWrite();
  };
  if (impl_->tls) {
    asio::async_write(*impl_->tls, asio::buffer(writing_buf_), std::move(handler));
  } else {
    asio::async_write(impl_->socket, asio::buffer(writing_buf_), std::move(handler));
  }
}

void RedisConnection::StartRead() {
  auto self = shared_from_this();
  auto handler = [this, self](boost::system::error_code ec, size_t n) {
    if (state_ == State::kClosed) return;
    if (ec) {
      bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      Fail(Err(eof ? "connection closed by the server" : absl::StrCat("read: ", ec.message())));
      return;
    }
    OnData(n);
    if (state_ != State::kClosed) StartRead();
  };
  auto buffer = asio::buffer(impl_->read_buffer);
  if (impl_->tls) {
    impl_->tls->async_read_some(buffer, std::move(handler));
  } else {
    impl_->socket.async_read_some(buffer, std::move(handler));
  }
}

void RedisConnection::OnData(size_t n) {
  if (redisReaderFeed(impl_->reader, impl_->read_buffer.data(), n) != REDIS_OK) {
    Fail(Err(absl::StrCat("protocol error: ", impl_->reader->errstr)));
    return;
  }
  while (state_ != State::kClosed) {
    void* reply = nullptr;
    if (redisReaderGetReply(impl_->reader, &reply) != REDIS_OK) {
      Fail(Err(absl::StrCat("protocol error: ", impl_->reader->errstr)));
      return;
    }
    if (reply == nullptr) return;
    OnReply(reply);
  }
}

void RedisConnection::OnReply(void* raw) {
  std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw),
                                                     freeReplyObject);
  const redisReply* r = reply.get();
  if (subscribed_ && r->type == REDIS_REPLY_ARRAY && r->elements >= 3 && IsText(r->element[0])) {
    std::string kind = absl::AsciiStrToLower(Text(r->element[0]));
    Push push;
    bool is_push = false;
    if ((kind == "message" || kind == "smessage") && r->elements == 3) {
      push = {kind, Text(r->element[1]), Text(r->element[2]), ""};
      is_push = true;
    } else if (kind == "pmessage" && r->elements == 4) {
      push = {kind, Text(r->element[2]), Text(r->element[3]), Text(r->element[1])};
      is_push = true;
    } else if (IsSubscribeVerb(kind)) {
      if (!pending_.empty() && pending_.front().verb == kind) {
        if (--pending_.front().replies_left > 0) return;
        Pending p = std::move(pending_.front());
        pending_.pop_front();
        RedisReply converted = Convert(r);
        reply.reset();
        if (p.done) p.done(std::move(converted));
        return;
      }
      push = {kind, Text(r->element[1]), "", ""};  // unsolicited (e.g. the slot moved away)
      is_push = true;
    }
    if (is_push) {
      reply.reset();
      if (push_handler_) push_handler_(std::move(push));
      return;
    }
  }
  if (pending_.empty()) {
    Fail(Err("reply without a pending command"));
    return;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    std::string text(r->str, r->len);
    reply.reset();
    if (absl::StartsWith(text, "READONLY")) {
      // The node is (now) a replica: a failover is under way; the owner must rediscover.
      Fail(Err(text));
      return;
    }
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    if (p.done) p.done(ServerError(std::move(text)));
    return;
  }
  RedisReply converted = Convert(r);
  reply.reset();
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  if (p.done) p.done(std::move(converted));
}

void RedisConnection::Close() {
  close_handler_ = nullptr;
  push_handler_ = nullptr;
  Fail(absl::CancelledError(absl::StrCat(options_.label, " ", address_, ": connection closed")));
}

void RedisConnection::Fail(absl::Status status) {
  if (state_ == State::kClosed) return;
  bool was_ready = state_ == State::kReady;
  state_ = State::kClosed;
  boost::system::error_code ignored;
  impl_->resolver.cancel();
  impl_->timer.cancel();
  impl_->lowest().close(ignored);
  out_.clear();
  StatusCallback connect_done = std::exchange(connect_done_, nullptr);
  StatusCallback close_handler = std::exchange(close_handler_, nullptr);
  push_handler_ = nullptr;
  std::deque<Pending> pending = std::exchange(pending_, {});
  std::vector<std::pair<std::string, Pending>> held = std::exchange(held_, {});
  if (close_handler && was_ready) close_handler(status);
  for (Pending& p : pending) {
    if (p.done) p.done(status);
  }
  for (auto& [bytes, p] : held) {
    if (p.done) p.done(status);
  }
  if (connect_done) connect_done(status);
}

}  // namespace sockudo::bus::redis
