// File: worker.h
// One I/O thread: its io_context, the WorkerState of the connections it owns, and a one-second
// tick that drives their timers (server ping, pong timeout, authorized-connection deadline).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "dataplane/node/worker_state.h"

namespace sockudo::dataplane::server {

class Worker {
 public:
  explicit Worker(size_t id);
  ~Worker();

  void Start();
  // Lets run() return once no work is left; Join() waits for the thread.
  void ReleaseWork();
  void StopNow();
  void Join();

  boost::asio::io_context& io() { return io_; }
  node::WorkerState& state() { return state_; }

 private:
  void ScheduleTick();

  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  boost::asio::steady_timer tick_;
  node::WorkerState state_;
  std::thread thread_;
  bool ticking_ = true;
};

}  // namespace sockudo::dataplane::server
