// File: ws_session.h
// One WebSocket connection on one worker, with the RFC 6455 framing of frame_codec.h: sends the
// 101 response, runs admission, owns the Connection, reads frames into it and writes its bounded
// outbound queue of SharedFrames (which carry their own WebSocket header). Everything queued while
// a write is in flight (or while a read batch is being handled) leaves in one gather write, so a
// burst costs one send per socket, not one per message; a lone frame is one plain send. Implements
// connection::Transport. Every member runs on the worker thread; the session lives while an
// operation holds shared_from_this(). `Stream` is tcp::socket, ssl_stream<tcp::socket> or a
// Unix-domain socket.
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

#include "dataplane/connection/connection.h"
#include "dataplane/connection/transport.h"
#include "dataplane/ws/send_ring.h"
#include "dataplane/ws/session_env.h"

namespace sockudo::dataplane::ws {

template <class Stream>
class WsSession : public std::enable_shared_from_this<WsSession<Stream>>,
                  public connection::Transport {
 public:
  // `leftover`: bytes that arrived after the upgrade request.
  WsSession(Stream&& stream, SessionEnv env, std::string app_key, std::optional<std::string> origin,
            std::string leftover);
  ~WsSession() override;

  // Sends the 101 response with `accept_key`, then admits or refuses the connection.
  void Start(const std::string& accept_key);

  // connection::Transport
  bool Write(const protocol::SharedFrame& frame) override;
  void Close(int code, std::string_view reason) override;
  void Defer(std::function<void()> fn) override;

 private:
  // The write in flight on the worker's SendRing; holds the session alive until it completes.
  struct RingWrite : SendRing::Op {
    std::shared_ptr<WsSession> keep;
    msghdr msg{};
    std::vector<iovec> iov;
    size_t total = 0;
  };
  static void OnRingDone(SendRing::Op* op, int result);

  void Enqueue(protocol::SharedFrame frame);
  void Uncork();
  void StartWrite();
  void AsyncWrite();
  void OnRingWrite(int result);
  void OnWrite(boost::system::error_code ec);
  void DoRead();
  void OnRead(boost::system::error_code ec, size_t bytes);
  void ProcessFrames();
  void HandleMessage(std::string_view payload);
  void Fail(int code, std::string_view reason);
  void Finish();
  void Reserve(size_t capacity);

  Stream stream_;
  SessionEnv env_;
  std::string app_key_;
  std::optional<std::string> origin_;
  std::unique_ptr<connection::Connection> connection_;

  // Read side: a buffer that starts small and grows only for large messages.
  std::unique_ptr<char[]> rbuf_;
  size_t rcap_ = 0;
  size_t rlen_ = 0;
  std::string message_;  // a fragmented message being assembled
  bool in_message_ = false;
  uint64_t max_payload_;

  // Write side.
  std::vector<protocol::SharedFrame> pending_;
  std::vector<protocol::SharedFrame> inflight_;
  std::vector<boost::asio::const_buffer> buffers_;
  size_t queued_messages_ = 0;
  size_t queued_bytes_ = 0;
  size_t max_messages_;
  size_t max_bytes_;
  bool writing_ = false;
  int corked_ = 0;
  SendRing* ring_ = nullptr;  // null: write through Asio (TLS, or io_uring unavailable)
  RingWrite ring_write_;

  bool close_queued_ = false;  // our close frame is queued or sent
  bool close_written_ = false;
  bool close_received_ = false;
  bool finished_ = false;
  std::unique_ptr<boost::asio::steady_timer> close_timer_;
};

}  // namespace sockudo::dataplane::ws
