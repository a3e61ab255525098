// File: ws_session.h
// One WebSocket connection on one worker, with the RFC 6455 framing of protocol/frame_codec.h:
// sends the 101 response, runs admission, owns the Connection, reads frames into it and writes
// its OutboundQueue (frames carry their own WebSocket header). Everything queued while a write is
// in flight (or while a read batch is being handled) leaves in one gather write, so a burst costs
// one send per socket, not one per message; a lone frame is one plain send.
//
// Memory is bounded whatever the client sends: the read buffer starts at 256 bytes and grows only
// with bytes that arrived (never to a length a frame header merely announces), and every byte of
// it past those 256, plus fragments being assembled, is charged to the node's inbound budget
// (max_inbound_buffer_mb; over it the socket is closed with 4100). Outbound, see
// outbound_queue.h. Implements connection::Transport. Every member runs on the worker thread; the
// session lives while an operation holds shared_from_this(). `Stream` is tcp::socket,
// ssl_stream<tcp::socket> or a Unix-domain socket.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/connection/admission.h"
#include "dataplane/connection/connection.h"
#include "dataplane/connection/transport.h"
#include "dataplane/ws/outbound_queue.h"
#include "dataplane/ws/send_ring.h"
#include "dataplane/ws/session_env.h"

namespace sockudo::dataplane::ws {

template <class Stream>
class WsSession : public std::enable_shared_from_this<WsSession<Stream>>,
                  public connection::Transport {
 public:
  // `leftover`: bytes that arrived after the upgrade request.
  WsSession(Stream&& stream, SessionEnv env, std::string app_key, std::optional<std::string> origin,
            std::string_view leftover);
  ~WsSession() override;

  // Sends the 101 response with `accept_key`, then admits or refuses the connection.
  void Start(const std::string& accept_key);

  // connection::Transport
  bool Write(const protocol::SharedFrame& frame) override;
  void Close(int code, std::string_view reason, protocol::SharedFrame farewell) override;
  void DiscardQueued() override;

 private:
  // The write in flight on the worker's SendRing; holds the session alive until it completes.
  struct RingWrite : SendRing::Op {
    std::shared_ptr<WsSession> keep;
    msghdr msg{};
    std::vector<iovec> iov;
    size_t total = 0;
  };
  static void OnRingDone(SendRing::Op* op, int result);

  void OnAdmitted(connection::Admission admission);
  void Kick();
  // Brings the node's outbound gauges up to date with this session's queue.
  void CountQueue();
  void Uncork();
  void StartWrite();
  void AsyncWrite();
  void OnRingWrite(int result);
  void OnWrite(boost::system::error_code ec);
  void DoRead();
  void OnRead(boost::system::error_code ec, size_t bytes);
  void ProcessFrames();
  void OnClientClose(std::string_view payload);
  void HandleMessage(std::string_view payload, bool text);
  // A WebSocket-level failure (1002, 1007, 1009): close frame only, no pusher:error.
  void Fail(int code, std::string_view reason);
  // The node's inbound budget cannot cover this socket's next message: 4100.
  void FailOverBudget();
  void Finish();
  void ReleaseReadSide();
  // Resizes the read buffer to `capacity` (>= rlen_) and settles the budget. False, changing
  // nothing, when the budget cannot cover it.
  bool ResizeReadBuffer(size_t capacity);
  // Charges (or releases) the budget for what the session holds now; false when over it.
  bool Settle();

  Stream stream_;
  SessionEnv env_;
  std::string app_key_;
  std::optional<std::string> origin_;
  std::unique_ptr<connection::Connection> connection_;

  // Read side.
  std::unique_ptr<char[]> rbuf_;
  size_t rcap_ = 0;
  size_t rlen_ = 0;
  size_t frame_needed_ = 0;  // total bytes of the frame being received, when its header is in
  std::string message_;      // a fragmented message being assembled
  bool in_message_ = false;
  bool message_text_ = false;
  bool reading_ = false;  // a read into rbuf_ is pending
  uint64_t max_payload_;
  size_t charged_ = 0;  // bytes charged to env_.node->inbound_buffers

  // Write side.
  OutboundQueue outbound_;
  std::vector<boost::asio::const_buffer> buffers_;
  int corked_ = 0;
  SendRing* ring_ = nullptr;  // null: write through Asio (TLS, or io_uring unavailable)
  RingWrite ring_write_;
  int64_t counted_messages_ = 0;  // what the node's outbound gauges hold for this session
  int64_t counted_bytes_ = 0;

  bool close_queued_ = false;  // our close frame is queued or sent
  bool close_written_ = false;
  bool close_received_ = false;
  bool failed_ = false;  // a WebSocket protocol error: close without waiting for the client
  bool finished_ = false;
  std::unique_ptr<boost::asio::steady_timer> close_timer_;
};

}  // namespace sockudo::dataplane::ws
