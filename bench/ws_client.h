// File: ws_client.h
// One Pusher WebSocket client connection of the load generator: connects, waits for
// pusher:connection_established, then hands every text message to a callback. Single-threaded:
// all calls and callbacks run on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sockudo::bench {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 6001;
};

class WsClient : public std::enable_shared_from_this<WsClient> {
 public:
  using OnMessage = std::function<void(WsClient&, std::string_view)>;

  WsClient(boost::asio::io_context& io, Endpoint endpoint, std::string app_key,
           OnMessage on_message);

  // `done(true)` once connection_established arrived, `done(false)` on any failure.
  void Connect(std::function<void(bool)> done);
  void Send(std::string text);
  void Close();
  // Stops reading after the message being read: what the server sends then waits in its queue.
  void Pause() { paused_ = true; }

  const std::string& socket_id() const { return socket_id_; }
  bool open() const { return open_; }
  int index = 0;  // free for the scenario

 private:
  void Read();
  void Write();

  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::flat_buffer buffer_;
  Endpoint endpoint_;
  std::string app_key_;
  OnMessage on_message_;
  std::function<void(bool)> on_connected_;
  std::deque<std::string> queue_;
  std::string socket_id_;
  bool open_ = false;
  bool writing_ = false;
  bool paused_ = false;
};

}  // namespace sockudo::bench
