// File: send_ring.h
// One io_uring per worker for outbound WebSocket bytes. A broadcast makes every local subscriber
// queue a gather send here; the ring submits all of them in one io_uring_enter once the handler
// that queued them returns, instead of one sendmsg syscall per socket. On this kind of machine
// (loopback, a VM where each syscall is expensive) that halves the kernel cost per delivered
// message; `make bench` shows the effect. Sends that the kernel cannot finish at once (full socket
// buffer) complete later through an eventfd the worker's io_context watches.
//
// Create() returns null where io_uring is unavailable (old kernel, seccomp in a container); the
// sessions then write through Asio as before. Everything runs on the worker thread.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace sockudo::dataplane::ws {

class SendRing {
 public:
  // One outstanding send. `done(result)` runs on the worker thread with the byte count or a
  // negative errno (-ECANCELED after Cancel).
  struct Op {
    void (*done)(Op* op, int result) = nullptr;
    bool queued = false;  // submitted or about to be; cleared before done() runs
  };

  // Null, with the reason in `why_not`, where io_uring cannot be used.
  static std::unique_ptr<SendRing> Create(boost::asio::io_context& io, std::string* why_not,
                                          unsigned entries = 4096);
  ~SendRing();
  SendRing(const SendRing&) = delete;
  SendRing& operator=(const SendRing&) = delete;

  // Queues sendmsg(fd, msg, MSG_NOSIGNAL); `msg` and its buffers stay valid until done() runs.
  void Send(int fd, const msghdr* msg, Op* op);
  // Makes a queued send finish soon (before its socket is closed): submits what is queued, then
  // asks the kernel to cancel `op` if it is still waiting for buffer space.
  void Cancel(Op* op);
  // Submits everything queued and runs the completions that are already there.
  void Flush();

  size_t in_flight() const { return in_flight_; }

 private:
  struct Impl;
  explicit SendRing(std::unique_ptr<Impl> impl);
  void Submit();
  void Reap();
  void WatchEvents();

  std::unique_ptr<Impl> impl_;
  size_t in_flight_ = 0;
  unsigned unsubmitted_ = 0;
  bool flush_posted_ = false;
};

}  // namespace sockudo::dataplane::ws
