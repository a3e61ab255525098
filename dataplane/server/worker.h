// File: worker.h
// One I/O thread: its io_context, the WorkerState of the connections it owns, and a one-second
// tick that drives their timers (server ping, pong timeout, authorized-connection deadline).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "dataplane/node/worker_state.h"
#include "dataplane/ws/send_ring.h"

namespace sockudo::dataplane::server {

class Worker {
 public:
  explicit Worker(size_t id);
  ~Worker();

  // Gives the worker an io_uring for WebSocket writes; false (reason in `why_not`) where the
  // kernel or a sandbox refuses it. Call before Start().
  bool EnableSendRing(std::string* why_not);
  void Start();
  // Lets run() return once no work is left; Join() waits for the thread.
  void ReleaseWork();
  void StopNow();
  void Join();

  boost::asio::io_context& io() { return io_; }
  node::WorkerState& state() { return state_; }
  ws::SendRing* send_ring() { return send_ring_.get(); }

 private:
  void ScheduleTick();

  // Not concurrency hint 1: with it Asio keeps what a worker posts to itself in a thread-private
  // queue until the running handler returns, so a closure this worker posted while answering a
  // publish could run after one another worker posted for the next publish (events out of order,
  // tests/integration/backpressure.test.js). The default hint queues every post in one FIFO.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_SAFE};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  boost::asio::steady_timer tick_;
  node::WorkerState state_;
  std::thread thread_;
  bool ticking_ = true;
  // Last, so it goes first: its destructor hands in-flight writes back to their sessions while
  // the io_context and the worker state still exist.
  std::unique_ptr<ws::SendRing> send_ring_;
};

}  // namespace sockudo::dataplane::server
