// File: nats_server.h
// A real nats-server (/usr/sbin/nats-server) for tests: listens on 127.0.0.1 on a free port chosen
// at the first Start(), optionally with a user/password or a token, and keeps that port across
// Stop()/Start() so clients can reconnect to it. Start() returns once the server greets a TCP
// client with its INFO line. The destructor stops exactly the process it started (by PID) and
// removes its temporary directory (which holds the server log, and whatever a test puts there).
// Owned and called by one test thread.
//
//   testutil::NatsServer server;
//   ASSERT_TRUE(server.Start().ok());
//   config.servers = {server.url()};
//   server.Stop();   // clients see the outage
//   server.Start();  // same port
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
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

extern char** environ;

namespace sockudo::testutil {

class NatsServer {
 public:
  struct Options {
    std::optional<std::string> user;      // --user (needs password)
    std::optional<std::string> password;  // --pass
    std::optional<std::string> token;     // --auth
    std::vector<std::string> extra_args;  // e.g. {"--tls", "--tlscert", path, "--tlskey", path}
    std::string binary = "/usr/sbin/nats-server";
  };

  NatsServer() : NatsServer(Options{}) {}
  explicit NatsServer(Options options) : options_(std::move(options)) {
    char pattern[] = "/tmp/sockudo-nats-XXXXXX";
    if (mkdtemp(pattern) != nullptr) dir_ = pattern;
  }
  ~NatsServer() {
    Stop();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // Starts the server and waits (up to `timeout`) until it accepts clients. The first call picks
  // a free port (retrying a few times if another process takes it first); later calls reuse it.
  absl::Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (pid_ > 0) return absl::FailedPreconditionError("nats-server already running");
    if (dir_.empty()) return absl::InternalError("no temporary directory");
    const bool pick_port = port_ == 0;
    absl::Status status;
    for (int attempt = 0; attempt < (pick_port ? 5 : 1); ++attempt) {
      if (pick_port) {
        port_ = FreePort();
        if (port_ == 0) return absl::InternalError("no free loopback port");
      }
      status = StartOnce(timeout);
      if (status.ok()) return status;
    }
    if (pick_port) port_ = 0;
    return status;
  }

  // Stops the server (SIGTERM, SIGKILL after `timeout`) and reaps it. No-op when not running.
  void Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    if (!Reap(timeout)) {
      kill(pid_, SIGKILL);
      Reap(std::chrono::seconds(10));
    }
    pid_ = -1;
  }

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  std::string log_path() const { return dir_ + "/nats-server.log"; }
  std::string Log() const {
    std::ifstream in(log_path());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // A loopback port nobody listened on a moment ago (bind to port 0, read it, close).
  static int FreePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
  }

 private:
  absl::Status StartOnce(std::chrono::milliseconds timeout) {
    std::vector<std::string> args = {options_.binary,       "-a", "127.0.0.1", "-p",
                                     std::to_string(port_), "-l", log_path()};
    if (options_.user) args.insert(args.end(), {"--user", *options_.user});
    if (options_.password) args.insert(args.end(), {"--pass", *options_.password});
    if (options_.token) args.insert(args.end(), {"--auth", *options_.token});
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    const std::string out = dir_ + "/stdout.log";
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      return absl::InternalError("cannot start " + options_.binary + ": " + std::strerror(rc));
    }
    pid_ = pid;

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int wstatus = 0;
      if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::UnavailableError("nats-server exited at startup (port " +
                                      std::to_string(port_) + "): " + Log());
      }
      if (Greets(deadline)) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval, not a wait
    }
    Stop();
    return absl::DeadlineExceededError("nats-server did not accept clients on port " +
                                       std::to_string(port_));
  }

  // True when a TCP client on the port receives the server's "INFO " greeting before `deadline`.
  bool Greets(std::chrono::steady_clock::time_point deadline) const {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    bool ok = false;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      std::string got;
      char buf[256];
      while (got.size() < 5) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        const ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      ok = got.rfind("INFO ", 0) == 0;
    }
    close(fd);
    return ok;
  }

  // Waits up to `timeout` for the child to exit; true when reaped.
  bool Reap(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int wstatus = 0;
      const pid_t r = waitpid(pid_, &wstatus, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval
    }
    return false;
  }

  Options options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sockudo::testutil
