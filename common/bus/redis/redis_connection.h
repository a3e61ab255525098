// File: redis_connection.h
// One asynchronous RESP2 connection to one Redis server: hiredis 0.14 is only the codec
// (redisReader parses, redisFormatCommandArgv formats); the socket is a Boost.Asio TCP socket,
// wrapped in an asio::ssl stream when the endpoint asks for TLS (SNI = host, CA / client
// certificate from the TLS block, verification unless accept_invalid_certs).
//
// After Connect() the connection authenticates (`AUTH [user] password`), selects the database
// when db != 0, and checks that the server answers `PING`; only then does `done` run and do queued
// commands leave. Commands are pipelined: each is written as soon as it is issued and its callback
// runs when its reply arrives, in order. A server error reaches the callback as a status holding
// the server's text; a `-READONLY` reply (failover in progress) breaks the connection.
//
// Subscriber mode: once Subscribe() was sent, `message` / `smessage` / `pmessage` arrays and
// unsolicited (un)subscribe confirmations go to the push handler instead of a command callback.
//
// The connection never reconnects: when it breaks, every pending callback fails with
// kUnavailable, then the close handler runs once; the owner dials a new one. Replies are copied
// out of hiredis before any callback runs, so no redisReply outlives the parser.
//
// Threads: everything, including every callback, runs on the io_context's thread; the object
// must be created, used and closed there. It keeps itself alive while operations are pending.
//
//   auto conn = RedisConnection::Create(io, {.host = "127.0.0.1", .port = 6379});
//   conn->Connect([conn](absl::Status st) {
//     conn->Command({"PUBLISH", "ch", "hello"}, [](absl::StatusOr<RedisReply> r) { ... });
//   });
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/config/config.h"

namespace boost::asio {
class io_context;
}

struct redisReply;  // hiredis

namespace sockudo::bus::redis {

// A RESP2 reply, owned. Top-level server errors never appear here (they become a status); an
// error nested in an array (EXEC) keeps type kError with its text in `str`.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_array() const { return type == Type::kArray; }
  bool is_string() const { return type == Type::kString || type == Type::kStatus; }
  // "(nil)", the text, the number, or "[a, b, ...]": for logs and tests.
  std::string DebugString() const;
  // The owned copy of a hiredis reply (nested arrays included).
  static RedisReply FromHiredis(const ::redisReply* r);
};

// One message pushed to a subscribed connection.
struct Push {
  std::string kind;     // "message", "smessage", "pmessage", or an unsolicited "sunsubscribe", ...
  std::string channel;  // the channel it arrived on
  std::string payload;  // the message; empty for confirmations
  std::string pattern;  // "pmessage" only
};

struct ConnectionOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::optional<std::string> username;  // AUTH username password (ACL, Redis 6+)
  std::optional<std::string> password;  // AUTH password
  int64_t db = 0;                       // SELECT db when not 0
  bool tls = false;
  config::TlsConfig tls_options;  // CA, client certificate, accept_invalid_certs
  // From Connect() to the answered PING (resolve, TCP, TLS, AUTH, SELECT).
  std::chrono::milliseconds connect_timeout{2000};
  // A command still unanswered after this long breaks the connection; 0 = wait forever.
  std::chrono::milliseconds reply_timeout{10000};
  std::string label = "redis";  // names the connection in errors and logs ("redis subscriber")
};

class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  using StatusCallback = std::function<void(absl::Status)>;
  using ReplyCallback = std::function<void(absl::StatusOr<RedisReply>)>;
  using PushHandler = std::function<void(Push)>;

  static std::shared_ptr<RedisConnection> Create(boost::asio::io_context& io,
                                                 ConnectionOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Resolves, connects, shakes hands (TLS), authenticates, selects, pings. `done` runs once, on
  // the io thread: OK when ready; otherwise the connection is closed and the status says what
  // failed and where ("redis 10.0.0.1:6379: connect: Connection refused", "...: AUTH failed:
  // WRONGPASS ..."). Call once.
  void Connect(StatusCallback done);

  // Sends one command (argv form, binary safe; the arguments are copied before this returns).
  // Commands issued before Connect finished wait for it. `done` gets the reply, the server's error
  // (status message = server text), or kUnavailable when the connection broke before the reply; on
  // a closed connection it is posted at once.
  void Command(const std::vector<std::string_view>& args, ReplyCallback done);

  // SUBSCRIBE (or SSUBSCRIBE when `sharded`) to `channels` and switch to subscriber mode; `done`
  // runs after the server confirmed every channel. In subscriber mode only (S)SUBSCRIBE,
  // (S)UNSUBSCRIBE and PING may be sent (RESP2).
  void Subscribe(const std::vector<std::string>& channels, StatusCallback done,
                 bool sharded = false);
  void Unsubscribe(const std::vector<std::string>& channels, StatusCallback done,
                   bool sharded = false);

  // Receives pushes in subscriber mode.
  void set_push_handler(PushHandler handler) { push_handler_ = std::move(handler); }
  // Runs once when a ready connection breaks (EOF, I/O error, protocol error, reply timeout,
  // -READONLY), before the pending callbacks fail. Never runs after Close().
  void set_close_handler(StatusCallback handler) { close_handler_ = std::move(handler); }

  // Closes the socket; pending callbacks (and a pending Connect) fail with kCancelled, inside
  // this call. Handlers are dropped. Idempotent.
  void Close();

  bool ready() const { return state_ == State::kReady; }
  bool closed() const { return state_ == State::kClosed; }
  size_t pending() const { return pending_.size() + held_.size(); }
  const std::string& address() const { return address_; }  // "host:port"
  const ConnectionOptions& options() const { return options_; }

 private:
  enum class State { kIdle, kConnecting, kHandshake, kReady, kClosed };
  struct Pending {
    ReplyCallback done;
    int replies_left = 1;  // (un)subscribe: one confirmation per channel
    std::string verb;      // lowercase command name, to match confirmations in subscriber mode
    std::chrono::steady_clock::time_point sent_at;
  };
  struct Impl;  // Asio socket, TLS stream, resolver, timer, hiredis reader

  RedisConnection(boost::asio::io_context& io, ConnectionOptions options);

  void Resolve();
  void ConnectTcp();
  void Handshake();
  void OnReady();
  void Send(const std::vector<std::string_view>& args, int replies, ReplyCallback done);
  void Enqueue(const std::vector<std::string_view>& args, int replies, ReplyCallback done);
  void StartWrite();
  void StartRead();
  void OnData(size_t n);
  void OnReply(void* reply);  // redisReply*, freed here
  void ArmTimer();
  void Fail(absl::Status status);
  absl::Status Err(absl::string_view what) const;

  boost::asio::io_context& io_;
  ConnectionOptions options_;
  std::string address_;
  std::unique_ptr<Impl> impl_;
  State state_ = State::kIdle;
  bool subscribed_ = false;
  bool writing_ = false;
  std::string out_;              // formatted commands waiting for the socket
  std::string writing_buf_;      // the bytes of the write in flight
  std::deque<Pending> pending_;  // written (or queued in out_), awaiting replies
  // Issued before the handshake finished: formatted command + its pending entry.
  std::vector<std::pair<std::string, Pending>> held_;
  StatusCallback connect_done_;
  StatusCallback close_handler_;
  PushHandler push_handler_;
};

// True for the statuses a broken connection produces (as opposed to a server's error reply).
bool IsConnectionError(const absl::Status& status);

}  // namespace sockudo::bus::redis
