// File: listener.h
// Accepts connections on a TCP port or a Unix socket and gives each to the next worker in turn;
// the connection then lives on that worker for its whole life. The acceptor runs on the
// io_context given at construction.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "dataplane/ws/session_env.h"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace sockudo::dataplane::ws {

struct WorkerSlot {
  boost::asio::io_context* io;
  node::WorkerState* state;
  SendRing* send_ring = nullptr;
};

class Listener {
 public:
  // `tls` is null for plain connections.
  Listener(boost::asio::io_context& accept_io, std::vector<WorkerSlot> workers,
           node::NodeContext& node, http::Router& router, boost::asio::ssl::context* tls,
           bool metrics_listener);
  ~Listener();

  absl::Status ListenTcp(const std::string& host, int port);
  // Removes a stale socket file first, then applies `mode` (octal string).
  absl::Status ListenUnix(const std::string& path, const std::string& mode);
  // The bound port (TCP), useful when 0 was asked for.
  int port() const;
  void Start();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sockudo::dataplane::ws
