// File: ws_session.h
// One WebSocket connection on one worker: runs the admission checks, owns the Connection, reads
// messages into it and writes its bounded outbound queue, one frame at a time. Implements
// connection::Transport. Every member runs on the worker thread; the session lives while an
// operation holds shared_from_this(). `Stream` is tcp::socket, ssl_stream<tcp::socket> or a
// Unix-domain socket.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "dataplane/connection/connection.h"
#include "dataplane/connection/transport.h"
#include "dataplane/ws/session_env.h"

namespace sockudo::dataplane::ws {

template <class Stream>
class WsSession : public std::enable_shared_from_this<WsSession<Stream>>, public connection::Transport {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  WsSession(Stream&& stream, SessionEnv env, std::string app_key);
  ~WsSession() override;

  // Completes the upgrade of `request`, then admits or refuses the connection.
  void Run(Request request);

  // connection::Transport
  bool Write(const protocol::SharedFrame& frame) override;
  void Close(int code, std::string_view reason) override;
  void Defer(std::function<void()> fn) override;

 private:
  void OnAccept(boost::beast::error_code ec, std::optional<std::string> origin);
  void DoRead();
  void OnRead(boost::beast::error_code ec, size_t bytes);
  void DoWrite();
  void OnWrite(boost::beast::error_code ec);
  void DoClose();
  void Finish();

  boost::beast::websocket::stream<Stream> ws_;
  boost::beast::flat_buffer buffer_;
  SessionEnv env_;
  std::string app_key_;
  std::unique_ptr<connection::Connection> connection_;
  std::deque<protocol::SharedFrame> queue_;
  size_t queued_bytes_ = 0;
  size_t max_messages_;
  size_t max_bytes_;
  bool writing_ = false;
  bool close_requested_ = false;
  bool closing_ = false;
  bool finished_ = false;
  int close_code_ = 1000;
  std::string close_reason_;
};

}  // namespace sockudo::dataplane::ws
