// File: send_ring.h
// One io_uring per worker for outbound WebSocket bytes. A broadcast makes every local subscriber
// queue a send here; the ring submits all of them in one io_uring_enter once the handler that
// queued them returns, instead of one syscall per socket. On this kind of machine (loopback, a VM
// where each syscall is expensive) that halves the kernel cost per delivered message; `make bench`
// shows the effect. Sockets are registered in the ring's file table (Attach/Detach), which spares
// each send a file lookup. Sends that the kernel cannot finish at once (full socket buffer)
// complete later through an eventfd the worker's io_context watches.
//
// Create() returns null where io_uring is unavailable (old kernel, seccomp in a container); the
// sessions then write through Asio as before. Everything runs on the worker thread.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct io_uring_sqe;

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

  // Registers a socket with the ring, so its sends skip the per-operation file lookup. Call
  // Detach(fd) before closing it: until then the ring keeps the socket open. Without a free slot
  // (descriptor numbers past the table) the socket simply goes unregistered.
  void Attach(int fd);
  void Detach(int fd);

  // Queues send(fd, data, size, MSG_NOSIGNAL); the bytes stay valid until done() runs.
  void Send(int fd, const void* data, size_t size, Op* op);
  // Queues sendmsg(fd, msg, MSG_NOSIGNAL); `msg` and its buffers stay valid until done() runs.
  void SendMsg(int fd, const msghdr* msg, Op* op);
  // Makes a queued send finish soon (before its socket is closed): submits what is queued, then
  // asks the kernel to cancel `op` if it is still waiting for buffer space.
  void Cancel(Op* op);
  // Submits everything queued and runs the completions that are already there.
  void Flush();

  size_t in_flight() const { return in_flight_; }

 private:
  struct Impl;
  explicit SendRing(std::unique_ptr<Impl> impl);
  // A free submission slot for `op`, or null (op->done(-EAGAIN) has then run).
  io_uring_sqe* Slot(Op* op);
  void Queued(io_uring_sqe* sqe, int fd, Op* op);
  void Submit();
  void Reap();
  void WatchEvents();

  std::unique_ptr<Impl> impl_;
  size_t in_flight_ = 0;
  unsigned unsubmitted_ = 0;
  bool flush_posted_ = false;
};

}  // namespace sockudo::dataplane::ws
