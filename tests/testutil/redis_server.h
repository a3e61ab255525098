// File: redis_server.h
// Real Redis processes for tests, on 127.0.0.1 and free ports chosen at the first Start():
//   RedisServer    `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no
//                  --daemonize no` [--requirepass], optionally with a TLS port (self-signed
//                  certificate for IP 127.0.0.1 made with the openssl tool) or as a replica.
//                  Stop / Kill / Pause (SIGSTOP) / Resume, and Start again on the same port.
//   RedisSentinel  `redis-server <dir>/sentinel.conf --sentinel` monitoring one master.
// Start() returns once the process answers PING (polled, bounded), or an error with the tail of
// its log when it exits or stays silent. Command() runs one command on a fresh blocking hiredis
// connection (AUTH first when the server has a password) and returns the reply copied out.
// The destructors stop exactly the process they started (by PID) and remove their temporary
// directory. Owned and called by one test thread. Header-only, so the unit-test binary needs
// nothing but a link to sockudo::bus_redis (which brings hiredis).
//
//   testutil::RedisServer redis;
//   ASSERT_TRUE(redis.Start().ok());
//   target.port = redis.port();
//   redis.Kill();              // clients see the outage
//   ASSERT_TRUE(redis.Start().ok());  // same port
#pragma once

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/bus/redis/blocking_pool.h"
#include "common/bus/redis/blocking_redis.h"
#include "common/bus/redis/redis_connection.h"

extern char** environ;

namespace sockudo::testutil {
namespace redis_internal {

// A free TCP port on 127.0.0.1 at the time of the call (0 when none).
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// One command on a new blocking connection to 127.0.0.1:port (AUTH first with `password`); a
// server error reply is an UNKNOWN status with the server's text.
inline absl::StatusOr<bus::redis::RedisReply> Command(int port,
                                                      const std::optional<std::string>& password,
                                                      const std::vector<std::string>& args) {
  config::RedisTarget target;
  target.port = port;
  target.password = password;
  auto c = bus::redis::DialBlocking(target, std::chrono::seconds(2), "test redis");
  if (!c.ok()) return c.status();
  absl::StatusOr<bus::redis::RedisReply> r = bus::redis::CommandBlocking(*c, args);
  redisFree(*c);
  if (r.ok() && r->type == bus::redis::RedisReply::Type::kError) {
    return absl::UnknownError(r->str);
  }
  return r;
}

// One child process, started with posix_spawn, output to `log`; stopped by its PID only.
class Child {
 public:
  ~Child() { Kill(); }

  absl::Status Spawn(const std::vector<std::string>& args, const std::string& log) {
    if (pid_ > 0) return absl::FailedPreconditionError("already running");
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
      return absl::InternalError(absl::StrCat("posix_spawn ", args[0], ": ", std::strerror(rc)));
    pid_ = pid;
    return absl::OkStatus();
  }

  // True while the child has not exited (reaps it when it has).
  bool Alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  // SIGTERM, up to `grace` to exit, then SIGKILL.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5)) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (Alive() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Kill();
  }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Blocks until the child exits; returns its wait status.
  int Wait() {
    int status = 0;
    if (pid_ > 0) ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  void Signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A new directory /tmp/sockudo-<what>-XXXXXX ("" when it cannot be made).
inline std::string MakeTempDir(const char* what) {
  std::string pattern = absl::StrCat("/tmp/sockudo-", what, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

// Removes `dir` (made by MakeTempDir) and everything in it; "" is a no-op.
inline void RemoveTempDir(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

inline std::string Tail(const std::string& path, size_t bytes = 2000) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

// Polls PING until it answers, the child exits, or `timeout` passes.
inline absl::Status WaitForPing(Child& child, int port, const std::optional<std::string>& password,
                                std::chrono::milliseconds timeout, const std::string& log) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  absl::Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!child.Alive()) {
      return absl::UnavailableError(
          absl::StrCat("redis-server on port ", port, " exited: ", Tail(log)));
    }
    auto r = Command(port, password, {"PING"});
    if (r.ok()) return absl::OkStatus();
    last = r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "redis-server on port ", port, " did not answer PING: ", last.message(), "\n", Tail(log)));
}

inline absl::Status RunTool(const std::vector<std::string>& args, const std::string& log) {
  Child child;
  if (auto st = child.Spawn(args, log); !st.ok()) return st;
  int status = child.Wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(args[0], " failed: ", Tail(log)));
  }
  return absl::OkStatus();
}

// A self-signed certificate for IP 127.0.0.1 and "localhost" in `cert`, its key in `key` (the
// openssl tool; its output goes to <dir>/openssl.log).
inline absl::Status MakeCertificate(const std::string& dir, const std::string& cert,
                                    const std::string& key) {
  return RunTool(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
       "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"},
      dir + "/openssl.log");
}

// What every test redis-server runs with: `binary` on 127.0.0.1:`port` in the foreground, no
// persistence, no shutdown wait, no diskless-sync delay, files in `dir`.
inline std::vector<std::string> ServerArgs(const std::string& binary, int port,
                                           const std::string& dir) {
  return {binary,
          "--port",
          std::to_string(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--daemonize",
          "no",
          "--shutdown-timeout",
          "0",
          "--repl-diskless-sync-delay",
          "0",
          "--dir",
          dir};
}

// Also listen with TLS on `tls_port` (certificate `cert`, which is its own CA, and `key`); no
// client certificate is asked for.
inline void AddTlsArgs(std::vector<std::string>& args, int tls_port, const std::string& cert,
                       const std::string& key) {
  args.insert(args.end(),
              {"--tls-port", std::to_string(tls_port), "--tls-cert-file", cert, "--tls-key-file",
               key, "--tls-ca-cert-file", cert, "--tls-auth-clients", "no"});
}

}  // namespace redis_internal

class RedisServer {
 public:
  struct Options {
    std::optional<std::string> password;  // --requirepass
    // Also listen with TLS on tls_port() (self-signed certificate for IP 127.0.0.1 and
    // "localhost", written to ca_path()); clients need no certificate.
    bool tls = false;
    std::vector<std::string> extra_args;  // e.g. {"--replicaof", "127.0.0.1", "6380"}
    std::string binary = "/usr/bin/redis-server";

    static Options WithPassword(std::string password) {
      Options o;
      o.password = std::move(password);
      return o;
    }
    static Options WithTls() {
      Options o;
      o.tls = true;
      return o;
    }
    static Options ReplicaOf(int master_port) {
      Options o;
      o.extra_args = {"--replicaof", "127.0.0.1", std::to_string(master_port)};
      return o;
    }
  };

  RedisServer() : RedisServer(Options{}) {}
  explicit RedisServer(Options options)
      : options_(std::move(options)), dir_(redis_internal::MakeTempDir("redis")) {}
  ~RedisServer() {
    child_.Stop();
    redis_internal::RemoveTempDir(dir_);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server and waits until it answers PING. The first call picks free ports
  // (retrying when another process takes one first); later calls reuse them.
  absl::Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (dir_.empty()) return absl::InternalError("no temporary directory");
    if (child_.Alive()) return absl::FailedPreconditionError("redis-server already running");
    if (options_.tls && !std::filesystem::exists(cert_path())) {
      absl::Status st = redis_internal::MakeCertificate(dir_, cert_path(), key_path());
      if (!st.ok()) return st;
    }
    const bool pick = port_ == 0;
    absl::Status status;
    for (int attempt = 0; attempt < (pick ? 5 : 1); ++attempt) {
      if (pick) {
        port_ = redis_internal::FreePort();
        if (options_.tls) tls_port_ = redis_internal::FreePort();
      }
      std::vector<std::string> args = redis_internal::ServerArgs(options_.binary, port_, dir_);
      if (options_.password) args.insert(args.end(), {"--requirepass", *options_.password});
      if (options_.tls) redis_internal::AddTlsArgs(args, tls_port_, cert_path(), key_path());
      args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
      status = child_.Spawn(args, log_path());
      if (!status.ok()) return status;
      status = redis_internal::WaitForPing(child_, port_, options_.password, timeout, log_path());
      if (status.ok()) return status;
      child_.Kill();
    }
    if (pick) port_ = 0;
    return status;
  }

  void Stop() { child_.Stop(); }            // SIGTERM (then SIGKILL), waits for the exit
  void Kill() { child_.Kill(); }            // SIGKILL, waits for the exit
  void Pause() { child_.Signal(SIGSTOP); }  // the server stops answering; sockets stay open
  void Resume() { child_.Signal(SIGCONT); }
  bool running() { return child_.Alive(); }

  absl::StatusOr<bus::redis::RedisReply> Command(const std::vector<std::string>& args) const {
    return redis_internal::Command(port_, options_.password, args);
  }

  // A BlockingRedisPool (rate limiter, cache, occupancy counts) pointed at this server.
  bus::redis::BlockingPoolOptions PoolOptions(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(500)) const {
    bus::redis::BlockingPoolOptions o;
    config::RedisTarget t;
    t.port = port_;
    t.password = options_.password;
    o.endpoints = {t};
    o.timeout = timeout;
    return o;
  }

  int port() const { return port_; }
  int tls_port() const { return tls_port_; }
  pid_t pid() const { return child_.pid(); }
  const std::string& dir() const { return dir_; }
  std::string ca_path() const { return cert_path(); }
  std::string log_path() const { return dir_ + "/redis.log"; }

 private:
  std::string cert_path() const { return dir_ + "/cert.pem"; }
  std::string key_path() const { return dir_ + "/key.pem"; }

  Options options_;
  std::string dir_;
  int port_ = 0;
  int tls_port_ = 0;
  redis_internal::Child child_;
};

// One Sentinel monitoring `master_name` at 127.0.0.1:master_port with quorum 1.
class RedisSentinel {
 public:
  RedisSentinel() : dir_(redis_internal::MakeTempDir("sentinel")) {}
  ~RedisSentinel() {
    child_.Stop();
    redis_internal::RemoveTempDir(dir_);
  }
  RedisSentinel(const RedisSentinel&) = delete;
  RedisSentinel& operator=(const RedisSentinel&) = delete;

  absl::Status Start(int master_port, const std::string& master_name = "mymaster",
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (dir_.empty()) return absl::InternalError("no temporary directory");
    absl::Status status;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = redis_internal::FreePort();
      const std::string conf = dir_ + "/sentinel.conf";
      {
        std::ofstream out(conf, std::ios::trunc);
        out << "port " << port_ << "\n"
            << "bind 127.0.0.1\n"
            << "daemonize no\n"
            << "dir " << dir_ << "\n"
            << "sentinel monitor " << master_name << " 127.0.0.1 " << master_port << " 1\n"
            << "sentinel down-after-milliseconds " << master_name << " 2000\n"
            << "sentinel failover-timeout " << master_name << " 10000\n"
            << "sentinel parallel-syncs " << master_name << " 1\n";
      }
      status = child_.Spawn({"/usr/bin/redis-server", conf, "--sentinel"}, log_path());
      if (!status.ok()) return status;
      status = redis_internal::WaitForPing(child_, port_, std::nullopt, timeout, log_path());
      if (status.ok()) return status;
      child_.Kill();
    }
    port_ = 0;
    return status;
  }

  absl::StatusOr<bus::redis::RedisReply> Command(const std::vector<std::string>& args) const {
    return redis_internal::Command(port_, std::nullopt, args);
  }

  void Stop() { child_.Stop(); }
  int port() const { return port_; }
  std::string log_path() const { return dir_ + "/sentinel.log"; }

 private:
  std::string dir_;
  int port_ = 0;
  redis_internal::Child child_;
};

}  // namespace sockudo::testutil
