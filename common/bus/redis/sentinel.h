// File: sentinel.h
// Finds the current master of a Redis Sentinel set (hiredis has no Sentinel support):
//   1. ask the sentinels in turn, starting with the one that answered last (configured order at
//      first, rotating on failure): connect (TLS per sentinel_tls), AUTH with the sentinel
//      credentials when set, `SENTINEL get-master-addr-by-name <name>` -> [host, port];
//   2. connect to that address with the master's options (AUTH, SELECT db, TLS per master_tls),
//      send `ROLE`; the first element must be "master", otherwise wait 1 s and start again at 1.
// The connection to each sentinel lives only for one question. Nothing is cached: every
// (re)connect of a connection runs the discovery again, so that a connection failure or a
// -READONLY reply (a failover) leads to the new master.
//
// Threads: the io_context's thread only; callbacks run there. Operations keep the object alive;
// when the io_context stops, pending callbacks are dropped without running.
//
//   auto sentinel = Sentinel::Create(io, Sentinel::OptionsFor(target));
//   sentinel->ConnectMaster(master_options, deadline, [](auto conn) { ... });
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/bus/redis/redis_connection.h"
#include "common/config/config.h"

namespace boost::asio {
class io_context;
}

namespace sockudo::bus::redis {

struct SentinelOptions {
  std::vector<config::HostPort> sentinels;  // port 0 means 26379
  std::string master_name = "mymaster";
  std::optional<std::string> username;  // sentinel_username
  std::optional<std::string> password;  // sentinel_password
  bool tls = false;                     // sentinel_tls.enabled
  config::TlsConfig tls_options;
  std::chrono::milliseconds connect_timeout{2000};   // per sentinel
  std::chrono::milliseconds role_retry_delay{1000};  // step 2 found a replica
};

class Sentinel : public std::enable_shared_from_this<Sentinel> {
 public:
  using MasterCallback = std::function<void(absl::StatusOr<config::HostPort>)>;
  using ConnectionCallback = std::function<void(absl::StatusOr<std::shared_ptr<RedisConnection>>)>;

  static std::shared_ptr<Sentinel> Create(boost::asio::io_context& io, SentinelOptions options);
  // The sentinel part of a configured target.
  static SentinelOptions OptionsFor(const config::RedisTarget& target);
  // redis+sentinel://[:***@]h1:p1,h2:p2/<name>/<db>[?password=***] (secrets masked).
  static std::string EndpointForLog(const config::RedisTarget& target);

  // Step 1: the master's address according to the first sentinel that answers. Fails (naming
  // every sentinel and what went wrong) when none does.
  void ResolveMaster(MasterCallback done);

  // Steps 1-2: a ready connection to the master, made with `master` (host and port replaced by
  // the discovered address). Retries after role_retry_delay while the address turns out to be a
  // replica, until `deadline`; other failures are returned at once (the caller's backoff
  // decides when to try again).
  void ConnectMaster(ConnectionOptions master, std::chrono::steady_clock::time_point deadline,
                     ConnectionCallback done);

  const SentinelOptions& options() const { return options_; }

 private:
  Sentinel(boost::asio::io_context& io, SentinelOptions options);
  void Ask(size_t attempt, std::shared_ptr<std::vector<std::string>> errors, MasterCallback done);

  boost::asio::io_context& io_;
  SentinelOptions options_;
  size_t preferred_ = 0;  // index of the sentinel that answered last
};

}  // namespace sockudo::bus::redis
