#include "dataplane/ws/send_ring.h"

#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "common/base/logging.h"

namespace sockudo::dataplane::ws {

namespace net = boost::asio;

namespace {
constexpr rlim_t kMaxFileSlots = 65536;
}  // namespace

struct SendRing::Impl {
  explicit Impl(net::io_context& context) : io(context), events(context) {}
  ~Impl() {
    if (initialized) io_uring_queue_exit(&ring);
  }

  net::io_context& io;
  io_uring ring{};
  bool initialized = false;
  net::posix::stream_descriptor events;  // eventfd signalled for completions after submission
  uint64_t event_count = 0;
  std::vector<std::pair<Op*, int>> completed;
  std::vector<bool> attached;  // by descriptor number: registered in the ring's file table
  bool reaping = false;
};

std::unique_ptr<SendRing> SendRing::Create(net::io_context& io, std::string* why_not,
                                           unsigned entries) {
  auto impl = std::make_unique<Impl>(io);
  io_uring_params params{};
  params.flags = IORING_SETUP_SUBMIT_ALL;
  int rc = io_uring_queue_init_params(entries, &impl->ring, &params);
  if (rc == -EINVAL) {  // a kernel older than 5.18 does not know SUBMIT_ALL
    params = {};
    rc = io_uring_queue_init_params(entries, &impl->ring, &params);
  }
  if (rc < 0) {
    *why_not = std::string("io_uring_setup: ") + std::strerror(-rc);
    return nullptr;
  }
  impl->initialized = true;
  // Without NODROP (Linux 5.5) completions can be lost when the queue overflows.
  const int efd =
      (params.features & IORING_FEAT_NODROP) ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) : -1;
  if (efd < 0 || io_uring_register_eventfd_async(&impl->ring, efd) < 0) {
    if (efd >= 0) ::close(efd);
    *why_not = "io_uring without NODROP or eventfd registration";
    return nullptr;
  }
  impl->events.assign(efd);
  // A sparse file table indexed by descriptor number, as large as the open-file limit allows
  // (capped: the kernel allocates it up front). Without one, sends look their socket up each time.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  const auto slots = static_cast<unsigned>(std::min<rlim_t>(files.rlim_cur, kMaxFileSlots));
  if (io_uring_register_files_sparse(&impl->ring, slots) == 0) impl->attached.resize(slots);
  std::unique_ptr<SendRing> ring(new SendRing(std::move(impl)));
  ring->WatchEvents();
  return ring;
}

SendRing::SendRing(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SendRing::~SendRing() {
  // The worker's loop has stopped. Cancel whatever still waits for socket space and hand every
  // operation back, so the sessions it keeps alive are released; bounded to one second.
  if (in_flight_ > 0) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&impl_->ring)) {
      io_uring_prep_cancel(sqe, nullptr, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data(sqe, nullptr);
    }
    io_uring_submit(&impl_->ring);
    for (int i = 0; i < 100 && in_flight_ > 0; ++i) {
      io_uring_cqe* cqe = nullptr;
      __kernel_timespec wait{.tv_sec = 0, .tv_nsec = 10'000'000};
      io_uring_wait_cqe_timeout(&impl_->ring, &cqe, &wait);
      Reap();
    }
  }
  boost::system::error_code ignored;
  impl_->events.close(ignored);
}

io_uring_sqe* SendRing::Slot(Op* op) {
  io_uring_sqe* sqe = io_uring_get_sqe(&impl_->ring);
  if (sqe == nullptr) {  // the submission queue is full: hand it to the kernel first
    Submit();
    sqe = io_uring_get_sqe(&impl_->ring);
    if (sqe == nullptr) op->done(op, -EAGAIN);  // the caller falls back to a plain write
  }
  return sqe;
}

void SendRing::Attach(int fd) {
  auto& attached = impl_->attached;
  if (fd < 0 || static_cast<size_t>(fd) >= attached.size()) return;
  if (io_uring_register_files_update(&impl_->ring, static_cast<unsigned>(fd), &fd, 1) == 1) {
    attached[fd] = true;
  }
}

void SendRing::Detach(int fd) {
  auto& attached = impl_->attached;
  if (fd < 0 || static_cast<size_t>(fd) >= attached.size() || !attached[fd]) return;
  int none = -1;
  const int rc = io_uring_register_files_update(&impl_->ring, static_cast<unsigned>(fd), &none, 1);
  // Only a kernel out of memory refuses this; the ring then holds the socket open until it exits.
  if (rc != 1)
    base::Logger("server")->error("io_uring file unregister failed: {}", std::strerror(-rc));
  attached[fd] = false;
}

void SendRing::Send(int fd, const void* data, size_t size, Op* op) {
  io_uring_sqe* sqe = Slot(op);
  if (sqe == nullptr) return;
  io_uring_prep_send(sqe, fd, data, size, MSG_NOSIGNAL);
  Queued(sqe, fd, op);
}

void SendRing::SendMsg(int fd, const msghdr* msg, Op* op) {
  io_uring_sqe* sqe = Slot(op);
  if (sqe == nullptr) return;
  io_uring_prep_sendmsg(sqe, fd, msg, MSG_NOSIGNAL);
  Queued(sqe, fd, op);
}

void SendRing::Queued(io_uring_sqe* sqe, int fd, Op* op) {
  // A registered socket is named by its slot, which is its descriptor number.
  if (static_cast<size_t>(fd) < impl_->attached.size() && impl_->attached[fd]) {
    io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
  }
  io_uring_sqe_set_data(sqe, op);
  op->queued = true;
  ++in_flight_;
  ++unsubmitted_;
  if (!flush_posted_) {
    // Everything queued by the handler that is running now goes out in one submission.
    flush_posted_ = true;
    net::post(impl_->io, [this] {
      flush_posted_ = false;
      Flush();
    });
  }
}

void SendRing::Cancel(Op* op) {
  if (!op->queued) return;
  io_uring_sqe* sqe = io_uring_get_sqe(&impl_->ring);
  if (sqe == nullptr) {
    Submit();
    sqe = io_uring_get_sqe(&impl_->ring);
  }
  if (sqe != nullptr) {
    io_uring_prep_cancel(sqe, op, 0);
    io_uring_sqe_set_data(sqe, nullptr);
    ++unsubmitted_;
  }
  Submit();
}

void SendRing::Flush() {
  if (unsubmitted_ > 0) Submit();
  Reap();
}

void SendRing::Submit() {
  for (int attempt = 0; unsubmitted_ > 0 && attempt < 8; ++attempt) {
    const int rc = io_uring_submit(&impl_->ring);
    if (rc >= 0) {
      unsubmitted_ -= std::min<unsigned>(static_cast<unsigned>(rc), unsubmitted_);
      continue;
    }
    if (rc == -EBUSY || rc == -EAGAIN || rc == -EINTR) {
      Reap();  // completions waiting to be read block further submissions
      continue;
    }
    base::Logger("server")->error("io_uring submit failed: {}", std::strerror(-rc));
    break;
  }
  if (unsubmitted_ > 0 && !flush_posted_) {
    flush_posted_ = true;
    net::post(impl_->io, [this] {
      flush_posted_ = false;
      Flush();
    });
  }
}

void SendRing::Reap() {
  if (impl_->reaping) return;  // a completion handler queued more work; the outer loop sees it
  impl_->reaping = true;
  for (;;) {
    auto& completed = impl_->completed;
    completed.clear();
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&impl_->ring, head, cqe) {
      ++seen;
      if (auto* op = static_cast<Op*>(io_uring_cqe_get_data(cqe))) {
        completed.emplace_back(op, cqe->res);
      }
    }
    if (seen == 0) break;
    io_uring_cq_advance(&impl_->ring, seen);
    // Handlers may queue sends or cancel (both only touch the submission side); a nested Reap
    // returns at once, so `completed` does not change under this loop.
    for (auto [op, result] : completed) {
      op->queued = false;
      --in_flight_;
      op->done(op, result);
    }
  }
  impl_->reaping = false;
}

void SendRing::WatchEvents() {
  impl_->events.async_read_some(net::buffer(&impl_->event_count, sizeof impl_->event_count),
                                [this](boost::system::error_code ec, size_t) {
                                  if (ec) return;  // closed: the ring is going away
                                  Reap();
                                  WatchEvents();
                                });
}

}  // namespace sockudo::dataplane::ws
