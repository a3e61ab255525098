#include "common/bus/redis/sentinel.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sockudo::bus::redis {
namespace asio = boost::asio;

namespace {
constexpr int64_t kDefaultSentinelPort = 26379;

int64_t PortOf(const config::HostPort& hp) { return hp.port > 0 ? hp.port : kDefaultSentinelPort; }
}  // namespace

std::shared_ptr<Sentinel> Sentinel::Create(asio::io_context& io, SentinelOptions options) {
  return std::shared_ptr<Sentinel>(new Sentinel(io, std::move(options)));
}

Sentinel::Sentinel(asio::io_context& io, SentinelOptions options)
    : io_(io), options_(std::move(options)) {}

SentinelOptions Sentinel::OptionsFor(const config::RedisTarget& target) {
  SentinelOptions o;
  o.sentinels = target.sentinels;
  o.master_name = target.sentinel_name;
  o.username = target.sentinel_username;
  o.password = target.sentinel_password;
  o.tls = target.sentinel_tls.enabled;
  o.tls_options = target.sentinel_tls;
  return o;
}

std::string Sentinel::EndpointForLog(const config::RedisTarget& target) {
  std::string url = "redis+sentinel://";
  if (target.sentinel_password) absl::StrAppend(&url, ":***@");
  absl::StrAppend(
      &url, absl::StrJoin(target.sentinels, ",", [](std::string* out, const config::HostPort& hp) {
        absl::StrAppend(out, hp.host, ":", PortOf(hp));
      }));
  absl::StrAppend(&url, "/", target.sentinel_name, "/", target.db);
  if (target.password) absl::StrAppend(&url, "?password=***");
  return url;
}

void Sentinel::ResolveMaster(MasterCallback done) {
  if (options_.sentinels.empty()) {
    asio::post(io_, [done = std::move(done)] {
      done(absl::InvalidArgumentError("no sentinel configured"));
    });
    return;
  }
  Ask(0, std::make_shared<std::vector<std::string>>(), std::move(done));
}

void Sentinel::Ask(size_t attempt, std::shared_ptr<std::vector<std::string>> errors,
                   MasterCallback done) {
  const size_t n = options_.sentinels.size();
  if (attempt >= n) {
    done(absl::UnavailableError(absl::StrCat("no sentinel answered for master '",
                                             options_.master_name,
                                             "': ", absl::StrJoin(*errors, "; "))));
    return;
  }
  const size_t index = (preferred_ + attempt) % n;
  const config::HostPort& hp = options_.sentinels[index];
  ConnectionOptions co;
  co.host = hp.host;
  co.port = static_cast<uint16_t>(PortOf(hp));
  co.username = options_.username;
  co.password = options_.password;
  co.tls = options_.tls;
  co.tls_options = options_.tls_options;
  co.connect_timeout = options_.connect_timeout;
  co.reply_timeout = options_.connect_timeout;
  co.label = "redis sentinel";
  auto conn = RedisConnection::Create(io_, std::move(co));
  auto self = shared_from_this();
  auto next = [this, self, attempt, errors, done](std::string error) mutable {
    errors->push_back(std::move(error));
    Ask(attempt + 1, std::move(errors), std::move(done));
  };
  conn->Connect([this, self, conn, index, next, done](absl::Status st) mutable {
    if (!st.ok()) {
      next(std::string(st.message()));
      return;
    }
    conn->Command({"SENTINEL", "get-master-addr-by-name", options_.master_name},
                  [this, self, conn, index, next, done](absl::StatusOr<RedisReply> r) mutable {
                    conn->Close();
                    std::string where = absl::StrCat("sentinel ", conn->address(), ": ");
                    if (!r.ok()) {
                      next(absl::StrCat(where, r.status().message()));
                      return;
                    }
                    int port = 0;
                    if (r->is_nil()) {
                      next(absl::StrCat(where, "unknown master '", options_.master_name, "'"));
                      return;
                    }
                    if (!r->is_array() || r->elements.size() != 2 || !r->elements[0].is_string() ||
                        !absl::SimpleAtoi(r->elements[1].str, &port) || port <= 0 || port > 65535) {
                      next(absl::StrCat(where, "unexpected reply ", r->DebugString()));
                      return;
                    }
                    preferred_ = index;
                    done(config::HostPort{r->elements[0].str, port});
                  });
  });
}

void Sentinel::ConnectMaster(ConnectionOptions master,
                             std::chrono::steady_clock::time_point deadline,
                             ConnectionCallback done) {
  auto self = shared_from_this();
  ResolveMaster([this, self, master = std::move(master), deadline,
                 done = std::move(done)](absl::StatusOr<config::HostPort> addr) mutable {
    if (!addr.ok()) {
      done(addr.status());
      return;
    }
    ConnectionOptions options = master;
    options.host = addr->host;
    options.port = static_cast<uint16_t>(addr->port);
    auto conn = RedisConnection::Create(io_, std::move(options));
    conn->Connect([this, self, conn, master = std::move(master), deadline,
                   done = std::move(done)](absl::Status st) mutable {
      if (!st.ok()) {
        done(st);
        return;
      }
      conn->Command({"ROLE"}, [this, self, conn, master = std::move(master), deadline,
                               done = std::move(done)](absl::StatusOr<RedisReply> r) mutable {
        if (!r.ok()) {
          conn->Close();
          done(absl::Status(r.status().code(),
                            absl::StrCat(conn->options().label, " ", conn->address(),
                                         ": ROLE: ", r.status().message())));
          return;
        }
        std::string role = r->is_array() && !r->elements.empty() && r->elements[0].is_string()
                               ? absl::AsciiStrToLower(r->elements[0].str)
                               : r->DebugString();
        if (role == "master") {
          done(conn);
          return;
        }
        conn->Close();
        std::string why = absl::StrCat(conn->options().label, " ", conn->address(),
                                       " named by sentinel as master of '", options_.master_name,
                                       "' reports role ", role);
        if (std::chrono::steady_clock::now() + options_.role_retry_delay >= deadline) {
          done(absl::UnavailableError(why));
          return;
        }
        auto timer = std::make_shared<asio::steady_timer>(io_, options_.role_retry_delay);
        timer->async_wait([this, self, timer, master = std::move(master), deadline,
                           done = std::move(done)](boost::system::error_code ec) mutable {
          if (ec) return;
          ConnectMaster(std::move(master), deadline, std::move(done));
        });
      });
    });
  });
}

}  // namespace sockudo::bus::redis
